// Package golden compares test output with golden files under testdata/,
// and rewrites them when the tests run with -update. Test code only.
package golden

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// Compare fails t when got differs from the file at path, or rewrites the
// file under -update.
func Compare(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if string(got) != string(want) {
		t.Errorf("output differs from %s; if the change is intended, run go test -run %s -update and review the diff:\n%s",
			path, t.Name(), diffLines(string(want), string(got)))
	}
}

// diffLines lists the lines only in want (-) or only in got (+), in order.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	inWant, inGot := map[string]int{}, map[string]int{}
	for _, l := range w {
		inWant[l]++
	}
	for _, l := range g {
		inGot[l]++
	}
	var b strings.Builder
	for _, l := range w {
		if inGot[l] == 0 {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	for _, l := range g {
		if inWant[l] == 0 {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	return b.String()
}
