package metrics

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// BenchmarkNewSnapshotView builds the scrape view of a snapshot of the
// bench's size (internal/gen.WriteDirectory: 100,000 objects, a
// kerberoastable-account finding for each of the 50,000 service accounts):
// what publishing a poll that changed something costs the store.
//
// update_k=N derives the view of a poll that changed N of the objects from
// the last one (updated), as the store does: N service accounts spread over
// the directory get one more SPN, their kerberoastable-account finding is
// judged again (a new message) and a ghost-spn finding names the new SPN;
// the next operation reverts them, and so on.
func BenchmarkNewSnapshotView(b *testing.B) {
	snap, res := largeScan(50_000)
	order := newSeriesOrder()
	b.Run("rebuild", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			newSnapshotView(snap, res, time.Now(), 1000, order)
		}
	})
	for _, k := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("update_k=%d", k), func(b *testing.B) {
			changed, changedRes := changedScan(snap, res, k)
			scans := [2]struct {
				snap *inventory.Snapshot
				res  audit.Result
			}{{changed, changedRes}, {snap, res}}
			v := newSnapshotView(snap, res, time.Now(), 1000, order)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				next := v.updated(scans[i%2].snap, scans[i%2].res, time.Now(), 1000, order)
				if next == nil {
					b.Fatal("the update fell back to a rebuild")
				}
				v, i = next, i+1
			}
		})
	}
}

// changedScan is a poll of largeScan's directory that changed k service
// accounts spread over it (see BenchmarkNewSnapshotView), sharing the
// other objects and findings by value as ldapscan's poll and the
// incremental audit do.
func changedScan(snap *inventory.Snapshot, res audit.Result, k int) (*inventory.Snapshot, audit.Result) {
	next := *snap
	next.Objects = slices.Clone(snap.Objects)
	findings := slices.Clone(res.Findings)
	step := len(findings) / k
	at := map[string]int{}
	for i := range next.Objects {
		at[next.Objects[i].DN] = i
	}
	for j := range k {
		i := j * step
		o := next.Objects[at[findings[i].Accounts[0]]] // the service account of finding i
		spn := "HTTP/moved" + o.SAMAccountName
		o.SPNs = append(slices.Clone(o.SPNs), spn)
		o.USNChanged++
		findings[i].Message = o.SAMAccountName + " is a user account with 2 SPN(s)"
		findings = append(findings, audit.Finding{
			Rule: audit.RuleGhostSPN, Severity: audit.SeverityLow, SPN: spn, Accounts: []string{o.DN},
			Message: "no host", Remediation: []string{}, References: []string{},
		})
	}
	slices.SortStableFunc(findings, func(a, b audit.Finding) int { return compareFindings(&a, &b) })
	return &next, audit.Result{Findings: findings}
}

func largeScan(accounts int) (*inventory.Snapshot, audit.Result) {
	snap := &inventory.Snapshot{Directory: inventory.Directory{Domains: []string{"corp.example.test"}}}
	var res audit.Result
	for i := range accounts {
		host := fmt.Sprintf("host%06d", i)
		snap.Objects = append(snap.Objects, &inventory.Object{
			DN: "CN=" + host + ",OU=Hosts,DC=corp,DC=example,DC=test", Domain: "corp.example.test",
			SAMAccountName: host + "$", Kind: inventory.KindComputer,
			SPNs: []string{"HOST/" + host, "HOST/" + host + ".corp.example.test"},
		})
		svc := fmt.Sprintf("svc%06d", i)
		dn := "CN=" + svc + ",OU=Svc,DC=corp,DC=example,DC=test"
		snap.Objects = append(snap.Objects, &inventory.Object{
			DN: dn, Domain: "corp.example.test", SAMAccountName: svc, Kind: inventory.KindUser,
			SPNs: []string{"MSSQLSvc/" + host + ".corp.example.test:1433"},
		})
		res.Findings = append(res.Findings, audit.Finding{
			Rule: audit.RuleKerberoastableAccount, Severity: audit.SeverityMedium, Accounts: []string{dn},
			Message: svc + " is a user account with 1 SPN(s)", Remediation: []string{}, References: []string{},
		})
	}
	// In ldapscan's order, as the daemon's snapshots are.
	slices.SortFunc(snap.Objects, compareObjects)
	return snap, res
}
