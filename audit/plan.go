package audit

import (
	"slices"

	"github.com/spnaudit/spnaudit/inventory"
)

// Plan returns a PowerShell script of setspn commands that converges the
// directory to the farms' desired SPNs: every removal (wrong account, extra)
// first, so no addition trips over a duplicate, then every addition. Each
// line is sorted and unique. The script is safe to re-run: setspn -D of an
// absent SPN and setspn -S of an SPN already on the account change nothing,
// and a plan computed after it has run is empty.
func Plan(snap *inventory.Snapshot, farms []Farm) []string {
	ix := newIndex(snap, Config{Farms: farms})
	var deletes, adds, notes []string
	for _, d := range farmDiffs(ix) {
		switch d.kind {
		case driftBadFarm:
			notes = append(notes, "# Farm "+d.farm.Name+" skipped: "+d.problem)
		case driftMissing:
			adds = append(adds, ix.setspnAdd(d.spn, ix.objs[d.account]))
		case driftWrongAccount:
			for _, o := range d.others {
				deletes = append(deletes, ix.setspnDelete(d.spn, ix.objs[o]))
			}
			if !d.onOwner {
				adds = append(adds, ix.setspnAdd(d.spn, ix.objs[d.account]))
			}
		case driftExtra:
			deletes = append(deletes, ix.setspnDelete(d.spn, ix.objs[d.account]))
		}
	}
	lines := []string{
		"# spnaudit plan: converge SPNs to the farms in the configuration.",
		"# Safe to re-run: setspn -D of an absent SPN and setspn -S of an SPN already on the account change nothing.",
	}
	lines = append(lines, notes...)
	if len(deletes)+len(adds) == 0 {
		return append(lines, "# Nothing to do: every farm's SPNs are in place.")
	}
	slices.Sort(deletes)
	slices.Sort(adds)
	lines = append(lines, slices.Compact(deletes)...)
	return append(lines, slices.Compact(adds)...)
}
