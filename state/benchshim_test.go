package state

import (
	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// recordResult is how the benchmark records a poll.
func recordResult(s *Store, snap *inventory.Snapshot, res audit.Result, poll Poll) ([]audit.Finding, error) {
	return s.RecordResult(snap, res, poll)
}
