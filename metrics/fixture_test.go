package metrics

import (
	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/internal/farmtest"
)

// The farm fixture (internal/farmtest), shared with the web package's tests.
type (
	clock      = farmtest.Clock
	scanResult = farmtest.Scan
)

var (
	farmResult   = farmtest.Result
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

// succeed publishes res to s.
func succeed(s *Store, res scanResult) { res.PublishTo(s) }
