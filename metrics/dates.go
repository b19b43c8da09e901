package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spnaudit/spnaudit/audit"
)

// seriesDates are the dates of one spnaudit_finding_info series: over the
// findings that share its labels, the earliest first_seen and the latest
// SPN change.
type seriesDates struct {
	firstSeen, changed time.Time
	changedOn          string
}

// datesOf collects the dates of every finding's series (capped later by
// the series spnaudit_finding_info keeps). Views keep them per series in
// their seriesIndex (addDates, in the same order); datesOf is the
// reference the index is tested against.
func datesOf(findings []audit.Finding, names map[string]string) map[infoSeries]seriesDates {
	out := map[infoSeries]seriesDates{}
	for _, f := range findings {
		if f.FirstSeen == nil && f.ChangedAt == nil {
			continue
		}
		for _, s := range infoSeriesOf([]audit.Finding{f}, names) {
			d := out[s]
			if f.FirstSeen != nil && (d.firstSeen.IsZero() || f.FirstSeen.Before(d.firstSeen)) {
				d.firstSeen = *f.FirstSeen
			}
			if f.ChangedAt != nil && f.ChangedAt.After(d.changed) {
				d.changed, d.changedOn = *f.ChangedAt, f.ChangedOn
			}
			out[s] = d
		}
	}
	return out
}

// collectDates exports spnaudit_finding_first_seen_timestamp_seconds and
// spnaudit_finding_spn_changed_timestamp_seconds for the kept info series
// that have them: alert annotations query them ("since", "last change").
func (c *collector) collectDates(v *snapshotView, gauge func(*prometheus.Desc, float64, ...string)) {
	for _, s := range v.info {
		d, ok := v.dates[s]
		if !ok {
			continue
		}
		if !d.firstSeen.IsZero() {
			gauge(c.findingFirstSeen, unixSeconds(d.firstSeen), s.rule, s.severity, s.spn, s.account)
		}
		if !d.changed.IsZero() {
			gauge(c.findingChanged, unixSeconds(d.changed), s.rule, s.severity, s.spn, s.account, labelValue(d.changedOn))
		}
	}
}
