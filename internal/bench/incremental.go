package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
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
	// for the garbage of the last one or of the copy a poll makes.
	timed := func(fn func()) time.Duration {
		runtime.GC()
		start := time.Now()
		fn()
		return time.Since(start)
	}
	var full []time.Duration
	for range runs {
		full = append(full, timed(func() { audit.Run(snap, audit.Config{}) }))
	}
	ks := []int{10, 100, 1000}
	perK := map[int]time.Duration{}
	judged := map[int]int{}
	for _, k := range ks {
		var ds []time.Duration
		for round := range runs {
			next := changedSnapshot(snap, k, round)
			var s *audit.State
			ds = append(ds, timed(func() { s = audit.Next(state, next, audit.Config{}) }))
			if !s.Stats().Incremental {
				return fmt.Errorf("incremental audit of %d changes ran in full: %s", k, s.Stats().FullReason)
			}
			judged[k] = s.Stats().Judged
		}
		perK[k] = median(ds)
	}
	fullAudit := median(full)
	fmt.Fprintf(w, "  a poll that changed k of %d objects, its audit alone (audit.Next; the full audit.Run: %s):\n", len(snap.Objects), secs(fullAudit))
	for _, k := range ks {
		fmt.Fprintf(w, "    k=%-5d %8.1f ms  (%s of the full audit; rules re-run on %d objects)\n", k,
			float64(perK[k])/float64(time.Millisecond), ratio(float64(perK[k]), float64(fullAudit)), judged[k])
	}
	// In proportion to k: ten times the changes cost at most about ten
	// times as much; and a poll of 100 changes a small part of the full
	// audit, whose cost is the domain's.
	goal(w, "k-change audit: k=1000 / k=100", perK[1000].Seconds(), perK[100].Seconds(), 10.5)
	goal(w, "k-change audit: k=100 / full audit", perK[100].Seconds(), fullAudit.Seconds(), 0.1)
	return nil
}

// changedSnapshot is a poll's snapshot after k objects spread over the
// directory were given one more SPN each, merged into a copy as ldapscan's
// changeSet.apply does (the ldifScanner's changing polls).
func changedSnapshot(snap *inventory.Snapshot, k, round int) *inventory.Snapshot {
	next := *snap
	next.Started = snap.Started.Add(time.Minute)
	next.Objects = slices.Clone(snap.Objects)
	for i := range k {
		o := &next.Objects[(i*len(next.Objects)/k+round)%len(next.Objects)]
		o.SPNs = append(slices.Clone(o.SPNs), fmt.Sprintf("HTTP/changed-%d-%d.bench.test", round, i))
		o.USNChanged++
	}
	return &next
}
