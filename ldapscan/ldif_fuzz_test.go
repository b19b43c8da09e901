package ldapscan

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzReadLDIF feeds arbitrary exports to the reader: it must never panic,
// and what it accepts must be a consistent inventory, read the same way
// twice. Seeds: testdata/ldif/*.ldif and testdata/fuzz/FuzzReadLDIF.
func FuzzReadLDIF(f *testing.F) {
	files, _ := filepath.Glob("testdata/ldif/*.ldif")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ReadLDIF(bytes.NewReader(data), "fuzz")
		if err != nil {
			if res != nil {
				t.Fatal("error with a result")
			}
			return
		}
		for _, o := range res.Snapshot.Objects {
			if len(o.SPNs) == 0 {
				t.Fatalf("object without SPNs: %+v", o)
			}
		}
		if len(res.Warnings) > maxLDIFWarnings {
			t.Fatalf("%d warnings kept, limit %d", len(res.Warnings), maxLDIFWarnings)
		}
		if _, err := json.Marshal(res); err != nil {
			t.Fatal(err)
		}
		again, err := ReadLDIF(bytes.NewReader(data), "fuzz")
		if err != nil || !reflect.DeepEqual(res, again) {
			t.Fatalf("second read differs: %v", err)
		}
	})
}
