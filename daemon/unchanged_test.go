package daemon

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/ldapscan"
)

// scriptedResults returns a full scan, then the poll result it was given.
type scriptedResults struct {
	full, poll *ldapscan.Result
}

func (s *scriptedResults) Scan(context.Context) (*ldapscan.Result, error) { return s.full, nil }

// Poll returns the scripted poll. One that kept the full scan's objects
// keeps those of prev, the scan the daemon kept (it packs a full scan's
// strings into a copy), as ldapscan's poll hands back the slice it was
// given when nothing changed.
func (s *scriptedResults) Poll(_ context.Context, prev *ldapscan.Result) (*ldapscan.Result, error) {
	if !sameObjects(s.poll.Snapshot.Objects, s.full.Snapshot.Objects) {
		return s.poll, nil
	}
	res, snap := *s.poll, *s.poll.Snapshot
	snap.Objects = prev.Snapshot.Objects
	res.Snapshot = &snap
	return &res, nil
}

// findingsSink keeps the findings of every successful scan.
type findingsSink struct{ published [][]audit.Finding }

func (f *findingsSink) ScanSucceeded(_ inventory.ScanMode, _ *inventory.Snapshot, r audit.Result) {
	f.published = append(f.published, r.Findings)
}
func (f *findingsSink) ScanFailed(inventory.ScanMode, string, error) {}
func (f *findingsSink) CountFailure(inventory.ScanMode, string)      {}
func (f *findingsSink) SetLDAPServers(map[string]bool, bool)         {}
func (f *findingsSink) SetTGTExpiry(time.Time)                       {}

// answersInTurn answers each ResolveHosts call with the next answers.
type answersInTurn struct{ answers []map[string]bool }

func (a *answersInTurn) ResolveHosts(context.Context, *inventory.Snapshot) (map[string]bool, []string, error) {
	next := a.answers[0]
	a.answers = a.answers[1:]
	return next, nil, nil
}

// TestPollThatChangedNothingSkipsAudit checks that a poll which found no
// changed object and the same directory settings publishes the last
// audit's findings without running the audit again (issue 9: the audit
// costs as much as the domain is large), and that every other poll is
// audited: one with other DNS answers, and one an hour after the audit (the
// audit judges time: password ages, suppressions past their day).
func TestPollThatChangedNothingSkipsAudit(t *testing.T) {
	dir := inventory.Directory{ForestDNS: "example.test", Domains: []string{"example.test"}, DSHeuristics: ""}
	objects := []*inventory.Object{{DN: "CN=svc1,DC=example,DC=test", SPNs: []string{"HTTP/a"}}}
	snap := func(d inventory.Directory, objs []*inventory.Object) *inventory.Snapshot {
		return &inventory.Snapshot{Directory: d, Objects: objs, Server: dc1}
	}
	poll := func(s *inventory.Snapshot, st ldapscan.Stats) *ldapscan.Result {
		if st.Mode == "" {
			st.Mode = inventory.IncrementalScan
		}
		st.Server = dc1
		return &ldapscan.Result{Snapshot: s, Stats: st}
	}
	privileged := slices.Clone(objects)
	admin := *objects[0] // as ApplyPrivileges does: a copy of the object
	admin.Privilege = &inventory.Privilege{Group: "Domain Admins"}
	privileged[0] = &admin
	disabled := dir
	disabled.DSHeuristics = "00000000010000000002000000011"
	moreDNS := dir
	moreDNS.DNSNames = []string{"web1.example.test"}
	web := map[string]bool{"web.example.test": true}
	cases := []struct {
		name    string
		poll    *ldapscan.Result
		answers []map[string]bool // of the resolver, when there is one
		after   time.Duration     // from the full scan to the poll
		audited bool
	}{
		{"nothing changed", poll(snap(dir, objects), ldapscan.Stats{}), nil, 0, false},
		{"nothing changed, same DNS answers", poll(snap(dir, objects), ldapscan.Stats{}), []map[string]bool{web, web}, 0, false},
		{"DNS answers changed", poll(snap(dir, objects), ldapscan.Stats{}), []map[string]bool{web, {"web.example.test": false}}, 0, true},
		{"nothing changed for an hour", poll(snap(dir, objects), ldapscan.Stats{}), nil, time.Hour - time.Minute, true},
		{"an object changed", poll(snap(dir, objects), ldapscan.Stats{Entries: 1}), nil, 0, true},
		{"an object removed", poll(snap(dir, nil), ldapscan.Stats{Entries: 1, Removed: 1}), nil, 0, true},
		// A membership change moves no member's uSNChanged: the poll's
		// objects are a copy with a new Privilege (ldapscan's
		// inventory.ApplyPrivileges), and no entry was read.
		{"privilege changed without an entry", poll(snap(dir, privileged), ldapscan.Stats{}), nil, 0, true},
		{"removed without an entry", poll(snap(dir, nil), ldapscan.Stats{}), nil, 0, true},
		{"dSHeuristics changed", poll(snap(disabled, objects), ldapscan.Stats{}), nil, 0, true},
		{"DNS names changed", poll(snap(moreDNS, objects), ldapscan.Stats{DNSReread: true}), nil, 0, true},
		{"fell back to a full scan", poll(snap(dir, objects), ldapscan.Stats{Mode: inventory.FullScan}), nil, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			audits := 0
			sink := &findingsSink{}
			clock := newFakeClock()
			d, err := New(Config{
				Scanner: &scriptedResults{full: poll(snap(dir, objects), ldapscan.Stats{Mode: inventory.FullScan, Entries: 1}), poll: c.poll},
				Audit: func(s *inventory.Snapshot, resolved map[string]bool) audit.Result {
					audits++
					return fakeAudit(s, resolved)
				},
				Sink: sink, FullInterval: 24 * time.Hour, PollInterval: time.Minute, Timeout: time.Minute,
				Clock: clock, Logger: slog.New(slog.DiscardHandler),
			})
			if err != nil {
				t.Fatal(err)
			}
			if c.answers != nil {
				d.cfg.Resolver = &answersInTurn{answers: c.answers}
			}
			d.scan(context.Background(), clock.Now())
			clock.Advance(time.Minute + c.after)
			d.scan(context.Background(), clock.Now())
			if want := map[bool]int{true: 2, false: 1}[c.audited]; audits != want {
				t.Fatalf("%d audits, want %d", audits, want)
			}
			if len(sink.published) != 2 {
				t.Fatalf("%d scans published, want 2", len(sink.published))
			}
			if got, want := len(sink.published[1]), len(c.poll.Snapshot.Objects); got != want {
				t.Errorf("the poll published %d findings, want %d (one per object)", got, want)
			}
		})
	}
}

// copyingHistory dates findings into a fresh copy on every call, as the
// state store does.
type copyingHistory struct{ calls int }

func (h *copyingHistory) Record(_ *inventory.Snapshot, result audit.Result, _ inventory.ScanMode) ([]audit.Finding, error) {
	h.calls++
	return slices.Clone(result.Findings), nil
}

// TestReusedAuditKeepsItsFindingsWithHistory: with a history, a poll that
// changed nothing is still journaled, and publishes the very findings of the
// audit it reuses (not the history's copy), so the metrics store can reuse
// its view.
func TestReusedAuditKeepsItsFindingsWithHistory(t *testing.T) {
	objects := []*inventory.Object{{DN: "CN=svc1,DC=example,DC=test", SPNs: []string{"HTTP/a"}}}
	full := &ldapscan.Result{Snapshot: &inventory.Snapshot{Objects: objects, Server: dc1}, Stats: ldapscan.Stats{Mode: inventory.FullScan, Entries: 1, Server: dc1}}
	quiet := &ldapscan.Result{Snapshot: &inventory.Snapshot{Objects: objects, Server: dc1}, Stats: ldapscan.Stats{Mode: inventory.IncrementalScan, Server: dc1}}
	sink := &findingsSink{}
	history := &copyingHistory{}
	clock := newFakeClock()
	d, err := New(Config{Scanner: &scriptedResults{full: full, poll: quiet}, Audit: fakeAudit, History: history,
		Sink: sink, FullInterval: 24 * time.Hour, PollInterval: time.Minute, Timeout: time.Minute,
		Clock: clock, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	d.scan(context.Background(), clock.Now())
	clock.Advance(time.Minute)
	d.scan(context.Background(), clock.Now())
	if history.calls != 2 || len(sink.published) != 2 || len(sink.published[1]) != 1 {
		t.Fatalf("%d history calls, %d scans published; want 2 and 2", history.calls, len(sink.published))
	}
	if &sink.published[1][0] != &sink.published[0][0] {
		t.Error("the no-change poll published the history's copy, not the reused audit's findings")
	}
}
