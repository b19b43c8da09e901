package web

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/metrics"
)

func TestFindingDates(t *testing.T) {
	now := time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)
	first := now.Add(-3*24*time.Hour - time.Hour)
	changed := first.Add(-3 * time.Second)
	recent := now.Add(-30 * time.Second)
	tests := []struct {
		name string
		f    audit.Finding
		want string
	}{
		{"both", audit.Finding{FirstSeen: &first, ChangedAt: &changed, ChangedOn: "dc2.corp.example.test"},
			"since 3 days (2026-11-24T13:00:00Z), last SPN change on dc2.corp.example.test at 2026-11-24T12:59:57Z"},
		{"no DC name", audit.Finding{ChangedAt: &changed}, "last SPN change at 2026-11-24T12:59:57Z"},
		{"just seen", audit.Finding{FirstSeen: &recent}, "since a minute (2026-11-27T13:59:30Z)"},
		{"nothing known", audit.Finding{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := findingDates(tt.f, now); got != tt.want {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestLandingShowsDates: the landing page prints the dates line under a
// dated finding.
func TestLandingShowsDates(t *testing.T) {
	now := time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)
	first := now.Add(-72 * time.Hour)
	store := metrics.NewStore(metrics.Options{Rules: audit.RuleIDs, Now: func() time.Time { return now }})
	store.ScanSucceeded(inventory.FullScan, &inventory.Snapshot{}, audit.Result{Findings: []audit.Finding{
		{Rule: "duplicate-spn", Severity: audit.SeverityHigh, SPN: "HTTP/web", Accounts: []string{"CN=a"}, FirstSeen: &first, ChangedAt: &first, ChangedOn: "dc2"},
	}})
	rec := httptest.NewRecorder()
	serveLanding(rec, httptest.NewRequest("GET", "/", nil), store.Status(), nil, slog.New(slog.DiscardHandler))
	want := `<div class="since">since 3 days (2026-11-24T14:00:00Z), last SPN change on dc2 at 2026-11-24T14:00:00Z</div>`
	if !strings.Contains(rec.Body.String(), want) {
		t.Errorf("landing page lacks %s", want)
	}
}
