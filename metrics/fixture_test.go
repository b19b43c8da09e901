package metrics

import (
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/internal/farmtest"
	"github.com/spnaudit/spnaudit/inventory"
)

// The farm fixture (internal/farmtest), shared with the web package's tests.
type clock = farmtest.Clock

var (
	newClock     = farmtest.NewClock
	farmSnapshot = farmtest.Snapshot
	farmFindings = farmtest.Findings
	testStages   = farmtest.Stages
	errSearch    = farmtest.ErrSearch
)

const (
	dnPool   = farmtest.DNPool
	dnLegacy = farmtest.DNLegacy
	dnNode11 = farmtest.DNNode11
)

func newTestStore(c *clock, maxSeries int) *Store {
	return NewStore(Options{
		Rules:            audit.RuleIDs,
		Stages:           testStages,
		MaxFindingSeries: maxSeries,
		Build:            BuildInfo{Version: "1.2.3", Revision: "abc1234", GoVersion: "go1.test"},
		Now:              c.Now,
	})
}

// scanResult is one successful scan as the daemon hands it to
// Store.ScanSucceeded.
type scanResult struct {
	audit.Result
	mode     inventory.ScanMode
	snapshot *inventory.Snapshot
}

// succeed publishes res to s.
func succeed(s *Store, res scanResult) { s.ScanSucceeded(res.mode, res.snapshot, res.Result) }

// farmResult is a successful scan of the farm that started at started, with
// two suppressed findings and one expired suppression.
func farmResult(mode inventory.ScanMode, started time.Time) scanResult {
	return scanResult{
		mode:     mode,
		snapshot: farmSnapshot(started),
		Result: audit.Result{
			Findings:            farmFindings(),
			Suppressed:          make([]audit.SuppressedFinding, 2),
			ExpiredSuppressions: make([]audit.Suppression, 1),
		},
	}
}
