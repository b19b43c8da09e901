package metrics

import (
	"fmt"
	"runtime"
	"slices"
	"syscall"
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
		// update_k: the scans carry no change (a producer that does not
		// record one): updated compares every object and finding.
		// change_k: they carry the change a poll and an incremental audit
		// record (SetChange), as the daemon's will.
		b.Run(fmt.Sprintf("new_accounts_k=%d", k), func(b *testing.B) {
			// k new service accounts, each with a finding, then gone: their
			// DNs enter and leave the account names.
			added, addedRes, ch := newAccountsScan(snap, res, k)
			revert, revertRes := *snap, audit.Result{Findings: res.Findings}
			for _, err := range []error{
				added.SetChange(snap, nil, ch.addedObjects), addedRes.SetChange(res, nil, ch.addedFindings, nil, nil),
				revert.SetChange(added, ch.addedObjects, nil), revertRes.SetChange(addedRes, ch.addedFindings, nil, nil, nil),
			} {
				if err != nil {
					b.Fatal(err)
				}
			}
			benchAlternating(b, snap, res, order, [2]scanPair{{added, addedRes}, {&revert, revertRes}})
		})
		// objects_change_k: only the snapshot carries its change, as when
		// the findings published are another list than the audit's (the
		// daemon's history dates them into a copy).
		for _, changes := range []pollChange{changeNone, changeBoth, changeObjects} {
			name := map[pollChange]string{changeNone: "update", changeBoth: "change", changeObjects: "objects_change"}[changes]
			b.Run(fmt.Sprintf("%s_k=%d", name, k), func(b *testing.B) {
				benchAlternating(b, snap, res, order, alternatingScans(b, snap, res, k, changes))
			})
		}
	}
}

// benchAlternating times the view's update through scans, one and the
// other in turn, from the view of snap and res.
func benchAlternating(b *testing.B, snap *inventory.Snapshot, res audit.Result, order seriesOrder, scans [2]scanPair) {
	v := newSnapshotView(snap, res, time.Now(), 1000, order)
	b.ReportAllocs()
	cpu := startCPU()
	i := 0
	for b.Loop() {
		next := v.updated(scans[i%2].snap, scans[i%2].res, time.Now(), 1000, order)
		if next == nil {
			b.Fatal("the update fell back to a rebuild")
		}
		v, i = next, i+1
	}
	cpu.report(b)
}

// alternatingScans are changedScan's poll of snap and res and a poll that
// reverts it, each carrying how it was made from the other when withChange
// (a snapshot carries one change: the revert is another Snapshot and
// Result sharing snap's and res's lists), as changes says.
func alternatingScans(b *testing.B, snap *inventory.Snapshot, res audit.Result, k int, changes pollChange) [2]scanPair {
	changed, changedRes, ch := changedScan(snap, res, k)
	revert, revertRes := *snap, audit.Result{Findings: res.Findings, Suppressed: res.Suppressed}
	if changes == changeBoth || changes == changeObjects {
		if err := changed.SetChange(snap, ch.removedObjects, ch.addedObjects); err != nil {
			b.Fatal(err)
		}
		if err := revert.SetChange(changed, ch.addedObjects, ch.removedObjects); err != nil {
			b.Fatal(err)
		}
	}
	if changes == changeBoth {
		if err := changedRes.SetChange(res, ch.removedFindings, ch.addedFindings, nil, nil); err != nil {
			b.Fatal(err)
		}
		if err := revertRes.SetChange(changedRes, ch.addedFindings, ch.removedFindings, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	return [2]scanPair{{changed, changedRes}, {&revert, revertRes}}
}

type scanPair struct {
	snap *inventory.Snapshot
	res  audit.Result
}

// cpuClock measures the process's CPU time (user and system, every
// goroutine, the garbage collector's included) over a benchmark's loop:
// the machine is shared, so wall time says little.
type cpuClock struct{ start time.Duration }

func startCPU() cpuClock { return cpuClock{processCPU()} }

func (c cpuClock) report(b *testing.B) {
	if b.N > 0 {
		b.ReportMetric(float64(processCPU()-c.start)/float64(b.N), "cpu-ns/op")
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// scanChange is how changedScan made its poll: positions as SetChange
// takes them.
type scanChange struct {
	removedObjects, addedObjects   []int32
	removedFindings, addedFindings []int32
}

// changedScan is a poll of largeScan's directory that changed k service
// accounts spread over it (see BenchmarkNewSnapshotView), sharing the
// other objects and findings by value as ldapscan's poll and the
// incremental audit do, and the positions of what it changed.
func changedScan(snap *inventory.Snapshot, res audit.Result, k int) (*inventory.Snapshot, audit.Result, scanChange) {
	next := *snap
	next.Objects = slices.Clone(snap.Objects)
	findings := slices.Clone(res.Findings)
	// from is each finding's position in res, -1 for a new one.
	from := make([]int32, len(findings))
	for i := range from {
		from[i] = int32(i)
	}
	var ch scanChange
	step := len(findings) / k
	at := map[string]int{}
	for i := range next.Objects {
		at[next.Objects[i].DN] = i
	}
	for j := range k {
		i := j * step
		oi := at[findings[i].Accounts[0]]
		copied := *next.Objects[oi] // the service account of finding i; snap's stays as it was
		o := &copied
		next.Objects[oi] = o
		ch.removedObjects = append(ch.removedObjects, int32(oi))
		spn := "HTTP/moved" + o.SAMAccountName
		o.SPNs = append(slices.Clone(o.SPNs), spn)
		o.USNChanged++
		findings[i].Message = o.SAMAccountName + " is a user account with 2 SPN(s)"
		ch.removedFindings = append(ch.removedFindings, int32(i))
		from[i] = -1
		findings = append(findings, audit.Finding{
			Rule: audit.RuleGhostSPN, Severity: audit.SeverityLow, SPN: spn, Accounts: []string{o.DN},
			Message: "no host", Remediation: []string{}, References: []string{},
		})
		from = append(from, -1)
	}
	slices.Sort(ch.removedObjects)
	ch.addedObjects = slices.Clone(ch.removedObjects) // changed in place
	order := make([]int, len(findings))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return compareFindings(&findings[a], &findings[b]) })
	sorted := make([]audit.Finding, len(findings))
	for p, i := range order {
		sorted[p] = findings[i]
		if from[i] < 0 {
			ch.addedFindings = append(ch.addedFindings, int32(p))
		}
	}
	return &next, audit.Result{Findings: sorted}, ch
}

// newAccountsScan is a poll of largeScan's directory that found k new
// service accounts with an SPN each, spread over it, and their
// kerberoastable-account findings, with the positions of what it added.
func newAccountsScan(snap *inventory.Snapshot, res audit.Result, k int) (*inventory.Snapshot, audit.Result, scanChange) {
	next := *snap
	objects := slices.Clone(snap.Objects)
	findings := slices.Clone(res.Findings)
	step := len(res.Findings) / k
	for j := range k {
		svc := fmt.Sprintf("svc%06dnew", j*step)
		dn := "CN=" + svc + ",OU=Svc,DC=corp,DC=example,DC=test"
		objects = append(objects, &inventory.Object{
			DN: dn, Domain: "corp.example.test", SAMAccountName: svc, Kind: inventory.KindUser,
			SPNs: []string{"MSSQLSvc/" + svc + ".corp.example.test:1433"},
		})
		findings = append(findings, audit.Finding{
			Rule: audit.RuleKerberoastableAccount, Severity: audit.SeverityMedium, Accounts: []string{dn},
			Message: svc + " is a user account with 1 SPN(s)", Remediation: []string{}, References: []string{},
		})
	}
	var ch scanChange
	next.Objects, ch.addedObjects = sortedWithNew(objects, len(snap.Objects), func(a, b **inventory.Object) int { return compareObjects(*a, *b) })
	sorted, addedFindings := sortedWithNew(findings, len(res.Findings), compareFindings)
	ch.addedFindings = addedFindings
	return &next, audit.Result{Findings: sorted}, ch
}

// sortedWithNew sorts items, the first old of which are sorted, and
// returns the positions of the others.
func sortedWithNew[T any](items []T, old int, compare func(a, b *T) int) ([]T, []int32) {
	perm := make([]int, len(items))
	for i := range perm {
		perm[i] = i
	}
	slices.SortStableFunc(perm, func(a, b int) int { return compare(&items[a], &items[b]) })
	out := make([]T, len(items))
	var added []int32
	for p, i := range perm {
		out[p] = items[i]
		if i >= old {
			added = append(added, int32(p))
		}
	}
	return out, added
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

// BenchmarkViewLiveHeap reports what the view of largeScan's snapshot
// holds between scrapes (live-B: bytes left after a forced collection, the
// inputs aside), dated as the daemon's history dates findings (issue 9: the
// daemon's steady memory): built afresh (rebuild), and derived from it
// through polls that changed 100 service accounts (updated_k=100: the name
// table compacted, the index updated in place).
func BenchmarkViewLiveHeap(b *testing.B) {
	snap, res := datedLargeScan(50_000)
	order := newSeriesOrder()
	scans := alternatingScans(b, snap, res, 100, changeBoth)
	for _, updates := range []int{0, 40} {
		name := map[int]string{0: "rebuild", 40: "updated_k=100"}[updates]
		b.Run(name, func(b *testing.B) {
			var live uint64
			for b.Loop() {
				base := liveHeap()
				v := newSnapshotView(snap, res, time.Now(), 1000, order)
				for i := range updates {
					v = v.updated(scans[i%2].snap, scans[i%2].res, time.Now(), 1000, order)
				}
				live += liveHeap() - base
				runtime.KeepAlive(v)
			}
			b.ReportMetric(float64(live)/float64(b.N), "live-B")
		})
	}
}

// datedLargeScan is largeScan(n) with each finding first seen a second
// after the one before, as the daemon's history dates them.
func datedLargeScan(n int) (*inventory.Snapshot, audit.Result) {
	snap, res := largeScan(n)
	first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range res.Findings {
		t := first.Add(time.Duration(i) * time.Second)
		res.Findings[i].FirstSeen = &t
	}
	return snap, res
}

// liveHeap is the heap's live bytes after a forced collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkCollectLargeView gathers the store's series (what a /metrics
// scrape collects) for BenchmarkViewLiveHeap's dated snapshot: 1,000 info
// series of 50,000, with their first_seen dates.
func BenchmarkCollectLargeView(b *testing.B) {
	snap, res := datedLargeScan(50_000)
	s := NewStore(Options{Rules: audit.RuleIDs, MaxFindingSeries: 1000})
	s.ScanSucceeded(inventory.FullScan, snap, res)
	benchGather(b, s)
}
