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
	"reflect"
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
	SetLDAPUp(server string, up bool)
	SetTGTExpiry(time.Time)
}

// Auditor audits one snapshot (audit.Run with the configured farms and
// suppressions). It may do I/O such as DNS lookups, bounded by ctx.
type Auditor func(ctx context.Context, snap *inventory.Snapshot) audit.Result

// Failure stages the daemon adds to ldapscan's.
const (
	StageKerberos = "kerberos" // getting or renewing the TGT
	StageAudit    = "audit"    // building findings (a bug: the audit cannot fail)
)

// Stages lists every stage a failure can be reported with, for the sink's
// pre-initialised series; a failure with no known stage is reported as
// metrics.StageOther.
var Stages = []string{
	StageKerberos,
	string(ldapscan.StageConnect), string(ldapscan.StageBind), string(ldapscan.StageRootDSE),
	string(ldapscan.StageConfig), string(ldapscan.StageSearch), string(ldapscan.StageRange),
	StageAudit,
}

// Config is what a Daemon needs.
type Config struct {
	Scanner Scanner
	// Kerberos may be nil for a scanner that does not use Kerberos.
	Kerberos Kerberos
	Audit    Auditor
	Sink     Sink
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
	// lastAudit is the audit of last, reused by a poll that changed nothing.
	lastAudit *audit.Result
	// reused says the scan in progress reused lastAudit.
	reused bool
}

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
// incremental otherwise. A scan in progress is cancelled with ctx and is not
// reported as a failure.
func (d *Daemon) Run(ctx context.Context) {
	log := d.cfg.Logger
	log.Info("scan schedule started", "full_interval", d.cfg.FullInterval, "poll_interval", d.cfg.PollInterval, "timeout", d.cfg.Timeout)
	for {
		started := d.cfg.Clock.Now()
		d.scan(ctx, started)
		wait := d.cfg.PollInterval - d.cfg.Clock.Now().Sub(started)
		select {
		case <-ctx.Done():
			log.Info("scan schedule stopped")
			return
		case <-d.cfg.Clock.After(wait):
		}
	}
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

	res, findings, stage, err := d.attempt(scanCtx, mode)
	if d.cfg.Kerberos != nil {
		d.cfg.Sink.SetTGTExpiry(d.cfg.Kerberos.TGTExpiry())
	}
	elapsed := d.cfg.Clock.Now().Sub(started)
	if err != nil {
		if ctx.Err() != nil {
			d.cfg.Logger.Info("scan cancelled", "mode", mode, "duration", elapsed)
			return
		}
		d.reportServers(err)
		d.cfg.Sink.ScanFailed(mode, stage, err)
		d.cfg.Logger.Error("scan failed; the last good snapshot stays published", "mode", mode, "stage", stage,
			"duration", elapsed, "err", err)
		return
	}

	// A poll that had to fall back to a full scan is a full scan.
	if res.Stats.Mode == ldapscan.ModeFull {
		mode = metrics.ModeFull
		d.lastFull = started
		d.reportFailover(res.Stats.Server)
	}
	d.last = res
	d.lastAudit = &findings
	d.cfg.Sink.SetLDAPUp(res.Stats.Server, true)
	d.cfg.Sink.ScanSucceeded(metrics.ScanResult{
		Mode:       mode,
		Snapshot:   res.Snapshot,
		Findings:   findings.Findings,
		Suppressed: findings.SuppressedCount(),
	})
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
	// A scan, its audit and its publication leave garbage larger than what
	// the daemon keeps (issue 9, make bench: 200 MiB in use for a 108 MiB
	// live heap at 100,000 objects / 250,000 SPNs), which the collector
	// would reclaim only when the heap next doubles, and the scavenger give
	// back slowly. The daemon idles until the next poll: collect now and
	// give the memory back, so the steady RSS is what the daemon holds.
	debug.FreeOSMemory()
}

// attempt logs in, reads the directory and audits the result. On failure
// it returns the stage that failed.
func (d *Daemon) attempt(ctx context.Context, mode metrics.ScanMode) (*ldapscan.Result, audit.Result, string, error) {
	if d.cfg.Kerberos != nil {
		if err := d.cfg.Kerberos.Login(ctx); err != nil {
			return nil, audit.Result{}, StageKerberos, err
		}
	}
	var res *ldapscan.Result
	var err error
	if mode == metrics.ModeFull {
		res, err = d.cfg.Scanner.Scan(ctx)
	} else {
		res, err = d.cfg.Scanner.Poll(ctx, d.last)
	}
	if err != nil {
		return nil, audit.Result{}, scanStage(err), err
	}
	if d.reused = d.unchanged(res); d.reused {
		return res, *d.lastAudit, "", nil
	}
	findings, err := d.audit(ctx, res.Snapshot)
	if err != nil {
		return nil, audit.Result{}, StageAudit, err
	}
	return res, findings, "", nil
}

// unchanged reports whether res is a poll that found no object changed and
// the same directory settings as the last good scan: its audit would be the
// last one, so the audit, whose cost grows with the domain, is not run
// again (issue 9). What the auditor may look up besides the snapshot (DNS
// resolution of ghost candidates, the clock for password ages) is refreshed
// by the next poll that changes something or the next full scan.
func (d *Daemon) unchanged(res *ldapscan.Result) bool {
	return d.lastAudit != nil && d.last != nil && res.Stats.Mode == ldapscan.ModeIncremental &&
		res.Stats.Entries == 0 && res.Stats.Removed == 0 &&
		len(res.Snapshot.Objects) == len(d.last.Snapshot.Objects) &&
		reflect.DeepEqual(res.Snapshot.Directory, d.last.Snapshot.Directory)
}

// audit runs the auditor. The audit is pure code that cannot fail, so a
// panic is a bug: it is reported as a failed scan (the old snapshot stays)
// rather than taking the daemon, and the last good findings, down.
func (d *Daemon) audit(ctx context.Context, snap *inventory.Snapshot) (res audit.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			d.cfg.Logger.Error("audit panicked", "err", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("audit panicked: %v", p)
		}
	}()
	return d.cfg.Audit(ctx, snap), nil
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
