package audit

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/internal/gen"
)

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
				next := gen.ChangedSnapshot(snap, k, i, 5*time.Minute)
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
		next := gen.ChangedSnapshot(snap, 100, 0, 5*time.Minute)
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
