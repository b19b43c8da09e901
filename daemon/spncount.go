package daemon

import "github.com/spnaudit/spnaudit/inventory"

// spnCount is snap's SPN count for the scan's log line, called before
// snap becomes d.last. Counting every object's SPNs costs as much as the
// domain is large; a poll's snapshot made from d.last's (ChangeFrom) is
// counted from d.last's count and the objects it removed and added, so
// that a poll that changed k objects costs O(k) here (issue 9).
func (d *Daemon) spnCount(snap *inventory.Snapshot) int {
	n := -1
	if d.last != nil && d.last.Snapshot != nil {
		base := d.last.Snapshot
		if sameObjects(snap.Objects, base.Objects) {
			n = d.lastSPNs
		} else if c := snap.ChangeFrom(base); c != nil {
			n = d.lastSPNs
			for _, r := range c.Removed {
				n -= len(base.Objects[r].SPNs)
			}
			for _, a := range c.Added {
				n += len(snap.Objects[a].SPNs)
			}
		}
	}
	if n < 0 {
		n = snap.SPNCount()
	}
	d.lastSPNs = n
	return n
}
