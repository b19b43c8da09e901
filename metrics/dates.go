package metrics

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/spnaudit/spnaudit/audit"
)

// findingDates is the landing page's line on a finding's history: "since
// 3 days (2026-11-24T14:03:12Z), last SPN change on dc2.corp.example.test
// at 2026-11-24T14:03:09Z". first_seen comes from the state store,
// changed_at and changed_on from AD's replication metadata.
func findingDates(f audit.Finding, now time.Time) string {
	var s string
	if f.FirstSeen != nil {
		s = fmt.Sprintf("since %s (%s)", formatSince(now.Sub(*f.FirstSeen)), formatTime(*f.FirstSeen))
	}
	if f.ChangedAt != nil {
		if s != "" {
			s += ", "
		}
		s += "last SPN change"
		if f.ChangedOn != "" {
			s += " on " + f.ChangedOn
		}
		s += " at " + formatTime(*f.ChangedAt)
	}
	return s
}

// formatSince renders an age in the largest whole unit a reader wants:
// days from two days on, hours from two hours, else minutes.
func formatSince(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d/time.Hour))
	case d >= 2*time.Minute:
		return fmt.Sprintf("%d minutes", int(d/time.Minute))
	}
	return "a minute"
}

// seriesDates are the dates of one spnaudit_finding_info series: over the
// findings that share its labels, the earliest first_seen and the latest
// SPN change.
type seriesDates struct {
	firstSeen, changed time.Time
	changedOn          string
}

// datesOf collects the dates of every finding's series (capped later by
// the series spnaudit_finding_info keeps).
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
