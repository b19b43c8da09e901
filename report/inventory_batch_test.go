package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

// TestInventoryJSONBatches: encoded in batches on every core, the inventory
// is byte for byte json.MarshalIndent of the sorted objects, whatever the
// number of batches (issue 9).
func TestInventoryJSONBatches(t *testing.T) {
	for _, n := range []int{0, 1, 511, 512, 513, 1300} {
		snap := &inventory.Snapshot{}
		for i := range n {
			o := inventory.Object{DN: fmt.Sprintf("CN=a%d,DC=x", n-i), Domain: "x", SAMAccountName: fmt.Sprintf("a%05d<&>", (i*7919)%n), Kind: inventory.KindUser}
			if i%3 == 0 {
				o.SPNs = []string{fmt.Sprintf("HTTP/h%d", i)}
			}
			snap.Objects = append(snap.Objects, new(o))
		}
		var got bytes.Buffer
		if err := writeInventoryJSON(&got, snap); err != nil {
			t.Fatal(err)
		}
		objs := []inventory.Object{}
		for _, o := range sortedObjects(snap) {
			c := *o
			c.SPNs = nonNil(c.SPNs)
			objs = append(objs, c)
		}
		want, err := json.MarshalIndent(objs, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n')
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("%d objects: batched output differs from json.MarshalIndent", n)
		}
	}
}
