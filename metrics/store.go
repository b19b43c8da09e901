// Package metrics collects the daemon's scan outcomes in a Store and exports
// them to Prometheus: it is the collector and the store, nothing else. The
// Store implements daemon.Sink without importing the daemon (the Sink is
// stated in inventory and audit types, which both import); cmd wires the
// two. Every scrape, and every page or API request of the web package
// (through Status), reads the Store's current immutable state through one
// atomic pointer, so serving never waits for, nor triggers, directory I/O.
// The package knows nothing of LDAP, Kerberos or HTTP: it is handed results.
package metrics

import (
	"maps"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// StageOther is the failure stage recorded for a stage the Store was not told
// about, so a caller's typo cannot create unbounded label values.
const StageOther = "other"

// BuildInfo identifies the running binary in spnaudit_build_info.
type BuildInfo struct {
	Version  string
	Revision string
	// GoVersion defaults to runtime.Version().
	GoVersion string
}

// Options configure a Store. Rules and Stages are inputs, not constants of
// this package, so the audit and the daemon stay the single source of them.
type Options struct {
	// Rules are every known audit rule id (audit.RuleIDs): spnaudit_findings
	// has a zero series for each rule and severity.
	Rules []string
	// Stages are the scan stages a failure can be attributed to (for example
	// kerberos, connect, bind, search, audit); spnaudit_scan_failures_total has
	// a zero series for each mode and stage, plus StageOther.
	Stages []string
	// MaxFindingSeries caps spnaudit_finding_info (metrics.max_finding_series,
	// 1000 by default in config); 0 exports no per-finding series.
	MaxFindingSeries int
	Build            BuildInfo
	// Now is the clock; nil means time.Now. Tests pass a fixed clock.
	Now func() time.Time
}

// Store holds the latest scan outcome. The daemon calls its methods (they may
// be called from any goroutine); readers get an immutable state.
type Store struct {
	opts   Options
	stages []string // opts.Stages plus StageOther, deduplicated
	order  seriesOrder

	writeMu sync.Mutex // serialises copy-on-write updates
	current atomic.Pointer[state]
}

// state is immutable once published: updates copy it (and any map they
// change) and swap the pointer. Counters only ever grow from one state to the
// next, because each state is derived from the previous one under writeMu.
type state struct {
	snapshot *snapshotView // nil until the first successful scan
	lastScan ScanOutcome

	scans        map[inventory.ScanMode]uint64
	failures     map[failureKey]uint64
	lastDuration map[inventory.ScanMode]time.Duration
	ldapUp       map[string]bool
	tgtExpiry    time.Time // zero when unknown
}

type failureKey struct {
	mode  inventory.ScanMode
	stage string
}

// ScanOutcome describes the most recent scan, successful or not.
type ScanOutcome struct {
	Attempted bool // false until the first scan ends
	OK        bool
	Mode      inventory.ScanMode
	At        time.Time
	Stage     string // failures only
	Err       string // failures only; shown on the landing page, never a label
}

// NewStore returns a Store with no scan yet.
func NewStore(opts Options) *Store {
	opts.MaxFindingSeries = max(opts.MaxFindingSeries, 0)
	if opts.Build.GoVersion == "" {
		opts.Build.GoVersion = runtime.Version()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Rules = slices.Clone(opts.Rules)
	stages := slices.Clone(opts.Stages)
	if !slices.Contains(stages, StageOther) {
		stages = append(stages, StageOther)
	}
	s := &Store{opts: opts, stages: stages, order: newSeriesOrder()}
	s.current.Store(&state{
		scans:        map[inventory.ScanMode]uint64{},
		failures:     map[failureKey]uint64{},
		lastDuration: map[inventory.ScanMode]time.Duration{},
		ldapUp:       map[string]bool{},
	})
	return s
}

// update publishes the state that change derives from a shallow copy of the
// current one. change must clone any map it modifies.
func (s *Store) update(change func(next *state)) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.updateLocked(change)
}

// updateLocked is update for a caller that holds writeMu.
func (s *Store) updateLocked(change func(next *state)) {
	next := *s.current.Load()
	change(&next)
	s.current.Store(&next)
}

func (s *Store) load() *state { return s.current.Load() }

// ScanSucceeded publishes a new snapshot and its audit. snap is the complete
// inventory after this scan (for an incremental poll: the merged inventory);
// its Started and Duration describe this scan, and
// spnaudit_scan_duration_seconds reports Duration. The landing page and
// /api/v1/findings keep the audit's order of findings (most severe first).
// The view for scrapes (counts, capped info series, account names) is built
// here, once, so Collect only reads.
func (s *Store) ScanSucceeded(mode inventory.ScanMode, snap *inventory.Snapshot, findings audit.Result) {
	now := s.opts.Now()
	// Under writeMu: updated moves the published view's index into the new
	// view, so no other update may derive from the published one meanwhile.
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	prev := s.load().snapshot
	view := prev.republished(snap, findings, now, s.opts.MaxFindingSeries)
	if view == nil && mode != inventory.FullScan {
		// Not for a full scan: its objects and findings are new strings
		// (the daemon packs them into chunks of their own), and a view
		// derived from the last one would keep the last scan's strings,
		// and so its chunks, alive for every series and name it kept.
		view = prev.updated(snap, findings, now, s.opts.MaxFindingSeries, s.order)
	}
	if view == nil {
		view = newSnapshotView(snap, findings, now, s.opts.MaxFindingSeries, s.order)
	}
	s.updateLocked(func(next *state) {
		next.snapshot = view
		next.lastScan = ScanOutcome{Attempted: true, OK: true, Mode: mode, At: now}
		next.scans = maps.Clone(next.scans)
		next.scans[mode]++
		next.lastDuration = maps.Clone(next.lastDuration)
		next.lastDuration[mode] = snap.Duration
	})
}

// ScanFailed records a failed or partial scan. The previous snapshot stays
// published: a failed scan never replaces the last good one. err is shown on
// the landing page, so it must not carry secrets (it never goes in a label).
func (s *Store) ScanFailed(mode inventory.ScanMode, stage string, err error) {
	if !slices.Contains(s.stages, stage) {
		stage = StageOther
	}
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	now := s.opts.Now()
	s.update(func(next *state) {
		next.lastScan = ScanOutcome{Attempted: true, Mode: mode, At: now, Stage: stage, Err: msg}
		next.scans = maps.Clone(next.scans)
		next.scans[mode]++
		next.failures = maps.Clone(next.failures)
		next.failures[failureKey{mode, stage}]++
	})
}

// CountFailure counts a failure at stage that did not stop the scan from
// publishing (DNS could not answer for some host names): the failure counter
// moves, the last scan stays successful.
func (s *Store) CountFailure(mode inventory.ScanMode, stage string) {
	if !slices.Contains(s.stages, stage) {
		stage = StageOther
	}
	s.update(func(next *state) {
		next.failures = maps.Clone(next.failures)
		next.failures[failureKey{mode, stage}]++
	})
}

// SetLDAPUp records whether a domain controller (a configured ldap.urls
// entry, so the label stays bounded) answered its last connection attempt.
func (s *Store) SetLDAPUp(server string, up bool) {
	s.update(func(next *state) {
		next.ldapUp = maps.Clone(next.ldapUp)
		next.ldapUp[server] = up
	})
}

// SetLDAPServers records which servers one scan reached (server URL:
// answered). A full scan connects afresh through ldap.urls in order, so
// with full its servers replace the recorded ones: a server it did not try
// (an ldap.urls entry after the one that answered, the Global Catalog of a
// DC no longer used) loses its series rather than keeping a value nobody
// re-checks, and a server down once is never reported down for ever. An
// incremental poll reuses its connections, so its servers update the
// recorded ones and the others keep theirs until the next full scan.
func (s *Store) SetLDAPServers(up map[string]bool, full bool) {
	s.update(func(next *state) {
		if full {
			next.ldapUp = map[string]bool{}
		} else {
			next.ldapUp = maps.Clone(next.ldapUp)
		}
		maps.Copy(next.ldapUp, up)
	})
}

// SetTGTExpiry records when the current Kerberos TGT expires; the zero time
// means no ticket.
func (s *Store) SetTGTExpiry(t time.Time) {
	s.update(func(next *state) { next.tgtExpiry = t })
}

// Ready reports whether a scan has succeeded since start.
func (s *Store) Ready() bool { return s.load().snapshot != nil }
