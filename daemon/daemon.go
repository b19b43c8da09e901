// Package daemon schedules spnaudit's scans: a full scan at start and every
// full interval, incremental polls in between, one at a time and each with a
// deadline. Every successful scan is audited and published to a Sink; a
// failed one is reported with the stage that failed and never replaces the
// last good snapshot. The package does no I/O itself: the scanner, the
// Kerberos client, the audit and the sink are handed in.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"runtime/debug"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/ldapscan"
)

// Scanner reads the directory; *ldapscan.Scanner implements it. Poll falls
// back to a full scan by itself when prev's watermark cannot be used.
type Scanner interface {
	Scan(ctx context.Context) (*ldapscan.Result, error)
	Poll(ctx context.Context, prev *ldapscan.Result) (*ldapscan.Result, error)
}

// Kerberos keeps the daemon's ticket fresh; *krb.Client implements it.
type Kerberos interface {
	// Login makes sure a usable TGT is held (a no-op while it is fresh).
	Login(ctx context.Context) error
	TGTExpiry() time.Time
}

// Sink receives every scan outcome, stated in the daemon's terms: the mode it
// scheduled (inventory.ScanMode, the one mode type, shared with ldapscan),
// the snapshot the scanner produced, the audit of it, and one of Stages.
// *metrics.Store implements it without importing this package, and cmd wires
// the two: the daemon schedules and never depends on how results are shown.
type Sink interface {
	// ScanSucceeded publishes snap, the complete inventory after the scan
	// (for a poll: the merged inventory; its Started and Duration describe
	// this scan), and its audit (findings after suppressions, most severe
	// first; the suppressed ones; the expired suppressions).
	ScanSucceeded(mode inventory.ScanMode, snap *inventory.Snapshot, findings audit.Result)
	// ScanFailed reports a failed scan and the stage (one of Stages) that
	// failed; the last good snapshot stays published.
	ScanFailed(mode inventory.ScanMode, stage string, err error)
	// CountFailure counts a failure that did not stop the scan from
	// publishing (DNS could not answer for some names).
	CountFailure(mode inventory.ScanMode, stage string)
	// SetLDAPServers records the servers one scan reached (true) or failed
	// to reach (false); after a full scan they replace the recorded ones.
	SetLDAPServers(up map[string]bool, full bool)
	SetTGTExpiry(time.Time)
}

// Auditor audits one snapshot (audit.Run with the configured farms and
// suppressions). resolved are the HostResolver's definite answers, nil
// without one. It does no I/O.
type Auditor func(snap *inventory.Snapshot, resolved map[string]bool) audit.Result

// IncrementalAuditor audits one snapshot from the previous audit's state
// (audit.Next with the configured farms and suppressions): prev is nil for
// a full scan, and the last audit otherwise, so that a poll that changed k
// objects re-judges only what they reach (issue 9). Its result must equal
// the Auditor's. It does no I/O.
type IncrementalAuditor func(prev *audit.State, snap *inventory.Snapshot, resolved map[string]bool) *audit.State

// HostResolver answers, for audit.resolve_dns, which of the host names that
// nothing in a snapshot vouches for exist in DNS.
type HostResolver interface {
	// ResolveHosts returns the definite answers (true: resolves, false: no
	// such host) and the names DNS could not answer for, which the audit
	// leaves out. An error means ctx ended first: the answers are
	// incomplete and the scan fails.
	ResolveHosts(ctx context.Context, snap *inventory.Snapshot) (answers map[string]bool, failed []string, err error)
}

// Failure stages the daemon adds to ldapscan's.
const (
	StageKerberos = "kerberos" // getting or renewing the TGT
	StageDNS      = "dns"      // resolving host names (audit.resolve_dns)
	StageAudit    = "audit"    // building findings (a bug: the audit cannot fail)
	StageState    = "state"    // recording history in state.dir (history.go)
	// StageOther is a scanner failure that names no stage (such as a
	// deadline that passed between requests).
	StageOther = "other"
)

// Stages lists every stage a failure can be reported with, for the sink's
// pre-initialised series.
var Stages = []string{
	StageKerberos,
	string(ldapscan.StageConnect), string(ldapscan.StageBind), string(ldapscan.StageRootDSE),
	string(ldapscan.StageConfig), string(ldapscan.StageSearch), string(ldapscan.StageRange),
	StageDNS, string(ldapscan.StageReferral),
	StageAudit, StageState, StageOther,
}

// Config is what a Daemon needs.
type Config struct {
	Scanner Scanner
	// Kerberos may be nil for a scanner that does not use Kerberos.
	Kerberos Kerberos
	Audit    Auditor
	// IncrementalAudit may be nil: every scan runs Audit. When set, it
	// audits every scan instead of Audit.
	IncrementalAudit IncrementalAuditor
	// Resolver may be nil: no DNS resolution (audit.resolve_dns off).
	Resolver HostResolver
	Sink     Sink
	// History may be nil: no state store (history.go).
	History History
	// Servers are the configured ldap.urls, in failover order: after a full
	// scan, which connects afresh trying them in order, the servers before
	// the one that answered are reported down.
	Servers []string

	FullInterval time.Duration // scan.full_interval
	PollInterval time.Duration // scan.poll_interval
	Timeout      time.Duration // scan.timeout: the deadline of one scan, login and audit included

	Clock  Clock        // nil means the system clock
	Logger *slog.Logger // nil means slog.Default()
}

// Daemon runs the scan schedule. Create it with New and start it with Run.
type Daemon struct {
	cfg Config

	// Owned by the Run goroutine.
	last     *ldapscan.Result // the last good scan: the base of the next poll
	lastFull time.Time        // when the last successful full scan started
	failures int              // consecutive failed scans, for the back-off
	expired  expiredSuppressions
	// lastAudit is the last audit run, of the snapshot started at
	// lastAuditAt with the DNS answers lastResolved; a poll that changed
	// nothing reuses it (reused).
	lastAudit    *audit.Result
	lastAuditAt  time.Time
	lastResolved map[string]bool
	reused       bool
	// lastState is the state of lastAudit for IncrementalAudit; audited is
	// the state of the scan being made, kept once it is published.
	lastState, audited *audit.State
	// lastSPNs is the SPN count of the last snapshot counted (spncount.go).
	lastSPNs int
}

// maxBackoff caps the wait between failed scans: long enough to spare a DC
// or KDC that is down, short enough that recovery shows within minutes.
const maxBackoff = 5 * time.Minute

// New checks cfg and returns a Daemon.
func New(cfg Config) (*Daemon, error) {
	switch {
	case cfg.Scanner == nil || cfg.Audit == nil || cfg.Sink == nil:
		return nil, errors.New("daemon: Scanner, Audit and Sink are required")
	case cfg.PollInterval <= 0 || cfg.Timeout <= 0:
		return nil, fmt.Errorf("daemon: poll interval %v and timeout %v must be positive", cfg.PollInterval, cfg.Timeout)
	case cfg.FullInterval <= cfg.PollInterval:
		return nil, fmt.Errorf("daemon: full interval %v must be longer than the poll interval %v", cfg.FullInterval, cfg.PollInterval)
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Daemon{cfg: cfg}, nil
}

// Run scans until ctx is cancelled: a full scan at once, then one scan per
// poll interval (counted from the start of the previous one, so a slow scan
// is followed at once by the next), full when the full interval has passed
// since the last successful full scan or the last full scan failed,
// incremental otherwise. After consecutive failures the interval doubles
// each time, up to the shorter of five minutes and the full interval, and
// returns to the poll interval with the first success. A scan in progress is
// cancelled with ctx and is not reported as a failure.
func (d *Daemon) Run(ctx context.Context) {
	log := d.cfg.Logger
	log.Info("scan schedule started", "full_interval", d.cfg.FullInterval, "poll_interval", d.cfg.PollInterval, "timeout", d.cfg.Timeout)
	for {
		started := d.cfg.Clock.Now()
		d.scan(ctx, started)
		wait := d.interval() - d.cfg.Clock.Now().Sub(started)
		select {
		case <-ctx.Done():
			log.Info("scan schedule stopped")
			return
		case <-d.cfg.Clock.After(wait):
		}
	}
}

// interval is the time from the start of one scan to the start of the next:
// the poll interval, doubled for each consecutive failure after the first.
func (d *Daemon) interval() time.Duration {
	limit := max(d.cfg.PollInterval, min(maxBackoff, d.cfg.FullInterval))
	wait := d.cfg.PollInterval
	for i := 1; i < d.failures && wait < limit; i++ {
		wait *= 2
	}
	return min(wait, limit)
}

// nextMode is the mode of the scan that starts now.
func (d *Daemon) nextMode(now time.Time) inventory.ScanMode {
	if d.last == nil || now.Sub(d.lastFull) >= d.cfg.FullInterval {
		return inventory.FullScan
	}
	return inventory.IncrementalScan
}

// scan runs one scan under the scan deadline and reports its outcome.
func (d *Daemon) scan(ctx context.Context, started time.Time) {
	mode := d.nextMode(started)
	scanCtx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()

	res, findings, dnsFailed, stage, err := d.attempt(scanCtx, mode)
	if d.cfg.Kerberos != nil {
		d.cfg.Sink.SetTGTExpiry(d.cfg.Kerberos.TGTExpiry())
	}
	elapsed := d.cfg.Clock.Now().Sub(started)
	if err != nil {
		if ctx.Err() != nil {
			d.cfg.Logger.Info("scan cancelled", "mode", mode, "duration", elapsed)
			return
		}
		d.failures++
		d.reportServers(mode, nil, err)
		d.cfg.Sink.ScanFailed(mode, stage, err)
		d.cfg.Logger.Error("scan failed; the last good snapshot stays published", "mode", mode, "stage", stage,
			"duration", elapsed, "retry_in", d.interval(), "err", err)
		return
	}
	d.failures = 0

	// A poll that had to fall back to a full scan is a full scan.
	if res.Stats.Mode == inventory.FullScan {
		mode = inventory.FullScan
		d.lastFull = started
	}
	dated := d.record(res.Snapshot, findings, mode) // history.go
	if !d.reused {
		// A reused audit keeps its findings, dated when they were made:
		// nothing changed, so the history dates them the same, and the
		// metrics store recognises the very same findings and reuses its
		// view instead of rebuilding it from a fresh copy. With the
		// audit's change, the history dated the findings in place: dated
		// is findings.Findings itself, and the change still holds.
		findings.Findings = dated
	}
	spns := d.spnCount(res.Snapshot) // spncount.go, from d.last
	d.last = res
	if !d.reused {
		d.lastAudit, d.lastAuditAt = &findings, started
		d.lastState = d.audited
		if d.cfg.History != nil && d.audited != nil {
			// The next audit splices from the published, dated findings:
			// its kept findings carry their FirstSeen, and its change is
			// from the findings the history recorded (history.go).
			d.lastState = d.audited.WithResult(findings)
		}
	}
	d.reportServers(mode, res, nil)
	d.cfg.Sink.ScanSucceeded(mode, res.Snapshot, findings)
	if len(dnsFailed) > 0 {
		d.cfg.Sink.CountFailure(mode, StageDNS)
		d.cfg.Logger.Warn("DNS could not answer for some host names; their ghost-spn findings are left out until it does",
			"mode", mode, "stage", StageDNS, "hosts", len(dnsFailed), "first", dnsFailed[0])
	}
	d.expired.report(d.cfg.Logger, findings.ExpiredSuppressions)
	attrs := []any{"mode", mode, "duration", elapsed, "server", res.Stats.Server,
		"objects", len(res.Snapshot.Objects), "spns", spns,
		"findings", len(findings.Findings), "suppressed", findings.SuppressedCount()}
	if mode == inventory.IncrementalScan {
		attrs = append(attrs, "changed", res.Stats.Entries, "removed", res.Stats.Removed)
	}
	if d.audited != nil && !d.reused {
		// How much the audit re-judged: a neighbourhood, or everything.
		if st := d.audited.Stats(); st.Incremental {
			attrs = append(attrs, "audit_judged", st.Judged)
		} else {
			attrs = append(attrs, "audit_full_reason", st.FullReason)
		}
	}
	if res.Stats.FullReason != "" {
		attrs = append(attrs, "full_reason", res.Stats.FullReason)
	}
	d.cfg.Logger.Info("scan done", attrs...)
	// A scan, its audit and its publication leave garbage larger than what
	// the daemon keeps (issue 9, make bench: 200 MiB in use for a 108 MiB
	// live heap at 100,000 objects / 250,000 SPNs), which the collector
	// would reclaim only when the heap next doubles, and the scavenger give
	// back slowly. The daemon idles until the next poll: collect now and
	// give the memory back, so the steady RSS is what the daemon holds.
	debug.FreeOSMemory()
}

// attempt logs in, reads the directory, resolves host names and audits the
// result; it also returns the names DNS could not answer for. On failure it
// returns the stage that failed.
func (d *Daemon) attempt(ctx context.Context, mode inventory.ScanMode) (
	res *ldapscan.Result, findings audit.Result, dnsFailed []string, stage string, err error) {
	if d.cfg.Kerberos != nil {
		if err := d.cfg.Kerberos.Login(ctx); err != nil {
			return nil, audit.Result{}, nil, StageKerberos, err
		}
	}
	if mode == inventory.FullScan {
		res, err = d.cfg.Scanner.Scan(ctx)
	} else {
		res, err = d.cfg.Scanner.Poll(ctx, d.last)
	}
	if err != nil {
		return nil, audit.Result{}, nil, scanStage(err), err
	}
	if res.Stats.Mode == inventory.FullScan && res.Snapshot != nil {
		res = compactedScan(res)
	}
	var resolved map[string]bool
	if d.cfg.Resolver != nil {
		// A deadline that passes here fails the scan: publishing without the
		// answers would report every unresolved name as a ghost.
		resolved, dnsFailed, err = d.cfg.Resolver.ResolveHosts(ctx, res.Snapshot)
		if err != nil {
			return nil, audit.Result{}, nil, StageDNS, err
		}
	}
	if d.reused = d.unchanged(res, resolved); d.reused {
		return res, *d.lastAudit, dnsFailed, "", nil
	}
	if d.cfg.IncrementalAudit != nil {
		prev := d.lastState
		if res.Stats.Mode == inventory.FullScan {
			prev = nil
		}
		state, err := d.auditFrom(prev, res.Snapshot, resolved)
		if err != nil {
			return nil, audit.Result{}, nil, StageAudit, err
		}
		if !state.Stats().Incremental {
			// A full audit's strings are packed as Audit's are; an
			// incremental one made few, and keeps the packed ones.
			state = state.WithResult(compacted(state.Result()))
		}
		d.audited = state
		d.lastResolved = resolved
		return res, state.Result(), dnsFailed, "", nil
	}
	findings, err = d.audit(res.Snapshot, resolved)
	if err != nil {
		return nil, audit.Result{}, nil, StageAudit, err
	}
	findings = compacted(findings)
	d.lastResolved = resolved
	return res, findings, dnsFailed, "", nil
}

// auditFrom runs the incremental auditor, a panic reported as audit's.
func (d *Daemon) auditFrom(prev *audit.State, snap *inventory.Snapshot, resolved map[string]bool) (state *audit.State, err error) {
	defer func() {
		if p := recover(); p != nil {
			d.cfg.Logger.Error("audit panicked", "err", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("audit panicked: %v", p)
		}
	}()
	return d.cfg.IncrementalAudit(prev, snap, resolved), nil
}

// auditReuseLimit bounds how long a poll that changed nothing may reuse the
// last audit: the audit also judges time (password ages, suppressions whose
// day has passed), which must show within the hour, not at the next full
// scan (a day by default).
const auditReuseLimit = time.Hour

// unchanged reports whether res is a poll that found no object changed, the
// same directory settings and the same DNS answers as the last audit, run
// less than auditReuseLimit ago: that audit still holds, so the audit, whose
// cost grows with the domain, is not run again (issue 9).
func (d *Daemon) unchanged(res *ldapscan.Result, resolved map[string]bool) bool {
	return d.lastAudit != nil && d.last != nil && res.Stats.Mode == inventory.IncrementalScan &&
		res.Stats.Entries == 0 && res.Stats.Removed == 0 &&
		sameObjects(res.Snapshot.Objects, d.last.Snapshot.Objects) &&
		reflect.DeepEqual(res.Snapshot.Directory, d.last.Snapshot.Directory) &&
		maps.Equal(resolved, d.lastResolved) &&
		d.cfg.Clock.Now().Sub(d.lastAuditAt) < auditReuseLimit
}

// sameObjects reports whether a and b are the same slice. A snapshot's
// objects are immutable, and ldapscan's poll hands back the previous slice
// itself when nothing in it changed; any change makes a new slice, including
// one no changed entry shows: a group membership change moves no member's
// uSNChanged, but inventory.ApplyPrivileges gives the member a new
// Privilege in a copy (and the audit judges it: kerberoastable-account
// becomes critical). Equal lengths alone would reuse the old audit.
func sameObjects(a, b []*inventory.Object) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// audit runs the auditor. The audit is pure code that cannot fail, so a
// panic is a bug: it is reported as a failed scan (the old snapshot stays)
// rather than taking the daemon, and the last good findings, down.
func (d *Daemon) audit(snap *inventory.Snapshot, resolved map[string]bool) (res audit.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			d.cfg.Logger.Error("audit panicked", "err", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("audit panicked: %v", p)
		}
	}()
	return d.cfg.Audit(snap, resolved), nil
}

// scanStage is the stage of a scanner error; an error without one (such as
// a deadline that passed between requests) is StageOther.
func scanStage(err error) string {
	if s := ldapscan.StageOf(err); s != "" {
		return string(s)
	}
	return StageOther
}

// reportServers publishes, after every scan that reached the directory,
// successful or not, whether each server it tried answered: the DCs of
// ldap.urls and the Global Catalog. A full scan's servers replace the
// recorded ones, so a server it did not try loses its series and none stays
// down after it recovers; a poll's update them. A failure before any server
// was tried (Kerberos) changes nothing.
func (d *Daemon) reportServers(mode inventory.ScanMode, res *ldapscan.Result, err error) {
	up := map[string]bool{}
	if err != nil {
		// Failures at connect or bind are servers down; later ones answered.
		for _, se := range scanErrors(err) {
			if se.Server != "" {
				up[se.Server] = se.Stage != ldapscan.StageConnect && se.Stage != ldapscan.StageBind
			}
		}
		for _, s := range ldapscan.ServersOf(err) {
			up[s.Server] = s.Up
		}
	} else {
		if res.Stats.Mode == inventory.FullScan {
			// A full scan tries ldap.urls in order: those before the one
			// that answered are down.
			for _, s := range d.cfg.Servers {
				if s == res.Stats.Server {
					break
				}
				up[s] = false
			}
		}
		for _, s := range res.Stats.Servers {
			up[s.Server] = s.Up
		}
		up[res.Stats.Server] = true
	}
	if len(up) > 0 {
		d.cfg.Sink.SetLDAPServers(up, mode == inventory.FullScan)
	}
}

// scanErrors returns every *ldapscan.Error in err's tree: a failover that
// failed on every server joins one per server.
func scanErrors(err error) []*ldapscan.Error {
	var out []*ldapscan.Error
	var walk func(error)
	walk = func(err error) {
		if se, ok := err.(*ldapscan.Error); ok {
			out = append(out, se)
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			if next := u.Unwrap(); next != nil {
				walk(next)
			}
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	return out
}
