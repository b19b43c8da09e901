package metrics

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
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

// TestFindingDateSeries: the date series mirror the kept spnaudit_finding_info
// series that have dates, with the DC as a label, and nothing else.
func TestFindingDateSeries(t *testing.T) {
	first := time.Date(2026, 11, 24, 13, 0, 0, 0, time.UTC)
	changed := first.Add(-3 * time.Second)
	store := NewStore(Options{Rules: audit.RuleIDs, MaxFindingSeries: 10, Now: func() time.Time { return first.Add(time.Hour) }})
	snap := &inventory.Snapshot{Objects: []inventory.Object{
		{DN: "CN=svc_a,DC=example,DC=test", SAMAccountName: "svc_a"},
		{DN: "CN=svc_b,DC=example,DC=test", SAMAccountName: "svc_b"},
	}}
	store.ScanSucceeded(ScanResult{Mode: ModeFull, Snapshot: snap, Findings: []audit.Finding{
		{Rule: "duplicate-spn", Severity: audit.SeverityHigh, SPN: "HTTP/web", Accounts: []string{"CN=svc_a,DC=example,DC=test", "CN=svc_b,DC=example,DC=test"},
			FirstSeen: &first, ChangedAt: &changed, ChangedOn: "dc2.example.test"},
		{Rule: "ghost-spn", Severity: audit.SeverityMedium, SPN: "HTTP/gone", Accounts: []string{"CN=svc_a,DC=example,DC=test"}},
	}})
	want := `# HELP spnaudit_finding_first_seen_timestamp_seconds Unix time at which spnaudit first saw the finding (kept in state.dir), for the spnaudit_finding_info series that have one.
# TYPE spnaudit_finding_first_seen_timestamp_seconds gauge
spnaudit_finding_first_seen_timestamp_seconds{account="EXAMPLE\\svc_a",rule="duplicate-spn",severity="high",spn="HTTP/web"} 1.7955252e+09
spnaudit_finding_first_seen_timestamp_seconds{account="EXAMPLE\\svc_b",rule="duplicate-spn",severity="high",spn="HTTP/web"} 1.7955252e+09
# HELP spnaudit_finding_spn_changed_timestamp_seconds Unix time of the last servicePrincipalName change on the finding's accounts (AD replication metadata), with the DC that made it, for the spnaudit_finding_info series that have one.
# TYPE spnaudit_finding_spn_changed_timestamp_seconds gauge
spnaudit_finding_spn_changed_timestamp_seconds{account="EXAMPLE\\svc_a",changed_on="dc2.example.test",rule="duplicate-spn",severity="high",spn="HTTP/web"} 1.795525197e+09
spnaudit_finding_spn_changed_timestamp_seconds{account="EXAMPLE\\svc_b",changed_on="dc2.example.test",rule="duplicate-spn",severity="high",spn="HTTP/web"} 1.795525197e+09
`
	if err := testutil.GatherAndCompare(NewRegistry(store), strings.NewReader(want),
		"spnaudit_finding_first_seen_timestamp_seconds", "spnaudit_finding_spn_changed_timestamp_seconds"); err != nil {
		t.Error(err)
	}
}

// TestLandingShowsDates: the landing page prints the dates line under a
// dated finding.
func TestLandingShowsDates(t *testing.T) {
	now := time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)
	first := now.Add(-72 * time.Hour)
	store := NewStore(Options{Rules: audit.RuleIDs, Now: func() time.Time { return now }})
	store.ScanSucceeded(ScanResult{Mode: ModeFull, Snapshot: &inventory.Snapshot{}, Findings: []audit.Finding{
		{Rule: "duplicate-spn", Severity: audit.SeverityHigh, SPN: "HTTP/web", Accounts: []string{"CN=a"}, FirstSeen: &first, ChangedAt: &first, ChangedOn: "dc2"},
	}})
	rec := httptest.NewRecorder()
	serveLanding(rec, store, slog.New(slog.DiscardHandler))
	want := `<div class="since">since 3 days (2026-11-24T14:00:00Z), last SPN change on dc2 at 2026-11-24T14:00:00Z</div>`
	if !strings.Contains(rec.Body.String(), want) {
		t.Errorf("landing page lacks %s", want)
	}
}
