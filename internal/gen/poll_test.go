package gen

import (
	"fmt"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/inventory"
)

// TestChangedSnapshot: the poll's snapshot says its change, changes copies
// of k objects and shares the others; snap stays as it was.
func TestChangedSnapshot(t *testing.T) {
	snap := &inventory.Snapshot{Started: time.Unix(0, 0)}
	for i := range 100 {
		snap.Objects = append(snap.Objects, &inventory.Object{DN: fmt.Sprint("CN=o", i), SPNs: []string{"HOST/o"}})
	}
	next := ChangedSnapshot(snap, 10, 3, time.Minute)
	c := next.ChangeFrom(snap)
	if c == nil || len(c.Added) != 10 || len(c.Removed) != 10 || !next.Started.Equal(snap.Started.Add(time.Minute)) {
		t.Fatalf("change %+v, started %v", c, next.Started)
	}
	for i, o := range next.Objects {
		changed := c.OldPosition(int32(i)) < 0
		if shared := o == snap.Objects[i]; shared == changed {
			t.Errorf("object %d: changed %v, shared with snap %v", i, changed, shared)
		}
		if len(snap.Objects[i].SPNs) != 1 || len(o.SPNs) != map[bool]int{false: 1, true: 2}[changed] {
			t.Errorf("object %d: SPNs %v, snap's %v", i, o.SPNs, snap.Objects[i].SPNs)
		}
	}
}
