package state

import (
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// BenchmarkRecordChange is the history's share of a daemon poll at
// 100,000 objects / 20,000 findings that changed k objects (each one more
// SPN) and k findings (each replaced by a finding on another SPN: one
// resolved, one appeared), as the scanner's poll and the incremental audit
// hand them over: a snapshot and a result made from the ones recorded
// before, with their changes set (issue 9). cpu-ms/op is the process's CPU
// time (getrusage) per Record, collector included.
//
// Side by side on the shared 2-core machine (3 alternating runs of 15
// polls, medians of cpu-ms/op), before (main 2b592d6: every account looked
// up, every finding dated into a new slice and map, the DN index rebuilt)
// and after (the changes read): k=10 91.6 -> 1.3, k=100 105.1 -> 13.7,
// k=1000 161.4 -> 66.4. What is left grows with k: bbolt's commit of the
// touched pages (spill, page allocation and remap, fdatasync) and the JSON
// of the records written.
//
// store-MiB, before (main 6fff20b: the accounts and findings mirrors and
// the DN index) and after dropping the mirrors after each Record and
// searching the sorted snapshot (lean.go, dnsearch.go): 22.9 -> 2.8 MiB,
// at the same cpu-ms/op within the shared machine's noise.
func BenchmarkRecordChange(b *testing.B) {
	for _, k := range []int{10, 100, 1000} {
		b.Run("k="+strconv.Itoa(k), func(b *testing.B) { benchRecordChange(b, 100_000, 20_000, k) })
	}
}

func benchRecordChange(b *testing.B, n, nf, k int) {
	s, err := Open(Options{Dir: b.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if s != nil {
			_ = s.Close()
		}
	}()
	objs, fs, finding := benchHistory(n, nf)
	// Two object arrays and two finding arrays alternate: each poll patches
	// the older one into the newer state in O(k), so the benchmark's own
	// work does not grow with the domain.
	objArr := [2][]*inventory.Object{slices.Clone(objs), slices.Clone(objs)}
	fArr := [2][]audit.Finding{slices.Clone(fs), slices.Clone(fs)}
	prevSnap := &inventory.Snapshot{Started: t0, Objects: objArr[0]}
	dated, err := recordResult(s, prevSnap, audit.Result{Findings: fArr[0]}, Poll{Mode: "full"})
	if err != nil {
		b.Fatal(err)
	}
	prevRes := audit.Result{Findings: dated}
	fArr[0] = dated
	var lastObjPos, lastFPos []int32
	poll := func(round int) {
		cur := round % 2
		prevObjs, prevFs := objArr[1-cur], fArr[1-cur]
		if len(prevFs) != nf {
			b.Fatal("findings lost")
		}
		co, cf := objArr[cur], fArr[cur]
		if round == 1 { // the baseline's findings came back in a copy
			cf = slices.Clone(prevFs)
		} else {
			for _, p := range lastFPos {
				cf[p] = prevFs[p]
			}
			for _, p := range lastObjPos {
				co[p] = prevObjs[p]
			}
		}
		objPos := make([]int32, k)
		fPos := make([]int32, k)
		for j := range k {
			objPos[j] = int32((j*n/k + round) % n)
			fPos[j] = int32((j*nf/k + round) % nf)
		}
		slices.Sort(objPos)
		slices.Sort(fPos)
		for _, p := range objPos {
			o := *prevObjs[p] // a changed copy, as a poll makes
			o.SPNs = append(slices.Clone(prevObjs[p].SPNs), "HTTP/changed-"+strconv.Itoa(round))
			co[p] = &o
		}
		for _, p := range fPos {
			cf[p] = finding(int(p), round)
		}
		snap := &inventory.Snapshot{Started: t0.Add(time.Duration(round) * time.Minute), Objects: co}
		if err := snap.SetChange(prevSnap, objPos, objPos); err != nil {
			b.Fatal(err)
		}
		res := audit.Result{Findings: cf}
		if err := res.SetChange(prevRes, fPos, fPos, nil, nil); err != nil {
			b.Fatal(err)
		}
		dated, err := recordResult(s, snap, res, Poll{Mode: "incremental"})
		if err != nil {
			b.Fatal(err)
		}
		objArr[cur], fArr[cur] = co, dated
		prevSnap, prevRes = snap, audit.Result{Findings: dated}
		lastObjPos, lastFPos = objPos, fPos
	}
	poll(1)
	poll(2)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := range b.N {
		poll(i + 3)
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	// store-MiB is the heap the store holds after the polls (its mirrors
	// and indexes; not lastSnap and lastResult, which the benchmark holds
	// too): the live heap after a collection, less the live heap once the
	// store is dropped.
	b.StopTimer()
	held := liveHeap()
	if path := os.Getenv("HEAPPROF"); path != "" {
		if f, err := os.Create(path); err == nil {
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	_ = s.Close()
	s = nil
	b.ReportMetric(float64(held-liveHeap())/(1<<20), "store-MiB")
	runtime.KeepAlive(objArr)
	runtime.KeepAlive(fArr)
}

// benchHistory makes n objects in the scanner's order and nf
// kerberoastable findings spread over them; finding(q, round) is the q-th
// finding, moved to another SPN after round 0.
func benchHistory(n, nf int) ([]*inventory.Object, []audit.Finding, func(q, round int) audit.Finding) {
	objs := make([]*inventory.Object, n)
	for i := range objs {
		num := fmt.Sprintf("%06d", i) // in the scanner's order (CompareFold of the DNs)
		objs[i] = &inventory.Object{GUID: inventory.MustParseGUID(fmt.Sprintf("00000000-0000-0000-0000-%012d", i)),
			DN:             "CN=svc" + num + ",OU=Apps,DC=corp,DC=example,DC=test",
			SAMAccountName: "svc" + num, SPNs: []string{"HTTP/web" + num + ".corp.example.test", "HTTP/web" + num,
				"MSSQLSvc/db" + num + ".corp.example.test:1433"}}
	}
	finding := func(q, round int) audit.Finding {
		o := objs[q*n/nf]
		spn := o.SPNs[0]
		if round > 0 {
			spn = "HTTP/moved-" + strconv.Itoa(round) + "-" + strconv.Itoa(q)
		}
		return audit.Finding{Rule: audit.RuleKerberoastableAccount, Severity: audit.SeverityHigh, SPN: spn,
			Accounts: []string{o.DN}, Message: "account " + o.SAMAccountName + " has an SPN"}
	}
	fs := make([]audit.Finding, nf)
	for q := range fs {
		fs[q] = finding(q, 0)
	}
	return objs, fs, finding
}

// BenchmarkRecordBaseline is the history's first Record of a 100,000-object
// directory with 20,000 findings: one write transaction of every account and
// finding. B/op is what it allocates: 951 MB (1.67 s) before the database
// was mapped with room to grow (mmapReserve), 272 MB (0.67-0.82 s) after;
// in make bench's daemon with state.dir, the state store's allocations went
// from 1,234 to 403 MB and the peak RSS from 459 to 411 MiB.
func BenchmarkRecordBaseline(b *testing.B) {
	objs, fs, _ := benchHistory(100_000, 20_000)
	snap := &inventory.Snapshot{Started: t0, Objects: objs}
	b.ReportAllocs()
	for range b.N {
		b.StopTimer()
		s, err := Open(Options{Dir: b.TempDir(), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := recordResult(s, snap, audit.Result{Findings: slices.Clone(fs)}, Poll{Mode: "full"}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		_ = s.Close()
		b.StartTimer()
	}
}

func liveHeap() int64 {
	runtime.GC()
	runtime.GC() // and what sync.Pools (bbolt's pages) kept past one
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
