package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/ldapscan"
)

// editingScanner's full scan returns a directory; each poll edits a copy
// of the objects the daemon kept, as ldapscan's poll merges changed
// entries, or, when the script says so, falls back to a full scan.
type editingScanner struct {
	full  *inventory.Snapshot
	polls []func(objs []*inventory.Object) ([]*inventory.Object, inventory.ScanMode)
}

func (s *editingScanner) Scan(context.Context) (*ldapscan.Result, error) {
	return &ldapscan.Result{Snapshot: s.full, Stats: ldapscan.Stats{Mode: inventory.FullScan, Server: dc1}}, nil
}

func (s *editingScanner) Poll(_ context.Context, prev *ldapscan.Result) (*ldapscan.Result, error) {
	edit := s.polls[0]
	s.polls = s.polls[1:]
	snap := *prev.Snapshot
	objs, mode := edit(prev.Snapshot.Objects)
	snap.Objects = objs
	return &ldapscan.Result{Snapshot: &snap, Stats: ldapscan.Stats{Mode: mode, Server: dc1, Entries: 1}}, nil
}

// TestIncrementalAuditFollowsPolls checks the daemon audits a poll that
// changed objects from the last audit's state (a full scan from none), and
// publishes what audit.Run would.
func TestIncrementalAuditFollowsPolls(t *testing.T) {
	dir := inventory.Directory{ForestDNS: "example.test", Domains: []string{"example.test"}}
	var objs []inventory.Object
	for i := range 200 {
		objs = append(objs,
			inventory.Object{DN: fmt.Sprintf("CN=SRV%03d,DC=example,DC=test", i), SAMAccountName: fmt.Sprintf("SRV%03d$", i),
				Kind: inventory.KindComputer, DNSHostName: fmt.Sprintf("srv%03d.example.test", i), Domain: "example.test",
				SPNs: []string{fmt.Sprintf("HOST/SRV%03d", i), fmt.Sprintf("HOST/srv%03d.example.test", i)}},
			inventory.Object{DN: fmt.Sprintf("CN=svc%03d,DC=example,DC=test", i), SAMAccountName: fmt.Sprintf("svc%03d", i),
				Kind: inventory.KindUser, Domain: "example.test", SPNs: []string{fmt.Sprintf("MSSQLSvc/srv%03d.example.test:1433", i)}})
	}
	slices.SortFunc(objs, func(a, b inventory.Object) int { return inventory.CompareFold(a.DN, b.DN) })
	addSPN := func(i int, spn string) func([]*inventory.Object) ([]*inventory.Object, inventory.ScanMode) {
		return func(prev []*inventory.Object) ([]*inventory.Object, inventory.ScanMode) {
			next := slices.Clone(prev)
			changed := *next[i] // the previous snapshot's object stays as it was
			changed.SPNs = append(slices.Clip(changed.SPNs), spn)
			next[i] = &changed
			return next, inventory.IncrementalScan
		}
	}
	full := func(prev []*inventory.Object) ([]*inventory.Object, inventory.ScanMode) {
		return slices.Clone(prev), inventory.FullScan
	}
	scanner := &editingScanner{full: &inventory.Snapshot{Directory: dir, Objects: inventory.Pointers(objs), Server: dc1},
		polls: []func([]*inventory.Object) ([]*inventory.Object, inventory.ScanMode){
			addSPN(3, "HOST/SRV005"),             // a duplicate of another computer's
			addSPN(10, "HTTP/gone.example.test"), // a ghost
			full,                                 // the poll fell back to a full scan
			addSPN(20, "HTTP/srv001.example.test"),
		}}
	type call struct {
		prev        *audit.State
		incremental bool
	}
	var calls []call
	sink := &findingsSink{}
	var snaps []*inventory.Snapshot
	clock := newFakeClock()
	d, err := New(Config{
		Scanner: scanner,
		Audit:   func(*inventory.Snapshot, map[string]bool) audit.Result { t.Fatal("Audit ran"); return audit.Result{} },
		IncrementalAudit: func(prev *audit.State, snap *inventory.Snapshot, _ map[string]bool) *audit.State {
			s := audit.Next(prev, snap, audit.Config{})
			calls = append(calls, call{prev, s.Stats().Incremental})
			snaps = append(snaps, snap)
			return s
		},
		Sink: sink, FullInterval: 24 * time.Hour, PollInterval: time.Minute, Timeout: time.Minute,
		Clock: clock, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	var states []*audit.State
	for range 5 {
		d.scan(context.Background(), clock.Now())
		clock.Advance(time.Minute)
		states = append(states, d.lastState)
	}
	wantIncremental := []bool{false, true, true, false, true}
	if len(calls) != 5 || len(sink.published) != 5 {
		t.Fatalf("%d audits, %d published, want 5", len(calls), len(sink.published))
	}
	for i, c := range calls {
		if c.incremental != wantIncremental[i] {
			t.Errorf("scan %d: incremental %v, want %v", i, c.incremental, wantIncremental[i])
		}
		// A full scan starts afresh; a poll from the last audit's state.
		if wantPrev := i > 0 && i != 3; (c.prev != nil) != wantPrev || wantPrev && c.prev != states[i-1] {
			t.Errorf("scan %d: audited from %p, want the previous state (%v)", i, c.prev, wantPrev)
		}
		if want := audit.Run(snaps[i], audit.Config{}); !reflect.DeepEqual(sink.published[i], want.Findings) {
			t.Errorf("scan %d published other findings than audit.Run's", i)
		}
	}
}
