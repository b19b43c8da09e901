package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/daemon"
	"github.com/spnaudit/spnaudit/internal/gen"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/ldapscan"
	"github.com/spnaudit/spnaudit/metrics"
	"github.com/spnaudit/spnaudit/state"
	"github.com/spnaudit/spnaudit/web"
)

const daemonChildArg = "daemon-child"

func numCPU() int { return runtime.NumCPU() }

// daemonFigures is what the daemon child reports.
type daemonFigures struct {
	Objects, SPNs int
	Full          time.Duration // the first full scan: read, audit, publish
	Poll          time.Duration // median of the polls that changed nothing
	PollPublish   time.Duration // median time the store took to publish them
	SteadyRSS     int64         // after the polls and a scrape
	PeakRSS       int64         // VmHWM
	HeapInuse     uint64
	LiveHeap      uint64 // after a forced collection: what the daemon holds
	// Before the /metrics scrape, and how long it took.
	RSSBeforeScrape  int64
	HeapBeforeScrape uint64
	Scrape           time.Duration
	// Polls that changed k objects each, for each k (issue 9: a poll that
	// changed k objects should cost in proportion to k).
	ByK []kChangeFigures
}

// kChangeFigures are the medians of the polls that changed K objects: of
// the whole poll, of its audit, of publishing it to the store and of the
// scanner's merge of the changed objects into the snapshot.
type kChangeFigures struct {
	K                           int
	Poll, Audit, Publish, Merge time.Duration
}

// daemon measures the daemon over the generated directory, in a child
// process of its own so that its RSS is the daemon's alone: once as
// shipped, with the GOMEMLIMIT the systemd example sets, and with the
// goal's 150 MiB as the limit.
func (cfg config) daemon(w io.Writer) error {
	objects := scaled(gen.DirectoryObjects, cfg.scale)
	path, st, err := cfg.export("directory.ldif", func(f io.Writer) (gen.Stats, error) { return gen.WriteDirectory(f, objects) })
	if err != nil {
		return err
	}
	defer os.Remove(path)
	// k-change polls of at most a tenth of the directory, as the
	// incremental audit's (incremental.go).
	var ks, skipped []string
	for _, k := range changedPerPoll {
		if k > objects/10 {
			skipped = append(skipped, fmt.Sprint(k))
		} else {
			ks = append(ks, fmt.Sprint(k))
		}
	}
	fmt.Fprintf(w, "\n== Daemon: %s; a full scan, polls that changed k = %s objects, polls that changed nothing, then a /metrics scrape\n",
		describe(st), strings.Join(ks, ", "))
	fmt.Fprintln(w, "  (the scanner is in-process: it decodes the LDIF as the LDAP scan decodes entries; no network, no sealing)")
	// Unset; the deployment examples' value (deploy/systemd); the goal;
	// and as the examples deploy it, with state.dir (the history) too.
	for run, limit := range []string{"", "460MiB", "150MiB", "460MiB"} {
		args := []string{daemonChildArg, "-ldif", path, "-polls", "5", "-changed", strings.Join(ks, ","), "-changed-polls", "5"}
		withState := run == 3
		if withState {
			dir, err := os.MkdirTemp("", "spnaudit-bench-state")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			args = append(args, "-state", dir)
		}
		cmd := exec.Command(cfg.self, args...)
		cmd.Env = append(os.Environ(), "GOMEMLIMIT="+limit)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("daemon child: %w", err)
		}
		var f daemonFigures
		if err := json.Unmarshal(out, &f); err != nil {
			return fmt.Errorf("daemon child: %w: %s", err, out)
		}
		name := "GOMEMLIMIT unset"
		if limit != "" {
			name = "GOMEMLIMIT=" + limit
		}
		if withState {
			name = "state.dir, " + limit
		}
		fmt.Fprintf(w, "  %-18s full scan %s, no-change poll %v (%s of the full scan); steady RSS %s, peak RSS %s, heap in use %s, live heap %s\n",
			name, secs(f.Full), f.Poll.Round(time.Microsecond), ratio(float64(f.Poll), float64(f.Full)), mib(f.SteadyRSS), mib(f.PeakRSS),
			mib(int64(f.HeapInuse)), mib(int64(f.LiveHeap)))
		fmt.Fprintf(w, "  %-18s publishing a no-change poll to the metrics store: %v\n", "", f.PollPublish.Round(time.Millisecond))
		perK := map[int]kChangeFigures{}
		for _, c := range f.ByK {
			perK[c.K] = c
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			fmt.Fprintf(w, "  %-18s a poll that changed k=%-5d objects: %7.1f ms (audit %.1f ms, publish %.1f ms, the scanner's merge %.1f ms)\n", "", c.K,
				ms(c.Poll), ms(c.Audit), ms(c.Publish), ms(c.Merge))
		}
		for _, k := range skipped {
			fmt.Fprintf(w, "  %-18s a poll that changed k=%-5s objects: skipped, more than a tenth of the directory\n", "", k)
		}
		if run == 0 {
			// In proportion to k; and a poll of 100 changes a small part of
			// a full scan (read, audit, publish), whose cost is the domain's.
			goal(w, "daemon k-change poll: k=1000 / k=100", perK[1000].Poll.Seconds(), perK[100].Poll.Seconds(), 10.5)
			full := f.Full.Seconds()
			if _, ok := perK[100]; !ok {
				full = 0 // not measured: n/a
			}
			goal(w, "daemon k-change poll: k=100 / full scan", perK[100].Poll.Seconds(), full, 0.1)
		}
		fmt.Fprintf(w, "  %-18s before the first /metrics scrape: RSS %s, heap in use %s; the scrape took %s\n", "",
			mib(f.RSSBeforeScrape), mib(int64(f.HeapBeforeScrape)), secs(f.Scrape))
		memGoal(w, "daemon steady RSS ("+name+")", f.SteadyRSS, 150<<20)
	}
	return cfg.incrementalAudit(w, path) // incremental.go
}

// daemonChild runs the daemon over an LDIF directory and prints
// daemonFigures as JSON.
func daemonChild(args []string) int {
	fs := flag.NewFlagSet(daemonChildArg, flag.ExitOnError)
	path := fs.String("ldif", "", "directory export")
	polls := fs.Int("polls", 5, "polls that change nothing")
	changedList := fs.String("changed", "", "objects each changing poll changes, comma-separated: changed-polls polls for each")
	changedPolls := fs.Int("changed-polls", 0, "polls that change objects for each -changed value, before those that change nothing")
	stateDir := fs.String("state", "", "state.dir: record the history there, as serve does (empty: none)")
	_ = fs.Parse(args)
	var ks []int
	for _, v := range strings.Split(*changedList, ",") {
		if k, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && k > 0 {
			ks = append(ks, k)
		}
	}
	sc := &ldifScanner{path: *path, changedPolls: *changedPolls}
	for _, k := range ks {
		for range *changedPolls {
			sc.changes = append(sc.changes, k)
		}
	}
	changing := len(sc.changes)
	rec := &scanRecorder{done: make(chan struct{}), want: 1 + changing + *polls}
	var audits []time.Duration // of every audit run, the full scan's first
	store := metrics.NewStore(metrics.Options{Rules: audit.RuleIDs, Stages: daemon.Stages, MaxFindingSeries: 1000})
	var history daemon.History
	if *stateDir != "" {
		journal, err := state.Open(state.Options{Dir: *stateDir, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		defer journal.Close()
		history = stateHistory{journal}
	}
	d, err := daemon.New(daemon.Config{
		Scanner: sc,
		Audit: func(snap *inventory.Snapshot, _ map[string]bool) audit.Result {
			start := time.Now()
			defer func() { audits = append(audits, time.Since(start)) }()
			return audit.Run(snap, audit.Config{})
		},
		// As serve wires it: a poll's audit from the last one's state.
		IncrementalAudit: func(prev *audit.State, snap *inventory.Snapshot, _ map[string]bool) *audit.State {
			start := time.Now()
			defer func() { audits = append(audits, time.Since(start)) }()
			return audit.Next(prev, snap, audit.Config{})
		},
		Sink:         &timedSink{Store: store, rec: rec},
		History:      history,
		FullInterval: time.Hour,
		PollInterval: time.Millisecond,
		Timeout:      10 * time.Minute,
		Logger:       slog.New(rec),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); d.Run(ctx) }()
	<-rec.done
	cancel()
	<-stopped
	time.Sleep(time.Second)
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	rssBefore := statusField(fmt.Sprintf("/proc/%d/status", os.Getpid()), "VmRSS:")
	// One scrape, as Prometheus would.
	scrapeStart := time.Now()
	h := web.NewHandler(store, metrics.NewRegistry(store), slog.New(slog.DiscardHandler))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/metrics", nil))
	scrape := time.Since(scrapeStart)
	// Steady state: what the process holds a while after the scans, as
	// between two polls of a real daemon (the scavenger returns freed
	// pages to the OS in the background).
	time.Sleep(2 * time.Second)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	self := fmt.Sprintf("/proc/%d/status", os.Getpid())
	sc.mu.Lock()
	snap := sc.last
	sc.mu.Unlock()
	f := daemonFigures{
		Objects: len(snap.Objects), SPNs: snap.SPNCount(),
		Full: rec.durations[0], Poll: median(rec.durations[1+changing:]), PollPublish: median(rec.publish[1+changing:]),
		SteadyRSS: statusField(self, "VmRSS:"), PeakRSS: statusField(self, "VmHWM:"), HeapInuse: ms.HeapInuse,
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	f.LiveHeap = ms.HeapAlloc
	// SPNBENCH_DAEMON_HEAP=file writes the live heap's profile (go tool
	// pprof -sample_index=inuse_space).
	writeHeap(os.Getenv("SPNBENCH_DAEMON_HEAP"))
	f.RSSBeforeScrape, f.HeapBeforeScrape, f.Scrape = rssBefore, before.HeapInuse, scrape
	for j, k := range ks {
		lo, hi := 1+j**changedPolls, 1+(j+1)**changedPolls
		f.ByK = append(f.ByK, kChangeFigures{K: k, Poll: median(rec.durations[lo:hi]), Publish: median(rec.publish[lo:hi]),
			Audit: median(audits[min(lo, len(audits)):min(hi, len(audits))]),
			Merge: median(sc.merges[lo-1 : hi-1])})
	}
	_ = json.NewEncoder(os.Stdout).Encode(f)
	runtime.KeepAlive(store)
	runtime.KeepAlive(d)
	return 0
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// changedPerPoll are how many objects the bench's changing polls change
// (k), each in polls of its own.
var changedPerPoll = []int{10, 100, 1000}

// ldifScanner reads the directory from an LDIF export: a full scan decodes
// it all; the first polls change changes[i] objects each, the others find
// nothing changed.
type ldifScanner struct {
	path         string
	changes      []int // objects the i-th poll changes
	changedPolls int
	polls        int
	merges       []time.Duration // of the changing polls
	mu           sync.Mutex
	last         *inventory.Snapshot
}

func (s *ldifScanner) Scan(context.Context) (*ldapscan.Result, error) {
	f, err := os.Open(s.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res, err := ldapscan.ReadLDIF(f, "fake")
	if err != nil {
		return nil, err
	}
	res.Snapshot.Started = time.Now()
	s.mu.Lock()
	s.last = res.Snapshot
	s.mu.Unlock()
	return &ldapscan.Result{Snapshot: res.Snapshot, Watermark: ldapscan.Watermark{Server: "fake", USN: 1},
		Stats: ldapscan.Stats{Mode: inventory.FullScan, Server: "fake", Entries: res.Entries}}, nil
}

// Poll returns a new snapshot of the same objects, as ldapscan's poll
// does when nothing changed (with an empty change); or, for the first
// polls, a copy with changes[i] objects each given one more SPN, spread
// over the directory (as ldapscan's changeSet.apply merges the changed
// entries into a copy), with the change that names them, as ldapscan's
// poll records it (inventory.Change).
func (s *ldifScanner) Poll(_ context.Context, prev *ldapscan.Result) (*ldapscan.Result, error) {
	snap := *prev.Snapshot
	snap.Started = time.Now()
	entries := 0
	var at []int32
	if s.polls < len(s.changes) && len(snap.Objects) > 0 {
		changed := s.changes[s.polls]
		start := time.Now()
		snap.Objects = slices.Clone(snap.Objects)
		for i := range changed {
			p := (i*len(snap.Objects)/changed + s.polls) % len(snap.Objects)
			o := *snap.Objects[p] // the previous snapshot's object stays as it was
			o.SPNs = append(slices.Clone(o.SPNs), fmt.Sprintf("HTTP/changed-%d-%d.bench.test", s.polls, i))
			o.USNChanged++
			snap.Objects[p] = &o
			at = append(at, int32(p))
		}
		// Replaced in place: removed and added at the same positions.
		slices.Sort(at)
		at = slices.Compact(at)
		s.merges = append(s.merges, time.Since(start))
		entries = changed
	}
	if err := snap.SetChange(prev.Snapshot, at, at); err != nil {
		return nil, err
	}
	s.polls++
	// The figures read the last snapshot; keeping the full scan's would
	// hold its objects after a changing poll replaced them.
	s.mu.Lock()
	s.last = &snap
	s.mu.Unlock()
	return &ldapscan.Result{Snapshot: &snap, Watermark: prev.Watermark,
		Stats: ldapscan.Stats{Mode: inventory.IncrementalScan, Server: "fake", Entries: entries}}, nil
}

// scanRecorder is a slog handler that records the duration of each scan
// the daemon reports done, and closes done after want of them.
type scanRecorder struct {
	mu        sync.Mutex
	durations []time.Duration
	publish   []time.Duration // of each scan to the store
	want      int
	done      chan struct{}
}

func (r *scanRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *scanRecorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *scanRecorder) WithGroup(string) slog.Handler            { return r }
func (r *scanRecorder) Handle(_ context.Context, rec slog.Record) error {
	if rec.Level >= slog.LevelError {
		fmt.Fprintln(os.Stderr, "daemon:", rec.Message)
	}
	if rec.Message != "scan done" {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key == "duration" {
			r.durations = append(r.durations, a.Value.Duration())
		}
		return true
	})
	if len(r.durations) == r.want {
		close(r.done)
	}
	return nil
}

// timedSink records how long publishing each scan to the store takes: the
// store builds the scrape's view of the whole snapshot on every scan.
type timedSink struct {
	*metrics.Store
	rec *scanRecorder
}

func (t *timedSink) ScanSucceeded(mode inventory.ScanMode, snap *inventory.Snapshot, res audit.Result) {
	start := time.Now()
	t.Store.ScanSucceeded(mode, snap, res)
	t.rec.mu.Lock()
	t.rec.publish = append(t.rec.publish, time.Since(start))
	t.rec.mu.Unlock()
}

// stateHistory is the state store as serve hands it to the daemon
// (cmd/spnaudit's journal).
type stateHistory struct{ store *state.Store }

func (h stateHistory) Record(snap *inventory.Snapshot, result audit.Result, mode inventory.ScanMode) ([]audit.Finding, error) {
	return h.store.RecordResult(snap, result, state.Poll{Mode: string(mode)})
}
