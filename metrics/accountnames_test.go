package metrics

import (
	"testing"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// TestAccountNamesAsAudit: alerts and the landing page name an account as
// the audit's messages do (inventory.Directory.AccountName), including the
// default NetBIOS name of a domain without a crossRef; only a DN whose
// object is not in the snapshot stays a DN.
func TestAccountNamesAsAudit(t *testing.T) {
	snap := &inventory.Snapshot{
		Directory: inventory.Directory{NetBIOSDomains: map[string]string{"corp.example.test": "CORP"}},
		Objects: []*inventory.Object{
			{DN: "CN=svc_a,DC=corp,DC=example,DC=test", Domain: "corp.example.test", SAMAccountName: "svc_a"},
			{DN: "CN=svc_b,DC=emea,DC=corp,DC=example,DC=test", Domain: "emea.corp.example.test", SAMAccountName: "svc_b"},
		},
	}
	findings := []audit.Finding{{Accounts: []string{
		"CN=svc_a,DC=corp,DC=example,DC=test", "CN=svc_b,DC=emea,DC=corp,DC=example,DC=test", "CN=gone,DC=corp,DC=example,DC=test",
	}}}
	want := map[string]string{
		"CN=svc_a,DC=corp,DC=example,DC=test":         `CORP\svc_a`,
		"CN=svc_b,DC=emea,DC=corp,DC=example,DC=test": `EMEA\svc_b`,
		"CN=gone,DC=corp,DC=example,DC=test":          "CN=gone,DC=corp,DC=example,DC=test",
	}
	got := accountNames(snap, findings)
	for dn, name := range want {
		if got[dn] != name {
			t.Errorf("accountNames[%q] = %q, want %q", dn, got[dn], name)
		}
	}
}
