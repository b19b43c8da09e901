package daemon

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/ldapscan"
)

// TestSPNCountFollowsPolls: the log line's SPN count, carried along the
// polls' changes, is always the snapshot's count: after polls that removed,
// replaced and added objects, one that changed nothing (the same objects),
// and a full scan (no change).
func TestSPNCountFollowsPolls(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	object := func() inventory.Object {
		o := inventory.Object{DN: fmt.Sprintf("CN=o%d,DC=example,DC=test", r.Int())}
		for range r.IntN(4) {
			o.SPNs = append(o.SPNs, fmt.Sprintf("HTTP/h%d", r.IntN(100)))
		}
		return o
	}
	var objs []*inventory.Object
	for range 50 {
		objs = append(objs, new(object()))
	}
	d := &Daemon{}
	snap := &inventory.Snapshot{Objects: objs}
	carried := 0
	for poll := range 200 {
		if got, want := d.spnCount(snap), snap.SPNCount(); got != want {
			t.Fatalf("poll %d: %d SPNs, want %d", poll, got, want)
		}
		d.last = &ldapscan.Result{Snapshot: snap}
		next := &inventory.Snapshot{}
		switch poll % 10 {
		case 3: // nothing changed
			next.Objects = snap.Objects
		case 7: // a full scan
			next.Objects = slices.Clone(snap.Objects)
		default:
			var removed, added []int32
			for i, o := range snap.Objects {
				switch r.IntN(8) {
				case 0:
					removed = append(removed, int32(i))
				case 1:
					removed = append(removed, int32(i))
					o = new(object())
					added = append(added, int32(len(next.Objects)))
					next.Objects = append(next.Objects, o)
				default:
					next.Objects = append(next.Objects, o)
				}
				if r.IntN(10) == 0 {
					added = append(added, int32(len(next.Objects)))
					next.Objects = append(next.Objects, new(object()))
				}
			}
			if err := next.SetChange(snap, removed, added); err != nil {
				t.Fatal(err)
			}
			carried++
		}
		snap = next
	}
	if carried == 0 {
		t.Fatal("no poll carried a change")
	}
}
