package audit

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/inventory"
)

// changedCopy returns a copy of snap in which k objects spread over the
// directory hold one more SPN, sharing the others as ldapscan's poll does,
// started a poll interval later, and saying so (SetChange) as the poll
// does.
func changedCopy(snap *inventory.Snapshot, k, round int) *inventory.Snapshot {
	next := *snap
	next.Started = snap.Started.Add(5 * time.Minute)
	next.Objects = slices.Clone(snap.Objects)
	var changed []int32
	for i := range k {
		p := (i*len(next.Objects)/k + round) % len(next.Objects)
		o := *next.Objects[p] // the previous snapshot's object stays as it was
		o.SPNs = append(slices.Clip(o.SPNs), fmt.Sprintf("HTTP/changed-%d-%d.bench.test", round, i))
		o.USNChanged++
		next.Objects[p] = &o
		changed = append(changed, int32(p))
	}
	slices.Sort(changed)
	changed = slices.Compact(changed)
	// Changed in place: removed from snap and added at the same positions.
	if err := next.SetChange(snap, changed, changed); err != nil {
		panic(err)
	}
	return &next
}

// BenchmarkIncrementalAudit measures an audit after a poll that changed k
// of 100,000 objects (400,000 SPNs): Next against the full Run. Its cost
// should grow with k, not with the directory.
func BenchmarkIncrementalAudit(b *testing.B) {
	snap := syntheticForest(100_000)
	state := RunState(snap, Config{})
	for _, k := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			var cpu time.Duration
			for i := range b.N {
				b.StopTimer()
				next := changedCopy(snap, k, i)
				runtime.GC() // the copy's garbage is the poll's, not the audit's
				b.StartTimer()
				start := processCPU(b)
				s := Next(state, next, Config{})
				cpu += processCPU(b) - start
				if !s.Stats().Incremental {
					b.Fatalf("full audit: %s", s.Stats().FullReason)
				}
			}
			b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
		})
	}
	b.Run("full", func(b *testing.B) {
		next := changedCopy(snap, 100, 0)
		var cpu time.Duration
		for range b.N {
			b.StopTimer()
			runtime.GC()
			b.StartTimer()
			start := processCPU(b)
			Run(next, Config{})
			cpu += processCPU(b) - start
		}
		b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
	})
}
