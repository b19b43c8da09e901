package gen

import (
	"fmt"
	"slices"
	"time"

	"github.com/spnaudit/spnaudit/inventory"
)

// ChangedSnapshot is a poll's snapshot, started after later than snap: k
// objects spread over the directory (shifted by round, so that successive
// polls change others) hold one more SPN each. As ldapscan's poll makes it,
// the objects it did not change are snap's own, each changed one is a copy,
// and the change is recorded (inventory.Snapshot.SetChange): removed from
// snap and added at the same positions.
func ChangedSnapshot(snap *inventory.Snapshot, k, round int, after time.Duration) *inventory.Snapshot {
	next := *snap
	next.Started = snap.Started.Add(after)
	next.Objects = slices.Clone(snap.Objects)
	var changed []int32
	for i := range k {
		p := (i*len(next.Objects)/k + round) % len(next.Objects)
		o := *next.Objects[p] // snap's object stays as it was
		o.SPNs = append(slices.Clone(o.SPNs), fmt.Sprintf("HTTP/changed-%d-%d.bench.test", round, i))
		o.USNChanged++
		next.Objects[p] = &o
		changed = append(changed, int32(p))
	}
	slices.Sort(changed)
	changed = slices.Compact(changed)
	if err := next.SetChange(snap, changed, changed); err != nil {
		panic(err) // positions within both lists, ascending: cannot happen
	}
	return &next
}
