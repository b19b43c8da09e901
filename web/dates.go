package web

import (
	"fmt"
	"time"

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
