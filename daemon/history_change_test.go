package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/ldapscan"
	"github.com/spnaudit/spnaudit/state"
)

// changingScanner's polls edit one object of the snapshot the daemon kept
// in a copy and say so (inventory.Snapshot.SetChange), as ldapscan's poll
// does; a nil edit is a poll that found nothing (the same objects).
type changingScanner struct {
	clock *fakeClock
	full  []*inventory.Object
	polls []func([]*inventory.Object) int
}

func (s *changingScanner) Scan(context.Context) (*ldapscan.Result, error) {
	snap := &inventory.Snapshot{Objects: slices.Clone(s.full), Server: dc1, Started: s.clock.Now()}
	return &ldapscan.Result{Snapshot: snap, Stats: ldapscan.Stats{Mode: inventory.FullScan, Server: dc1}}, nil
}

func (s *changingScanner) Poll(_ context.Context, prev *ldapscan.Result) (*ldapscan.Result, error) {
	edit := s.polls[0]
	s.polls = s.polls[1:]
	snap := &inventory.Snapshot{Objects: prev.Snapshot.Objects, Server: dc1, Started: s.clock.Now()}
	if edit == nil {
		return &ldapscan.Result{Snapshot: snap, Stats: ldapscan.Stats{Mode: inventory.IncrementalScan, Server: dc1}}, nil
	}
	snap.Objects = slices.Clone(prev.Snapshot.Objects)
	i := int32(edit(snap.Objects))
	if err := snap.SetChange(prev.Snapshot, []int32{i}, []int32{i}); err != nil {
		return nil, err
	}
	return &ldapscan.Result{Snapshot: snap, Stats: ldapscan.Stats{Mode: inventory.IncrementalScan, Server: dc1, Entries: 1}}, nil
}

// storeHistory is cmd's adapter of the state store.
type storeHistory struct{ store *state.Store }

func (h storeHistory) Record(snap *inventory.Snapshot, res audit.Result, mode inventory.ScanMode) ([]audit.Finding, error) {
	return h.store.RecordResult(snap, res, state.Poll{Mode: string(mode)})
}

// TestHistoryKeepsTheAuditsFindings: with a state store and a poll and an
// audit that say how they were made from the ones before, the history dates
// the audit's findings in place: the published findings are the audit's
// array (no copy), they keep their change (for the metrics), every one
// carries its first_seen, and the next audit is made from the published
// findings. A poll that changed nothing reuses them.
func TestHistoryKeepsTheAuditsFindings(t *testing.T) {
	var objs []*inventory.Object
	for i := range 40 {
		objs = append(objs, &inventory.Object{DN: fmt.Sprintf("CN=svc%02d,DC=example,DC=test", i), SAMAccountName: fmt.Sprintf("svc%02d", i),
			GUID: inventory.MustParseGUID(fmt.Sprintf("00000000-0000-0000-0000-0000000000%02d", i)), Kind: inventory.KindUser, Domain: "example.test",
			SPNs: []string{fmt.Sprintf("MSSQLSvc/db%02d.example.test:1433", i)}},
			// A computer vouches for the host, or the audit runs in full.
			&inventory.Object{DN: fmt.Sprintf("CN=DB%02d,DC=example,DC=test", i), SAMAccountName: fmt.Sprintf("DB%02d$", i),
				GUID: inventory.MustParseGUID(fmt.Sprintf("00000000-0000-0000-0000-00000000db%02d", i)), Kind: inventory.KindComputer, Domain: "example.test",
				DNSHostName: fmt.Sprintf("db%02d.example.test", i),
				SPNs:        []string{fmt.Sprintf("HOST/DB%02d", i), fmt.Sprintf("HOST/db%02d.example.test", i)}})
	}
	slices.SortFunc(objs, func(a, b *inventory.Object) int { return inventory.CompareFold(a.DN, b.DN) })
	addSPN := func(i int, spn string) func([]*inventory.Object) int {
		return func(objs []*inventory.Object) int {
			o := *objs[i] // a changed copy, as a poll makes
			o.SPNs = append(slices.Clip(o.SPNs), spn)
			objs[i] = &o
			return i
		}
	}
	dropSPNs := func(i int) func([]*inventory.Object) int {
		return func(objs []*inventory.Object) int {
			o := *objs[i] // a changed copy, as a poll makes
			o.SPNs = nil
			objs[i] = &o
			return i
		}
	}
	clock := newFakeClock()
	scanner := &changingScanner{clock: clock, full: objs, polls: []func([]*inventory.Object) int{
		addSPN(3, "MSSQLSvc/db05.example.test:1433"), // a duplicate appears
		dropSPNs(10), // a finding resolves
		nil,          // nothing changed: the last audit is reused
		addSPN(20, "HTTP/web.example.test"),
	}}
	store, err := state.Open(state.Options{Dir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var prevs []*audit.State // the state each audit was made from
	var audited []audit.Result
	sink := &recordingSink{}
	d, err := New(Config{
		Scanner: scanner,
		Audit:   func(*inventory.Snapshot, map[string]bool) audit.Result { t.Fatal("Audit ran"); return audit.Result{} },
		IncrementalAudit: func(prev *audit.State, snap *inventory.Snapshot, _ map[string]bool) *audit.State {
			s := audit.Next(prev, snap, audit.Config{})
			prevs = append(prevs, prev)
			audited = append(audited, s.Result())
			return s
		},
		History: storeHistory{store}, Sink: sink, FullInterval: 24 * time.Hour, PollInterval: time.Minute,
		Timeout: time.Minute, Clock: clock, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		d.scan(context.Background(), clock.Now())
		clock.Advance(time.Minute)
	}
	if len(sink.published) != 5 || len(audited) != 4 {
		t.Fatalf("%d scans published, %d audited; want 5 and 4 (one reused)", len(sink.published), len(audited))
	}
	pub := sink.published
	for i, p := range pub {
		for _, f := range p.Findings {
			if f.FirstSeen == nil {
				t.Fatalf("scan %d published a finding without first_seen: %+v", i, f)
			}
		}
		if i == 0 {
			continue
		}
		if i == 3 { // nothing changed: scan 2's audit is reused
			if &p.Findings[0] != &pub[2].Findings[0] {
				t.Errorf("the poll that changed nothing did not publish the reused findings")
			}
			continue
		}
		a := map[bool]int{true: i - 1, false: i}[i > 3] // the audit of scan i
		if &p.Findings[0] != &audited[a].Findings[0] {
			t.Errorf("scan %d: the history copied the audit's findings; want them dated in place", i)
		}
		if p.Result.ChangeFrom(pub[i-1].Result) == nil {
			t.Errorf("scan %d: the published findings lost their change from the previous scan's", i)
		}
		if prev := prevs[a].Result(); &prev.Findings[0] != &pub[i-1].Findings[0] {
			t.Errorf("scan %d: audited from other findings than those published before", i)
		}
	}
	// The kept findings kept their first_seen, the new duplicate its own.
	firstSeen := map[string]time.Time{}
	for _, f := range pub[0].Findings {
		firstSeen[state.FindingKey(&f)] = *f.FirstSeen
	}
	dups := 0
	for _, f := range pub[1].Findings {
		want, kept := firstSeen[state.FindingKey(&f)]
		if !kept {
			want = pub[1].Snapshot.Started
		}
		if f.Rule == audit.RuleDuplicateSPN {
			dups++
		}
		if !f.FirstSeen.Equal(want) {
			t.Errorf("%s %s first seen %v, want %v", f.Rule, f.SPN, f.FirstSeen, want)
		}
	}
	if dups == 0 {
		t.Fatal("the duplicate SPN made no finding: the test changed nothing")
	}
}
