package web

import (
	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/internal/farmtest"
	"github.com/spnaudit/spnaudit/metrics"
)

// The farm fixture (internal/farmtest), shared with the metrics package's
// tests.
type (
	clock      = farmtest.Clock
	scanResult = farmtest.Scan
)

var (
	farmResult = farmtest.Result
	newClock   = farmtest.NewClock
	errSearch  = farmtest.ErrSearch
)

const (
	dnPool   = farmtest.DNPool
	dnLegacy = farmtest.DNLegacy
)

func newTestStore(c *clock, maxSeries int) *metrics.Store {
	return metrics.NewStore(metrics.Options{
		Rules:            audit.RuleIDs,
		Stages:           farmtest.Stages,
		MaxFindingSeries: maxSeries,
		Build:            metrics.BuildInfo{Version: "1.2.3", Revision: "abc1234", GoVersion: "go1.test"},
		Now:              c.Now,
	})
}

// succeed publishes res to s.
func succeed(s *metrics.Store, res scanResult) { res.PublishTo(s) }
