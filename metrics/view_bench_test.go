package metrics

import (
	"fmt"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// BenchmarkNewSnapshotView builds the scrape view of a snapshot of the
// bench's size (internal/gen.WriteDirectory: 100,000 objects, a
// kerberoastable-account finding for each of the 50,000 service accounts):
// what publishing a poll that changed something costs the store.
func BenchmarkNewSnapshotView(b *testing.B) {
	snap, res := largeScan(50_000)
	order := newSeriesOrder()
	b.ReportAllocs()
	for b.Loop() {
		newSnapshotView(snap, res, time.Now(), 1000, order)
	}
}

func largeScan(accounts int) (*inventory.Snapshot, audit.Result) {
	snap := &inventory.Snapshot{Directory: inventory.Directory{Domains: []string{"corp.example.test"}}}
	var res audit.Result
	for i := range accounts {
		host := fmt.Sprintf("host%06d", i)
		snap.Objects = append(snap.Objects, inventory.Object{
			DN: "CN=" + host + ",OU=Hosts,DC=corp,DC=example,DC=test", Domain: "corp.example.test",
			SAMAccountName: host + "$", Kind: inventory.KindComputer,
			SPNs: []string{"HOST/" + host, "HOST/" + host + ".corp.example.test"},
		})
		svc := fmt.Sprintf("svc%06d", i)
		dn := "CN=" + svc + ",OU=Svc,DC=corp,DC=example,DC=test"
		snap.Objects = append(snap.Objects, inventory.Object{
			DN: dn, Domain: "corp.example.test", SAMAccountName: svc, Kind: inventory.KindUser,
			SPNs: []string{"MSSQLSvc/" + host + ".corp.example.test:1433"},
		})
		res.Findings = append(res.Findings, audit.Finding{
			Rule: audit.RuleKerberoastableAccount, Severity: audit.SeverityMedium, Accounts: []string{dn},
			Message: svc + " is a user account with 1 SPN(s)", Remediation: []string{}, References: []string{},
		})
	}
	return snap, res
}
