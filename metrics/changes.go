package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	history "github.com/spnaudit/spnaudit/state"
)

// SPNChanges counts the SPN values added and removed
// (spnaudit_spn_changes_total{op}), pre-initialised for every op.
type SPNChanges struct {
	vec *prometheus.CounterVec
}

// NewSPNChanges returns the counter, to register beside NewRegistry's.
func NewSPNChanges() *SPNChanges {
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "spnaudit_spn_changes_total",
		Help: "SPN values added to or removed from accounts, as seen between scans and journaled in state.dir, by op (add, remove).",
	}, []string{"op"})
	for _, op := range history.SPNOps {
		vec.WithLabelValues(op)
	}
	return &SPNChanges{vec: vec}
}

// Observe counts a journaled change; findings' entries are not SPN changes.
func (c *SPNChanges) Observe(ch history.Change) {
	if ch.Op == history.OpAdd || ch.Op == history.OpRemove {
		c.vec.WithLabelValues(ch.Op).Inc()
	}
}

func (c *SPNChanges) Describe(ch chan<- *prometheus.Desc) { c.vec.Describe(ch) }
func (c *SPNChanges) Collect(ch chan<- prometheus.Metric) { c.vec.Collect(ch) }
