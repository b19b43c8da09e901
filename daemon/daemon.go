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
	"runtime/debug"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/ldapscan"
	"github.com/spnaudit/spnaudit/metrics"
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

// Sink receives every scan outcome; *metrics.Store implements it.
type Sink interface {
	ScanSucceeded(metrics.ScanResult)
	ScanFailed(mode metrics.ScanMode, stage string, err error)
	// CountFailure counts a failure that did not stop the scan from
	// publishing (DNS could not answer for some names).
	CountFailure(mode metrics.ScanMode, stage string)
	SetLDAPUp(server string, up bool)
	SetTGTExpiry(time.Time)
}

// Auditor audits one snapshot (audit.Run with the configured farms and
// suppressions). resolved are the HostResolver's definite answers, nil
// without one. It does no I/O.
type Auditor func(snap *inventory.Snapshot, resolved map[string]bool) audit.Result

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
)

// Stages lists every stage a failure can be reported with, for the sink's
// pre-initialised series; a failure with no known stage is reported as
// metrics.StageOther.
var Stages = []string{
	StageKerberos,
	string(ldapscan.StageConnect), string(ldapscan.StageBind), string(ldapscan.StageRootDSE),
	string(ldapscan.StageConfig), string(ldapscan.StageSearch), string(ldapscan.StageRange),
	StageDNS, StageAudit,
	StageState,
}

// Config is what a Daemon needs.
type Config struct {
	Scanner Scanner
	// Kerberos may be nil for a scanner that does not use Kerberos.
	Kerberos Kerberos
	Audit    Auditor
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
func (d *Daemon) nextMode(now time.Time) metrics.ScanMode {
	if d.last == nil || now.Sub(d.lastFull) >= d.cfg.FullInterval {
		return metrics.ModeFull
	}
	return metrics.ModeIncremental
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
		d.reportServers(err)
		d.cfg.Sink.ScanFailed(mode, stage, err)
		d.cfg.Logger.Error("scan failed; the last good snapshot stays published", "mode", mode, "stage", stage,
			"duration", elapsed, "retry_in", d.interval(), "err", err)
		return
	}
	d.failures = 0

	// A poll that had to fall back to a full scan is a full scan.
	if res.Stats.Mode == ldapscan.ModeFull {
		mode = metrics.ModeFull
		d.lastFull = started
		d.reportFailover(res.Stats.Server)
	}
	findings.Findings = d.record(res.Snapshot, findings.Findings, mode) // history.go
	d.last = res
	d.cfg.Sink.SetLDAPUp(res.Stats.Server, true)
	d.cfg.Sink.ScanSucceeded(metrics.ScanResult{
		Mode:                mode,
		Snapshot:            res.Snapshot,
		Findings:            findings.Findings,
		Suppressed:          findings.SuppressedCount(),
		ExpiredSuppressions: len(findings.ExpiredSuppressions),
	})
	if len(dnsFailed) > 0 {
		d.cfg.Sink.CountFailure(mode, StageDNS)
		d.cfg.Logger.Warn("DNS could not answer for some host names; their ghost-spn findings are left out until it does",
			"mode", mode, "stage", StageDNS, "hosts", len(dnsFailed), "first", dnsFailed[0])
	}
	d.expired.report(d.cfg.Logger, findings.ExpiredSuppressions)
	attrs := []any{"mode", mode, "duration", elapsed, "server", res.Stats.Server,
		"objects", len(res.Snapshot.Objects), "spns", res.Snapshot.SPNCount(),
		"findings", len(findings.Findings), "suppressed", findings.SuppressedCount()}
	if mode == metrics.ModeIncremental {
		attrs = append(attrs, "changed", res.Stats.Entries, "removed", res.Stats.Removed)
	}
	if res.Stats.FullReason != "" {
		attrs = append(attrs, "full_reason", res.Stats.FullReason)
	}
	d.cfg.Logger.Info("scan done", attrs...)
}

// attempt logs in, reads the directory, resolves host names and audits the
// result; it also returns the names DNS could not answer for. On failure it
// returns the stage that failed.
func (d *Daemon) attempt(ctx context.Context, mode metrics.ScanMode) (
	res *ldapscan.Result, findings audit.Result, dnsFailed []string, stage string, err error) {
	if d.cfg.Kerberos != nil {
		if err := d.cfg.Kerberos.Login(ctx); err != nil {
			return nil, audit.Result{}, nil, StageKerberos, err
		}
	}
	if mode == metrics.ModeFull {
		res, err = d.cfg.Scanner.Scan(ctx)
	} else {
		res, err = d.cfg.Scanner.Poll(ctx, d.last)
	}
	if err != nil {
		return nil, audit.Result{}, nil, scanStage(err), err
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
	findings, err = d.audit(res.Snapshot, resolved)
	if err != nil {
		return nil, audit.Result{}, nil, StageAudit, err
	}
	return res, findings, dnsFailed, "", nil
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
// a deadline that passed between requests) is metrics.StageOther.
func scanStage(err error) string {
	if s := ldapscan.StageOf(err); s != "" {
		return string(s)
	}
	return metrics.StageOther
}

// reportServers records which servers a failed scan reached: those that
// failed to connect or bind are down, those that failed later answered.
func (d *Daemon) reportServers(err error) {
	for _, se := range scanErrors(err) {
		if se.Server == "" {
			continue
		}
		d.cfg.Sink.SetLDAPUp(se.Server, se.Stage != ldapscan.StageConnect && se.Stage != ldapscan.StageBind)
	}
}

// reportFailover marks down the servers a full scan tried before the one
// that answered.
func (d *Daemon) reportFailover(answered string) {
	for _, s := range d.cfg.Servers {
		if s == answered {
			return
		}
		d.cfg.Sink.SetLDAPUp(s, false)
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
