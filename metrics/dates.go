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

// dateRefs are a series' dates as a seriesIndex keeps them: the findings'
// own times (Finding.FirstSeen, ChangedAt), shared, not copied into a
// seriesDates of their own (issue 9: 3.2 MB at 50,000 series, one for each).
// The findings' times are immutable; the index keeps the times of the
// findings that give the series, so it keeps no other finding's alive.
type dateRefs struct {
	firstSeen, changed *time.Time
	changedOn          string
}

// noTime is the change of a series whose findings are dated, none with a
// change after the zero time (dated says it has dates).
var noTime time.Time

// dated reports whether a finding giving the series has a date (datesOf
// has an entry for it).
func (d dateRefs) dated() bool { return d.firstSeen != nil || d.changed != nil }

// changedAt is the series' last change, zero when none.
func (d dateRefs) changedAt() time.Time {
	if d.changed == nil {
		return time.Time{}
	}
	return *d.changed
}

// value is the dates datesOf gives.
func (d dateRefs) value() seriesDates {
	v := seriesDates{changed: d.changedAt(), changedOn: d.changedOn}
	if d.firstSeen != nil {
		v.firstSeen = *d.firstSeen
	}
	return v
}

// sameDates reports whether a and b are the same dates (or both none).
func sameDates(a, b dateRefs) bool { return a.dated() == b.dated() && a.value() == b.value() }

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
