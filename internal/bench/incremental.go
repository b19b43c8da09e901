package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"syscall"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/internal/gen"
	"github.com/spnaudit/spnaudit/ldapscan"
)

// incrementalAudit measures, on the daemon's directory, the audit of a poll
// that changed k objects (audit.Next from the previous audit's state, as
// the daemon runs it) for k = 10, 100 and 1,000, against the full audit
// (audit.Run) of the same snapshot (issue 9: a poll that changed k objects
// costs in proportion to k, not to the domain). Medians of runs, in this
// process, side by side.
func (cfg config) incrementalAudit(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	res, err := ldapscan.ReadLDIF(f, "fake")
	f.Close()
	if err != nil {
		return err
	}
	snap := res.Snapshot
	snap.Started = time.Now()
	state := audit.RunState(snap, audit.Config{})
	runs := max(cfg.runs, 7) // cheap: more runs steady the medians
	// Each timed audit starts from a collected heap, so that neither pays
	// for the garbage of the last one or of the copy a poll makes. Wall
	// time and this process's CPU time (steadier on a loaded machine: the
	// goals compare CPU).
	type cost struct{ wall, cpu time.Duration }
	timed := func(fn func()) cost {
		runtime.GC()
		var before, after syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
		start := time.Now()
		fn()
		wall := time.Since(start)
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
		cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
		return cost{wall, cpu}
	}
	medians := func(cs []cost) cost {
		var w, c []time.Duration
		for _, x := range cs {
			w, c = append(w, x.wall), append(c, x.cpu)
		}
		return cost{median(w), median(c)}
	}
	var full []cost
	for range runs {
		full = append(full, timed(func() { audit.Run(snap, audit.Config{}) }))
	}
	ks := []int{10, 100, 1000}
	perK := map[int]cost{}
	judged := map[int]int{}
	for _, k := range ks {
		if k > len(snap.Objects)/10 {
			continue // a small directory (make bench's smoke test): not a poll's share
		}
		var cs []cost
		for round := range runs {
			next := gen.ChangedSnapshot(snap, k, round, time.Minute)
			var s *audit.State
			cs = append(cs, timed(func() { s = audit.Next(state, next, audit.Config{}) }))
			if !s.Stats().Incremental {
				return fmt.Errorf("incremental audit of %d changes ran in full: %s", k, s.Stats().FullReason)
			}
			judged[k] = s.Stats().Judged
		}
		perK[k] = medians(cs)
	}
	fullAudit := medians(full)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	fmt.Fprintf(w, "  a poll that changed k of %d objects, its audit alone (audit.Next; the full audit.Run: %.1f ms, CPU %.1f ms):\n",
		len(snap.Objects), ms(fullAudit.wall), ms(fullAudit.cpu))
	for _, k := range ks {
		if _, ok := perK[k]; !ok {
			fmt.Fprintf(w, "    k=%-5d skipped: more than a tenth of the directory\n", k)
			continue
		}
		fmt.Fprintf(w, "    k=%-5d %8.1f ms, CPU %6.1f ms  (CPU %s of the full audit's; rules re-run on %d objects)\n", k,
			ms(perK[k].wall), ms(perK[k].cpu), ratio(float64(perK[k].cpu), float64(fullAudit.cpu)), judged[k])
	}
	// In proportion to k: ten times the changes cost at most about ten
	// times as much; and a poll of 100 changes a small part of the full
	// audit, whose cost is the domain's. CPU time: the machine is shared.
	goal(w, "k-change audit CPU: k=1000 / k=100", perK[1000].cpu.Seconds(), perK[100].cpu.Seconds(), 10.5)
	fullCPU := fullAudit.cpu.Seconds()
	if _, ok := perK[100]; !ok {
		fullCPU = 0 // not measured: n/a
	}
	goal(w, "k-change audit CPU: k=100 / full audit", perK[100].cpu.Seconds(), fullCPU, 0.1)
	return nil
}
