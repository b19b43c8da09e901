package audit

import (
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/inventory"
)

// TestFindingsChangedAt: a duplicate is dated by the later of its holders'
// SPN changes and named by that change's DC; a finding on an account
// without metadata has no date.
func TestFindingsChangedAt(t *testing.T) {
	early := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	late := time.Date(2026, 11, 24, 14, 3, 12, 0, time.UTC)
	dsa2 := "CN=NTDS Settings,CN=DC2,CN=Servers,CN=Branch,CN=Sites,CN=Configuration,DC=example,DC=test"
	snap := &inventory.Snapshot{
		Directory: inventory.Directory{DCs: map[string]string{"11111111-2222-3333-4444-555555555555": "dc1.example.test"}},
		Objects: []*inventory.Object{
			{DN: "CN=svc_a,DC=example,DC=test", SAMAccountName: "svc_a", Kind: inventory.KindUser,
				SPNs: []string{"HTTP/web.example.test"}, SPNChanged: early, SPNChangedBy: "11111111-2222-3333-4444-555555555555"},
			{DN: "CN=svc_b,DC=example,DC=test", SAMAccountName: "svc_b", Kind: inventory.KindUser,
				SPNs: []string{"HTTP/web.example.test"}, SPNChanged: late, SPNChangedBy: dsa2},
			{DN: "CN=svc_c,DC=example,DC=test", SAMAccountName: "svc_c", Kind: inventory.KindUser,
				SPNs: []string{"MSSQLSvc/db.example.test:1433"}, SPNChanged: early, SPNChangedBy: "11111111-2222-3333-4444-555555555555"},
			{DN: "CN=svc_d,DC=example,DC=test", SAMAccountName: "svc_d", Kind: inventory.KindUser,
				SPNs: []string{"MSSQLSvc/db2.example.test:1433"}},
		},
	}
	res := Run(snap, Config{Now: late.Add(time.Hour)})
	tests := []struct {
		rule, account string
		wantAt        time.Time
		wantOn        string
	}{
		{RuleDuplicateSPN, "CN=svc_a,DC=example,DC=test", late, "dc2"},
		{RuleKerberoastableAccount, "CN=svc_c,DC=example,DC=test", early, "dc1.example.test"},
		{RuleKerberoastableAccount, "CN=svc_d,DC=example,DC=test", time.Time{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.rule+" "+tt.account, func(t *testing.T) {
			f := findingFor(t, res.Findings, tt.rule, tt.account)
			if tt.wantAt.IsZero() {
				if f.ChangedAt != nil || f.ChangedOn != "" {
					t.Errorf("changed_at %v on %q, want none", f.ChangedAt, f.ChangedOn)
				}
				return
			}
			if f.ChangedAt == nil || !f.ChangedAt.Equal(tt.wantAt) || f.ChangedOn != tt.wantOn {
				t.Errorf("changed_at %v on %q, want %v on %q", f.ChangedAt, f.ChangedOn, tt.wantAt, tt.wantOn)
			}
		})
	}
}

func findingFor(t *testing.T, fs []Finding, rule, account string) Finding {
	t.Helper()
	for _, f := range fs {
		if f.Rule != rule {
			continue
		}
		for _, a := range f.Accounts {
			if a == account {
				return f
			}
		}
	}
	t.Fatalf("no %s finding on %s in %+v", rule, account, fs)
	return Finding{}
}
