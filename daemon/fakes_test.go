package daemon

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/ldapscan"
)

var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// realWait bounds every wait of a test on the daemon goroutine.
const realWait = 10 * time.Second

// fakeClock moves only when the test advances it.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	waiting chan struct{} // one value per After that blocks
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: epoch, waiting: make(chan struct{}, 1000)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, waiter{c.now.Add(d), ch})
	c.waiting <- struct{}{}
	return ch
}

// Advance moves the clock and fires the waiters that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = kept
}

// awaitWaiter blocks until the daemon waits on the clock and returns how
// long it waits.
func (c *fakeClock) awaitWaiter(t *testing.T) time.Duration {
	t.Helper()
	select {
	case <-c.waiting:
	case <-time.After(realWait):
		t.Fatal("the daemon never went back to waiting")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.waiters) != 1 {
		t.Fatalf("%d waiters, want 1", len(c.waiters))
	}
	return c.waiters[0].at.Sub(c.now)
}

func (c *fakeClock) since() time.Duration { return c.Now().Sub(epoch) }

// step is one scripted call of the fake scanner.
type step struct {
	call    string // "scan" or "poll"
	result  string // name of the result; empty when the call fails
	mode    inventory.ScanMode
	server  string // the DC that answered; default dc1
	objects int
	err     error
	takes   time.Duration // clock time the call takes
	// block waits for the context to end, as a hung DC would, and returns
	// its error inside a search-stage error.
	block bool
	// servers are the servers the scanner reports it reached (Stats.Servers,
	// or ldapscan.ServersOf of err).
	servers []ldapscan.ServerStatus
}

const dc1, dc2 = "ldap://dc1.example.test", "ldap://dc2.example.test"

// gc1 is dc1's Global Catalog.
const gc1 = "ldap://dc1.example.test:3268"

// fakeScanner plays a script and records the calls: "15s poll r1" is a
// poll 15s after start from the result named r1.
type fakeScanner struct {
	clock *fakeClock
	mu    sync.Mutex
	steps []step
	calls []string
	// lastCtxErr is the context error a blocked call saw.
	lastCtxErr error
}

func (s *fakeScanner) Scan(ctx context.Context) (*ldapscan.Result, error) {
	return s.play(ctx, "scan", nil)
}

func (s *fakeScanner) Poll(ctx context.Context, prev *ldapscan.Result) (*ldapscan.Result, error) {
	return s.play(ctx, "poll", prev)
}

func (s *fakeScanner) play(ctx context.Context, call string, prev *ldapscan.Result) (*ldapscan.Result, error) {
	s.mu.Lock()
	record := fmt.Sprintf("%v %s", s.clock.since(), call)
	if prev != nil {
		record += " " + prev.Snapshot.Server
	}
	if len(s.steps) == 0 {
		s.calls = append(s.calls, record+" (unscripted)")
		s.mu.Unlock()
		return nil, errors.New("unscripted call")
	}
	st := s.steps[0]
	s.steps = s.steps[1:]
	if st.call != call {
		record += " (script says " + st.call + ")"
	}
	s.calls = append(s.calls, record)
	s.mu.Unlock()

	s.clock.Advance(st.takes)
	if st.block {
		<-ctx.Done()
		s.mu.Lock()
		s.lastCtxErr = ctx.Err()
		s.mu.Unlock()
		return nil, &ldapscan.Error{Stage: ldapscan.StageSearch, Server: dc1, Err: ctx.Err()}
	}
	if st.err != nil {
		if st.servers != nil {
			return nil, &ldapscan.ServersError{Err: st.err, Servers: st.servers}
		}
		return nil, st.err
	}
	mode := st.mode
	if mode == "" {
		mode = map[string]inventory.ScanMode{"scan": inventory.FullScan, "poll": inventory.IncrementalScan}[call]
	}
	server := st.server
	if server == "" {
		server = dc1
	}
	snap := &inventory.Snapshot{Server: st.result, Started: s.clock.Now(), Duration: st.takes}
	for i := range st.objects {
		snap.Objects = append(snap.Objects, &inventory.Object{
			DN: fmt.Sprintf("CN=svc%d,DC=example,DC=test", i), SPNs: []string{fmt.Sprintf("HTTP/host%d", i)},
		})
	}
	return &ldapscan.Result{Snapshot: snap, Stats: ldapscan.Stats{Mode: mode, Server: server, Entries: st.objects, Servers: st.servers}}, nil
}

func (s *fakeScanner) done() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.steps) == 0
}

// fakeKerberos fails the logins whose number (from 1) is in fail.
type fakeKerberos struct {
	mu     sync.Mutex
	fail   map[int]bool
	logins int
}

func (k *fakeKerberos) Login(context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.logins++
	if k.fail[k.logins] {
		return errors.New("kinit: clock skew too great")
	}
	return nil
}

// TGTExpiry changes with every login, so a test sees which one was reported.
func (k *fakeKerberos) TGTExpiry() time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	return epoch.Add(time.Duration(k.logins) * time.Hour)
}

// recordingSink records what the daemon reported, in order.
type recordingSink struct {
	mu         sync.Mutex
	events     []string
	tgt        time.Time
	tgtUpdates int
	published  []publishedScan
	servers    map[string]bool
}

func (r *recordingSink) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf(format, args...))
}

// publishedScan is one ScanSucceeded call.
type publishedScan struct {
	audit.Result
	Mode     inventory.ScanMode
	Snapshot *inventory.Snapshot
}

func (r *recordingSink) ScanSucceeded(mode inventory.ScanMode, snap *inventory.Snapshot, findings audit.Result) {
	r.add("success %s %s findings=%d", mode, snap.Server, len(findings.Findings))
	r.mu.Lock()
	r.published = append(r.published, publishedScan{Result: findings, Mode: mode, Snapshot: snap})
	r.mu.Unlock()
}

func (r *recordingSink) ScanFailed(mode inventory.ScanMode, stage string, err error) {
	if err == nil {
		r.add("failed %s %s without an error", mode, stage)
		return
	}
	r.add("failed %s %s", mode, stage)
}

func (r *recordingSink) CountFailure(mode inventory.ScanMode, stage string) {
	r.add("counted failure %s %s", mode, stage)
}

// SetLDAPServers records one event per server, in name order, and after a
// full scan one per server dropped since the last call.
func (r *recordingSink) SetLDAPServers(up map[string]bool, full bool) {
	r.mu.Lock()
	prev := r.servers
	if full {
		r.servers = maps.Clone(up)
	} else {
		r.servers = maps.Clone(prev)
		if r.servers == nil {
			r.servers = map[string]bool{}
		}
		maps.Copy(r.servers, up)
	}
	r.mu.Unlock()
	for _, server := range slices.Sorted(maps.Keys(up)) {
		r.add("ldap_up %s=%v", strings.TrimPrefix(server, "ldap://"), up[server])
	}
	for _, server := range slices.Sorted(maps.Keys(prev)) {
		if _, ok := up[server]; !ok && full {
			r.add("ldap_up %s dropped", strings.TrimPrefix(server, "ldap://"))
		}
	}
}

func (r *recordingSink) SetTGTExpiry(t time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tgt = t
	r.tgtUpdates++
}

func (r *recordingSink) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

// fakeAudit reports one finding per object and panics on a snapshot whose
// name starts with "panic", as a bug in a rule would.
func fakeAudit(snap *inventory.Snapshot, _ map[string]bool) audit.Result {
	if strings.HasPrefix(snap.Server, "panic") {
		panic("index out of range")
	}
	var res audit.Result
	for _, o := range snap.Objects {
		res.Findings = append(res.Findings, audit.Finding{Rule: audit.RuleDuplicateSPN, SPN: o.SPNs[0], Accounts: []string{o.DN}})
	}
	return res
}
