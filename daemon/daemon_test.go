package daemon

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/ldapscan"
)

const (
	testPoll = 15 * time.Second
	testFull = 45 * time.Second
)

func searchCut(server string) error {
	return &ldapscan.Error{Stage: ldapscan.StageSearch, Server: server, Err: io.ErrUnexpectedEOF}
}

func TestSchedule(t *testing.T) {
	for _, tc := range []struct {
		name       string
		servers    []string
		timeout    time.Duration // default one minute
		loginFails map[int]bool
		steps      []step
		wantCalls  []string
		wantEvents []string
	}{
		{
			name:       "the first scan is full and publishes its snapshot",
			steps:      []step{{call: "scan", result: "r1", objects: 2}},
			wantCalls:  []string{"0s scan"},
			wantEvents: []string{"ldap_up dc1.example.test=true", "success full r1 findings=2"},
		},
		{
			name: "a failed poll keeps the snapshot and the next poll recovers from it",
			steps: []step{
				{call: "scan", result: "r1", objects: 1},
				{call: "poll", err: searchCut(dc1)},
				{call: "poll", result: "r2", objects: 2},
			},
			wantCalls: []string{"0s scan", "15s poll r1", "30s poll r1"},
			wantEvents: []string{
				"ldap_up dc1.example.test=true", "success full r1 findings=1",
				// The DC accepted the connection: it is up, the search failed.
				"ldap_up dc1.example.test=true", "failed incremental search",
				"ldap_up dc1.example.test=true", "success incremental r2 findings=2",
			},
		},
		{
			name: "after a failed full scan the next attempt is full",
			steps: []step{
				{call: "scan", err: &ldapscan.Error{Stage: ldapscan.StageConnect, Server: dc1, Err: errors.New("connection refused")}},
				{call: "scan", result: "r1"},
				{call: "poll", result: "r2"},
			},
			wantCalls: []string{"0s scan", "15s scan", "30s poll r1"},
			wantEvents: []string{
				"ldap_up dc1.example.test=false", "failed full connect",
				"ldap_up dc1.example.test=true", "success full r1 findings=0",
				"ldap_up dc1.example.test=true", "success incremental r2 findings=0",
			},
		},
		{
			name: "a full scan when the full interval is reached",
			steps: []step{
				{call: "scan", result: "r1"}, {call: "poll", result: "r2"}, {call: "poll", result: "r3"},
				{call: "scan", result: "r4"}, {call: "poll", result: "r5"},
			},
			wantCalls: []string{"0s scan", "15s poll r1", "30s poll r2", "45s scan", "1m0s poll r4"},
			wantEvents: []string{
				"ldap_up dc1.example.test=true", "success full r1 findings=0",
				"ldap_up dc1.example.test=true", "success incremental r2 findings=0",
				"ldap_up dc1.example.test=true", "success incremental r3 findings=0",
				"ldap_up dc1.example.test=true", "success full r4 findings=0",
				"ldap_up dc1.example.test=true", "success incremental r5 findings=0",
			},
		},
		{
			name: "a poll that fell back to a full scan counts as full and restarts the full interval",
			steps: []step{
				{call: "scan", result: "r1"},
				{call: "poll", result: "r2", mode: inventory.FullScan},
				{call: "poll", result: "r3"}, {call: "poll", result: "r4"},
				{call: "scan", result: "r5"},
			},
			wantCalls: []string{"0s scan", "15s poll r1", "30s poll r2", "45s poll r3", "1m0s scan"},
			wantEvents: []string{
				"ldap_up dc1.example.test=true", "success full r1 findings=0",
				"ldap_up dc1.example.test=true", "success full r2 findings=0",
				"ldap_up dc1.example.test=true", "success incremental r3 findings=0",
				"ldap_up dc1.example.test=true", "success incremental r4 findings=0",
				"ldap_up dc1.example.test=true", "success full r5 findings=0",
			},
		},
		{
			name: "a slow scan is followed at once, the next one poll interval after its start",
			steps: []step{
				{call: "scan", result: "r1", takes: 20 * time.Second},
				{call: "poll", result: "r2", takes: 5 * time.Second},
				{call: "poll", result: "r3"},
			},
			wantCalls: []string{"0s scan", "20s poll r1", "35s poll r2"},
			wantEvents: []string{
				"ldap_up dc1.example.test=true", "success full r1 findings=0",
				"ldap_up dc1.example.test=true", "success incremental r2 findings=0",
				"ldap_up dc1.example.test=true", "success incremental r3 findings=0",
			},
		},
		{
			name: "consecutive failures back off, doubling up to the full interval, and a success resets",
			steps: []step{
				{call: "scan", err: &ldapscan.Error{Stage: ldapscan.StageConnect, Server: dc1, Err: errors.New("connection refused")}},
				{call: "scan", err: &ldapscan.Error{Stage: ldapscan.StageConnect, Server: dc1, Err: errors.New("connection refused")}},
				{call: "scan", err: &ldapscan.Error{Stage: ldapscan.StageConnect, Server: dc1, Err: errors.New("connection refused")}},
				{call: "scan", err: &ldapscan.Error{Stage: ldapscan.StageConnect, Server: dc1, Err: errors.New("connection refused")}},
				{call: "scan", result: "r1"},
				{call: "poll", result: "r2"},
			},
			// Waits 15s, 30s, 45s (the cap: testFull), 45s, then 15s again.
			wantCalls: []string{"0s scan", "15s scan", "45s scan", "1m30s scan", "2m15s scan", "2m30s poll r1"},
			wantEvents: []string{
				"ldap_up dc1.example.test=false", "failed full connect",
				"ldap_up dc1.example.test=false", "failed full connect",
				"ldap_up dc1.example.test=false", "failed full connect",
				"ldap_up dc1.example.test=false", "failed full connect",
				"ldap_up dc1.example.test=true", "success full r1 findings=0",
				"ldap_up dc1.example.test=true", "success incremental r2 findings=0",
			},
		},
		{
			name:      "failover: the servers tried before the one that answered are down",
			servers:   []string{dc1, dc2},
			steps:     []step{{call: "scan", result: "r1", server: dc2}},
			wantCalls: []string{"0s scan"},
			wantEvents: []string{
				"ldap_up dc1.example.test=false", "ldap_up dc2.example.test=true", "success full r1 findings=0",
			},
		},
		{
			name: "a Global Catalog that failed once is up again when it answers",
			steps: []step{
				{call: "scan", err: &ldapscan.Error{Stage: ldapscan.StageConnect, Server: gc1, Err: errors.New("connection refused")},
					servers: []ldapscan.ServerStatus{{Server: dc1, Up: true}, {Server: gc1, GlobalCatalog: true}}},
				{call: "scan", result: "r1", servers: []ldapscan.ServerStatus{{Server: dc1, Up: true}, {Server: gc1, GlobalCatalog: true, Up: true}}},
			},
			wantCalls: []string{"0s scan", "15s scan"},
			wantEvents: []string{
				"ldap_up dc1.example.test=true", "ldap_up dc1.example.test:3268=false", "failed full connect",
				"ldap_up dc1.example.test=true", "ldap_up dc1.example.test:3268=true", "success full r1 findings=0",
			},
		},
		{
			name:    "servers the scan did not try lose their series",
			servers: []string{dc1, dc2},
			steps: []step{
				{call: "scan", err: &ldapscan.Error{Stage: ldapscan.StageConnect, Err: errors.Join(
					&ldapscan.Error{Stage: ldapscan.StageConnect, Server: dc1, Err: errors.New("connection refused")},
					&ldapscan.Error{Stage: ldapscan.StageConnect, Server: dc2, Err: errors.New("connection refused")},
				)}},
				// dc1 is back: dc2 is not tried, its 0 would be a guess.
				{call: "scan", result: "r1", servers: []ldapscan.ServerStatus{{Server: dc1, Up: true}, {Server: gc1, GlobalCatalog: true, Up: true}}},
				// A Kerberos failure reaches no server: nothing changes.
				{call: "poll", err: errors.New("kerberos: no ticket")},
			},
			wantCalls: []string{"0s scan", "15s scan", "30s poll r1"},
			wantEvents: []string{
				"ldap_up dc1.example.test=false", "ldap_up dc2.example.test=false", "failed full connect",
				"ldap_up dc1.example.test=true", "ldap_up dc1.example.test:3268=true", "ldap_up dc2.example.test dropped", "success full r1 findings=0",
				"failed incremental other",
			},
		},
		{
			name:    "polls on the second server keep the first one down until a full scan retries it",
			servers: []string{dc1, dc2},
			steps: []step{
				{call: "scan", result: "r1", server: dc2, servers: []ldapscan.ServerStatus{{Server: dc1}, {Server: dc2, Up: true}}},
				{call: "poll", result: "r2", server: dc2, servers: []ldapscan.ServerStatus{{Server: dc2, Up: true}}},
				{call: "poll", result: "r3", server: dc2, servers: []ldapscan.ServerStatus{{Server: dc2, Up: true}}},
				{call: "scan", result: "r4", servers: []ldapscan.ServerStatus{{Server: dc1, Up: true}}},
			},
			wantCalls: []string{"0s scan", "15s poll r1", "30s poll r2", "45s scan"},
			wantEvents: []string{
				"ldap_up dc1.example.test=false", "ldap_up dc2.example.test=true", "success full r1 findings=0",
				"ldap_up dc2.example.test=true", "success incremental r2 findings=0",
				"ldap_up dc2.example.test=true", "success incremental r3 findings=0",
				"ldap_up dc1.example.test=true", "ldap_up dc2.example.test dropped", "success full r4 findings=0",
			},
		},
		{
			name:    "every server down",
			servers: []string{dc1, dc2},
			steps: []step{{call: "scan", err: &ldapscan.Error{Stage: ldapscan.StageBind, Err: errors.Join(
				&ldapscan.Error{Stage: ldapscan.StageConnect, Server: dc1, Err: errors.New("connection refused")},
				&ldapscan.Error{Stage: ldapscan.StageBind, Server: dc2, Err: errors.New("SASL layer seal: invalid credentials")},
			)}}},
			wantCalls: []string{"0s scan"},
			wantEvents: []string{
				"ldap_up dc1.example.test=false", "ldap_up dc2.example.test=false", "failed full bind",
			},
		},
		{
			name:       "a failed login is a kerberos failure and skips the scanner",
			loginFails: map[int]bool{2: true},
			steps:      []step{{call: "scan", result: "r1"}, {call: "poll", result: "r2"}},
			wantCalls:  []string{"0s scan", "30s poll r1"},
			wantEvents: []string{
				"ldap_up dc1.example.test=true", "success full r1 findings=0",
				"failed incremental kerberos",
				"ldap_up dc1.example.test=true", "success incremental r2 findings=0",
			},
		},
		{
			name: "an audit that panics fails the scan, which does not become the base of the next poll",
			steps: []step{
				{call: "scan", result: "r1", objects: 1},
				{call: "poll", result: "panic2", objects: 2},
				{call: "poll", result: "r3", objects: 3},
			},
			wantCalls: []string{"0s scan", "15s poll r1", "30s poll r1"},
			wantEvents: []string{
				"ldap_up dc1.example.test=true", "success full r1 findings=1",
				"failed incremental audit",
				"ldap_up dc1.example.test=true", "success incremental r3 findings=3",
			},
		},
		{
			name:    "a scan past its deadline fails at its stage and the next poll recovers",
			timeout: 20 * time.Millisecond,
			steps: []step{
				{call: "scan", result: "r1"},
				{call: "poll", block: true},
				{call: "poll", result: "r2"},
			},
			wantCalls: []string{"0s scan", "15s poll r1", "30s poll r1"},
			wantEvents: []string{
				"ldap_up dc1.example.test=true", "success full r1 findings=0",
				"ldap_up dc1.example.test=true", "failed incremental search",
				"ldap_up dc1.example.test=true", "success incremental r2 findings=0",
			},
		},
		{
			name:       "an error without a stage is counted as other",
			steps:      []step{{call: "scan", err: context.DeadlineExceeded}, {call: "scan", result: "r1"}},
			wantCalls:  []string{"0s scan", "15s scan"},
			wantEvents: []string{"failed full other", "ldap_up dc1.example.test=true", "success full r1 findings=0"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			scanner := &fakeScanner{clock: clock, steps: slices.Clone(tc.steps)}
			kerberos := &fakeKerberos{fail: tc.loginFails}
			sink := &recordingSink{}
			timeout := tc.timeout
			if timeout == 0 {
				timeout = time.Minute
			}
			d, err := New(Config{
				Scanner: scanner, Kerberos: kerberos, Audit: fakeAudit, Sink: sink, Servers: tc.servers,
				FullInterval: testFull, PollInterval: testPoll, Timeout: timeout,
				Clock: clock, Logger: slog.New(slog.DiscardHandler),
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			stopped := make(chan struct{})
			go func() { d.Run(ctx); close(stopped) }()
			for {
				wait := clock.awaitWaiter(t)
				if scanner.done() {
					break
				}
				clock.Advance(wait)
			}
			cancel()
			select {
			case <-stopped:
			case <-time.After(realWait):
				t.Fatal("Run did not return after cancel")
			}

			if !slices.Equal(scanner.calls, tc.wantCalls) {
				t.Errorf("calls:\n got %q\nwant %q", scanner.calls, tc.wantCalls)
			}
			if got := sink.snapshot(); !slices.Equal(got, tc.wantEvents) {
				t.Errorf("events:\n got %q\nwant %q", got, tc.wantEvents)
			}
			// Every attempt, failed or not, reports the ticket of its own login.
			if attempts := kerberos.logins; sink.tgtUpdates != attempts || !sink.tgt.Equal(kerberos.TGTExpiry()) {
				t.Errorf("TGT expiry reported %d times (last %v), want after each of %d attempts (%v)",
					sink.tgtUpdates, sink.tgt, attempts, kerberos.TGTExpiry())
			}
		})
	}
}

// TestFailedScanKeepsPublishedSnapshot: what the sink holds after a failure
// is exactly the last good scan, findings included.
func TestFailedScanKeepsPublishedSnapshot(t *testing.T) {
	clock := newFakeClock()
	scanner := &fakeScanner{clock: clock, steps: []step{
		{call: "scan", result: "r1", objects: 2},
		{call: "poll", err: searchCut(dc1)},
	}}
	sink := &recordingSink{}
	d, err := New(Config{Scanner: scanner, Audit: fakeAudit, Sink: sink,
		FullInterval: testFull, PollInterval: testPoll, Timeout: time.Minute, Clock: clock, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go d.Run(ctx)
	clock.Advance(clock.awaitWaiter(t))
	clock.awaitWaiter(t)
	if !scanner.done() {
		t.Fatal("the poll did not run")
	}
	if len(sink.published) != 1 {
		t.Fatalf("%d snapshots published, want 1", len(sink.published))
	}
	if got := sink.published[0]; got.Snapshot.Server != "r1" || len(got.Findings) != 2 {
		t.Fatalf("published %s with %d findings, want r1 with 2", got.Snapshot.Server, len(got.Findings))
	}
	if d.last.Snapshot.Server != "r1" {
		t.Fatalf("the base of the next poll is %s, want r1", d.last.Snapshot.Server)
	}
}

// TestCancellation: cancelling the context stops a scan in progress, which
// is not reported as a failure, and Run returns; so does cancelling it
// while Run waits for the next scan.
func TestCancellation(t *testing.T) {
	for _, tc := range []struct {
		name       string
		steps      []step
		wantEvents []string
	}{
		{"during a scan", []step{{call: "scan", block: true}}, nil},
		{"between scans", []step{{call: "scan", result: "r1"}}, []string{"ldap_up dc1.example.test=true", "success full r1 findings=0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			scanner := &fakeScanner{clock: clock, steps: tc.steps}
			sink := &recordingSink{}
			d, err := New(Config{Scanner: scanner, Audit: fakeAudit, Sink: sink,
				FullInterval: testFull, PollInterval: testPoll, Timeout: time.Hour, Clock: clock, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			stopped := make(chan struct{})
			go func() { d.Run(ctx); close(stopped) }()
			if tc.steps[0].block {
				waitFor(t, func() bool { return scanner.done() })
			} else {
				clock.awaitWaiter(t)
			}
			cancel()
			select {
			case <-stopped:
			case <-time.After(realWait):
				t.Fatal("Run did not return after cancel")
			}
			if got := sink.snapshot(); !slices.Equal(got, tc.wantEvents) {
				t.Errorf("events: got %q, want %q", got, tc.wantEvents)
			}
			if tc.steps[0].block && !errors.Is(scanner.lastCtxErr, context.Canceled) {
				t.Errorf("the scan saw %v, want context.Canceled", scanner.lastCtxErr)
			}
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(realWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	ok := Config{Scanner: &fakeScanner{}, Audit: fakeAudit, Sink: &recordingSink{},
		FullInterval: time.Hour, PollInterval: 15 * time.Second, Timeout: time.Minute}
	if _, err := New(ok); err != nil {
		t.Fatalf("valid config rejected: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no scanner", func(c *Config) { c.Scanner = nil }, "required"},
		{"no sink", func(c *Config) { c.Sink = nil }, "required"},
		{"no poll interval", func(c *Config) { c.PollInterval = 0 }, "must be positive"},
		{"no timeout", func(c *Config) { c.Timeout = 0 }, "must be positive"},
		{"full not longer than poll", func(c *Config) { c.FullInterval = c.PollInterval }, "must be longer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.change(&cfg)
			if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestBackoffInterval: the wait after n consecutive failures doubles from the
// poll interval and stops at five minutes, or at the full interval when that
// is shorter.
func TestBackoffInterval(t *testing.T) {
	for _, tc := range []struct {
		full     time.Duration
		failures int
		want     time.Duration
	}{
		{time.Hour, 0, 15 * time.Second},
		{time.Hour, 1, 15 * time.Second},
		{time.Hour, 2, 30 * time.Second},
		{time.Hour, 5, 4 * time.Minute},
		{time.Hour, 6, 5 * time.Minute},
		{time.Hour, 1000, 5 * time.Minute},
		{2 * time.Minute, 1000, 2 * time.Minute},
	} {
		d := &Daemon{cfg: Config{PollInterval: 15 * time.Second, FullInterval: tc.full}, failures: tc.failures}
		if got := d.interval(); got != tc.want {
			t.Errorf("full %v, %d failures: interval %v, want %v", tc.full, tc.failures, got, tc.want)
		}
	}
}

// fakeResolver answers ResolveHosts as scripted, blocking until the scan's
// deadline when block is set, as a DNS server that never answers would.
type fakeResolver struct {
	answers map[string]bool
	failed  []string
	block   bool
}

func (r *fakeResolver) ResolveHosts(ctx context.Context, _ *inventory.Snapshot) (map[string]bool, []string, error) {
	if r.block {
		<-ctx.Done()
		return nil, nil, ctx.Err()
	}
	return r.answers, r.failed, nil
}

// TestHostResolution: the resolver's answers reach the audit; names DNS
// could not answer for publish the scan and count a dns failure; a deadline
// that passes during resolution fails the scan and publishes nothing.
func TestHostResolution(t *testing.T) {
	for _, tc := range []struct {
		name       string
		resolver   *fakeResolver
		wantEvents []string
		wantSeen   map[string]bool
	}{
		{
			name:       "answers reach the audit",
			resolver:   &fakeResolver{answers: map[string]bool{"gone.example.test": false, "web.example.test": true}},
			wantEvents: []string{"ldap_up dc1.example.test=true", "success full r1 findings=1"},
			wantSeen:   map[string]bool{"gone.example.test": false, "web.example.test": true},
		},
		{
			name:     "names DNS could not answer for: published, and a dns failure counted",
			resolver: &fakeResolver{answers: map[string]bool{"web.example.test": true}, failed: []string{"flaky.example.test"}},
			wantEvents: []string{"ldap_up dc1.example.test=true", "success full r1 findings=1",
				"counted failure full dns"},
			wantSeen: map[string]bool{"web.example.test": true},
		},
		{
			name:       "deadline during resolution: the scan fails, nothing published",
			resolver:   &fakeResolver{block: true},
			wantEvents: []string{"failed full dns"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			scanner := &fakeScanner{clock: clock, steps: []step{{call: "scan", result: "r1", objects: 1}}}
			sink := &recordingSink{}
			var seen map[string]bool
			auditor := func(snap *inventory.Snapshot, resolved map[string]bool) audit.Result {
				seen = resolved
				return fakeAudit(snap, resolved)
			}
			d, err := New(Config{Scanner: scanner, Audit: auditor, Resolver: tc.resolver, Sink: sink,
				FullInterval: testFull, PollInterval: testPoll, Timeout: 50 * time.Millisecond, Clock: clock,
				Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go d.Run(ctx)
			clock.awaitWaiter(t)
			if got := sink.snapshot(); !slices.Equal(got, tc.wantEvents) {
				t.Errorf("events:\n got %q\nwant %q", got, tc.wantEvents)
			}
			if !maps.Equal(seen, tc.wantSeen) {
				t.Errorf("the audit saw %v, want %v", seen, tc.wantSeen)
			}
		})
	}
}
