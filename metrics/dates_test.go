package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// TestFindingDateSeries: the date series mirror the kept spnaudit_finding_info
// series that have dates, with the DC as a label, and nothing else.
func TestFindingDateSeries(t *testing.T) {
	first := time.Date(2026, 11, 24, 13, 0, 0, 0, time.UTC)
	changed := first.Add(-3 * time.Second)
	store := NewStore(Options{Rules: audit.RuleIDs, MaxFindingSeries: 10, Now: func() time.Time { return first.Add(time.Hour) }})
	snap := &inventory.Snapshot{Objects: []*inventory.Object{
		{DN: "CN=svc_a,DC=example,DC=test", SAMAccountName: "svc_a"},
		{DN: "CN=svc_b,DC=example,DC=test", SAMAccountName: "svc_b"},
	}}
	store.ScanSucceeded(inventory.FullScan, snap, audit.Result{Findings: []audit.Finding{
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
