package state

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// pollGen makes random sequences of polls as the daemon hands them to the
// history: a snapshot made from the previous one (objects removed, replaced
// by a changed copy, added) with its change set, and a result made from the
// previous published one (findings removed, added fresh) with its change
// set; now and then a full scan (no change) or a poll that changed nothing
// (the same lists: a reused audit).
type pollGen struct {
	r    *rand.Rand
	next int // the next object's number
	at   time.Time
	// dupGUIDs makes some new objects take an object's objectGUID, which
	// AD never does: the change path must then leave it to the full one.
	dupGUIDs bool
	// sorted keeps the objects in the scanner's order (CompareFold(DN),
	// then objectGUID), which new findings' records search (dnsearch.go).
	sorted bool
}

// order sorts objs as the scanner does when g.sorted, and returns the
// positions of the added objects there.
func (g *pollGen) order(objs []*inventory.Object, added []int32) []int32 {
	if !g.sorted {
		return added
	}
	isNew := map[*inventory.Object]bool{}
	for _, a := range added {
		isNew[objs[a]] = true
	}
	slices.SortStableFunc(objs, func(a, b *inventory.Object) int {
		if c := inventory.CompareFold(a.DN, b.DN); c != 0 {
			return c
		}
		return a.GUID.Compare(b.GUID)
	})
	added = added[:0]
	for i, o := range objs {
		if isNew[o] {
			added = append(added, int32(i))
		}
	}
	return added
}

func (g *pollGen) object() inventory.Object {
	g.next++
	n := g.next
	o := inventory.Object{GUID: testGUID(fmt.Sprint(n)), DN: fmt.Sprintf("CN=svc%d,OU=Apps,DC=example,DC=test", n),
		SAMAccountName: fmt.Sprintf("svc%d", n), Kind: inventory.KindUser}
	if g.r.IntN(5) == 0 {
		o.GUID = inventory.GUID{} // a source without GUIDs: keyed by DN
	}
	g.edit(&o)
	return o
}

// edit gives o another SPN list, and sometimes AD's metadata or a new name.
func (g *pollGen) edit(o *inventory.Object) {
	o.SPNs = nil
	for range g.r.IntN(4) {
		spn := fmt.Sprintf("HTTP/host%d.example.test", g.r.IntN(12))
		if !slices.Contains(o.SPNs, spn) {
			o.SPNs = append(o.SPNs, spn)
		}
	}
	o.SPNChanged, o.SPNChangedBy = time.Time{}, ""
	if g.r.IntN(2) == 0 {
		o.SPNChanged, o.SPNChangedBy = g.at.Add(-time.Minute), "aaaaaaaa-0000-0000-0000-000000000001"
	}
	if !o.GUID.IsZero() && g.r.IntN(6) == 0 {
		g.next++
		o.DN = fmt.Sprintf("CN=renamed%d,OU=Apps,DC=example,DC=test", g.next)
		o.SAMAccountName = fmt.Sprintf("renamed%d", g.next)
	}
}

// objects makes the next snapshot's objects from base's: each kept,
// removed or replaced by a changed copy, and new ones inserted.
func (g *pollGen) objects(base []*inventory.Object, rate int) (objs []*inventory.Object, removed, added []int32) {
	insert := func() {
		for g.r.IntN(rate) == 0 {
			o := g.object()
			if g.dupGUIDs && len(base) > 0 && !o.GUID.IsZero() && g.r.IntN(40) == 0 {
				o.GUID = base[g.r.IntN(len(base))].GUID // two objects, one key
			}
			added = append(added, int32(len(objs)))
			objs = append(objs, new(o))
		}
	}
	for i, o := range base {
		insert()
		switch g.r.IntN(rate) {
		case 0: // gone
			removed = append(removed, int32(i))
		case 1: // a changed copy (sometimes changed in nothing the history reads)
			removed = append(removed, int32(i))
			c := *o // base's object stays as it was
			if g.r.IntN(4) != 0 {
				g.edit(&c)
			}
			added = append(added, int32(len(objs)))
			objs = append(objs, &c)
		default:
			objs = append(objs, o)
		}
	}
	insert()
	return objs, removed, g.order(objs, added)
}

var coarseSeed = maphash.MakeSeed()

var changeRules = []string{audit.RuleDuplicateSPN, audit.RuleKerberoastableAccount, audit.RuleGhostSPN}

// finding is a fresh finding on objs' accounts; sometimes one whose key
// another finding has (another message, the accounts in another case).
func (g *pollGen) finding(objs []*inventory.Object, like []audit.Finding) audit.Finding {
	if len(like) > 0 && g.r.IntN(6) == 0 {
		f := like[g.r.IntN(len(like))]
		f.FirstSeen = nil
		f.Message = "again"
		if len(f.Accounts) > 0 {
			f.Accounts = []string{strings.ToUpper(f.Accounts[0])}
		}
		return f
	}
	f := audit.Finding{Rule: changeRules[g.r.IntN(len(changeRules))], Severity: audit.SeverityHigh,
		SPN: fmt.Sprintf("HTTP/host%d.example.test", g.r.IntN(12)), Message: "m"}
	for range 1 + g.r.IntN(2) {
		if len(objs) > 0 {
			f.Accounts = append(f.Accounts, objs[g.r.IntN(len(objs))].DN)
		} else {
			f.Accounts = append(f.Accounts, "CN=nobody,DC=example,DC=test")
		}
	}
	if g.r.IntN(5) == 0 {
		f.Accounts[0] = strings.ToLower(f.Accounts[0])
	}
	return f
}

// findings makes the next result's findings from base's.
func (g *pollGen) findings(base []audit.Finding, objs []*inventory.Object, rate int) (fs []audit.Finding, removed, added []int32) {
	insert := func() {
		for g.r.IntN(rate) == 0 {
			added = append(added, int32(len(fs)))
			fs = append(fs, g.finding(objs, base))
		}
	}
	for i, f := range base {
		insert()
		switch g.r.IntN(rate) {
		case 0:
			removed = append(removed, int32(i))
		case 1: // judged again: the same finding, fresh
			removed = append(removed, int32(i))
			f.FirstSeen = nil
			added = append(added, int32(len(fs)))
			fs = append(fs, f)
		default:
			fs = append(fs, f)
		}
	}
	insert()
	return fs, removed, added
}

// TestRecordChangeMatchesFull records random sequences of polls in two
// stores: one through the changes (as the daemon hands them over), one
// through the full comparison (copies that carry no change). Both must
// journal the same entries, tell OnChange the same, return the same
// findings with the same first_seen, and hold the same state on disk; the
// change path must date the findings in place, without a copy.
func TestRecordChangeMatchesFull(t *testing.T) {
	for seed := range uint64(16) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			recordChangeMatchesFull(t, seed)
		})
	}
}

func recordChangeMatchesFull(t *testing.T, seed uint64) {
	g := &pollGen{r: rand.New(rand.NewPCG(seed, 9)), at: t0, dupGUIDs: seed%4 == 3, sorted: seed%3 == 1}
	var fastSeen, fullSeen []Change
	dirFast, dirFull := t.TempDir(), t.TempDir()
	openFast := func() *Store {
		return open(t, dirFast, func(o *Options) { o.OnChange = func(c Change) { fastSeen = append(fastSeen, c) } })
	}
	openFull := func() *Store {
		return open(t, dirFull, func(o *Options) { o.OnChange = func(c Change) { fullSeen = append(fullSeen, c) } })
	}
	// Some seeds hash keys into few values: the keys share hashes, which
	// must keep the mirrors, or send the Record to the full comparison.
	var coarse func(string) uint64
	if seed%4 == 1 {
		coarse = func(k string) uint64 { return maphash.String(coarseSeed, k) % 256 }
	}
	fast, full := openFast(), openFull()
	fast.testHash, full.testHash = coarse, coarse
	// A restart: the store reopened, its first Record compared with the
	// mirrors read from disk; then dropped again.
	restartFast, restartFull := 4+g.r.IntN(16), 4+g.r.IntN(16)
	lean, reads := 0, 0
	dcs := inventory.Directory{DCs: map[string]string{"aaaaaaaa-0000-0000-0000-000000000001": "dc2.example.test"}}

	var objs []*inventory.Object
	for range 20 + g.r.IntN(30) {
		objs = append(objs, new(g.object()))
	}
	g.order(objs, nil)
	var fs []audit.Finding
	for range g.r.IntN(20) {
		fs = append(fs, g.finding(objs, fs))
	}
	var prevSnap *inventory.Snapshot
	var prevRes audit.Result
	rate := 3 + g.r.IntN(20)
	changed, changes := 0, 0
	for poll := range 24 {
		g.at = g.at.Add(time.Minute)
		snap := &inventory.Snapshot{Started: g.at, Directory: dcs}
		res := audit.Result{}
		kind := "full"
		switch {
		case poll == 0 || g.r.IntN(10) == 0: // a full scan and audit
			if poll > 0 {
				objs, _, _ = g.objects(prevSnap.Objects, rate)
				fs, _, _ = g.findings(prevRes.Findings, objs, rate)
			}
			snap.Objects, res.Findings = slices.Clone(objs), slices.Clone(fs)
			for i := range res.Findings {
				res.Findings[i].FirstSeen = nil
			}
		case g.r.IntN(8) == 0: // nothing changed: the same lists
			kind = "same"
			snap.Objects, res = prevSnap.Objects, prevRes
		default:
			kind = "change"
			changes++
			var removed, added []int32
			snap.Objects, removed, added = g.objects(prevSnap.Objects, rate)
			if err := snap.SetChange(prevSnap, removed, added); err != nil {
				t.Fatal(err)
			}
			changed += len(removed) + len(added)
			res.Findings, removed, added = g.findings(prevRes.Findings, snap.Objects, rate)
			if err := res.SetChange(prevRes, removed, added, nil, nil); err != nil {
				t.Fatal(err)
			}
			changed += len(removed) + len(added)
		}
		// The full path's copies carry no change.
		fullSnap := *snap
		fullSnap.Objects = slices.Clone(snap.Objects)
		fullFindings := slices.Clone(res.Findings)
		mode := map[string]string{"full": "full"}[kind]
		if mode == "" {
			mode = "incremental"
		}
		if poll == restartFast {
			reads += fast.changeReads
			_ = fast.Close()
			fast = openFast()
			fast.testHash = coarse
			checkMemory(t, "reopened", fast)
		}
		if poll == restartFull {
			_ = full.Close()
			full = openFull()
			full.testHash = coarse
		}
		got, err := fast.RecordResult(snap, res, Poll{Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		want, err := full.Record(&fullSnap, fullFindings, Poll{Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		if kind != "full" && poll != restartFast && coarse == nil && len(got) > 0 && &got[0] != &res.Findings[0] {
			t.Fatalf("poll %d (%s): the findings were copied, want them dated in place", poll, kind)
		}
		if diff := findingsDiff(got, want); diff != "" {
			t.Fatalf("poll %d (%s): returned findings differ: %s", poll, kind, diff)
		}
		compareStores(t, fmt.Sprintf("poll %d (%s)", poll, kind), fast, full)
		if fast.accounts == nil && fast.findings == nil {
			lean++
		}
		prevSnap, prevRes = snap, audit.Result{Findings: got}
		objs = snap.Objects
	}
	if !reflect.DeepEqual(fastSeen, fullSeen) {
		t.Fatalf("OnChange saw %d changes through the change path, %d through the full one", len(fastSeen), len(fullSeen))
	}
	// A change right after the restart is compared in full.
	if reads += fast.changeReads; !g.dupGUIDs && coarse == nil && reads < changes-1 || full.changeReads != 0 {
		t.Fatalf("%d of %d changes read as such, %d by the full store", reads, changes, full.changeReads)
	}
	if !g.dupGUIDs && coarse == nil && lean < 20 {
		t.Fatalf("the mirrors were dropped after %d of 24 polls", lean)
	}
	if changed == 0 || len(fullSeen) == 0 {
		t.Fatalf("the sequence changed nothing (%d, %d)", changed, len(fullSeen))
	}
	// What is on disk: reopened, both load the same mirrors.
	_ = fast.Close()
	_ = full.Close()
	compareStores(t, "reopened", open(t, dirFast), open(t, dirFull))
}

// findingsDiff compares findings value for value, FirstSeen by its time.
func findingsDiff(got, want []audit.Finding) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d findings, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.FirstSeen == nil || w.FirstSeen == nil || *g.FirstSeen != *w.FirstSeen {
			return fmt.Sprintf("finding %d first seen %v, want %v", i, g.FirstSeen, w.FirstSeen)
		}
		g.FirstSeen, w.FirstSeen = nil, nil
		if !reflect.DeepEqual(g, w) {
			return fmt.Sprintf("finding %d: %+v, want %+v", i, g, w)
		}
	}
	return ""
}

// compareStores fails unless both stores journaled the same and hold the
// same mirrors of what they committed.
func compareStores(t *testing.T, when string, a, b *Store) {
	t.Helper()
	ca, _, err := a.Changes(Query{})
	if err != nil {
		t.Fatal(err)
	}
	cb, _, err := b.Changes(Query{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ca, cb) {
		for i := range min(len(ca), len(cb)) {
			if !reflect.DeepEqual(ca[i], cb[i]) {
				t.Fatalf("%s: journals differ (%d, %d entries) at the %dth newest:\nchange path %+v\nfull path   %+v", when, len(ca), len(cb), i, ca[i], cb[i])
			}
		}
		t.Fatalf("%s: journals of %d and %d entries", when, len(ca), len(cb))
	}
	if a.polls != b.polls || a.count != b.count {
		t.Fatalf("%s: the stores' state differs", when)
	}
	// What they committed, and what they hold of it (lean.go).
	aa, af := diskState(t, a)
	ba, bf := diskState(t, b)
	if !reflect.DeepEqual(aa, ba) || !reflect.DeepEqual(af, bf) {
		t.Fatalf("%s: the stores' buckets differ", when)
	}
	checkMemory(t, when+", change path", a)
	checkMemory(t, when+", full path", b)
}

// TestRecordChangeKeepsPublishedDates: a result whose added findings
// already carry another date than the history's (a published result
// recorded again) is dated in a copy; the findings handed in are not
// written.
func TestRecordChangeKeepsPublishedDates(t *testing.T) {
	s := open(t, t.TempDir())
	a, b := obj("guid-a", "svc_a", "HTTP/web.example.test"), obj("guid-b", "svc_b", "HTTP/other.example.test")
	snap1 := snapAt(t0, a, b)
	base, err := s.RecordResult(snap1, audit.Result{}, Poll{Mode: "full"})
	if err != nil {
		t.Fatal(err)
	}
	b2 := b
	b2.SPNs = []string{"HTTP/web.example.test"}
	snap2 := snapAt(t0.Add(time.Minute), a, b2)
	if err := snap2.SetChange(snap1, []int32{1}, []int32{1}); err != nil {
		t.Fatal(err)
	}
	stale := t0.Add(-time.Hour)
	res := audit.Result{Findings: []audit.Finding{{Rule: audit.RuleDuplicateSPN, SPN: "HTTP/web.example.test",
		Accounts: []string{a.DN, b2.DN}, FirstSeen: &stale}}}
	if err := res.SetChange(audit.Result{Findings: base}, nil, []int32{0}, nil, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.RecordResult(snap2, res, Poll{Mode: "incremental"})
	if err != nil {
		t.Fatal(err)
	}
	if &got[0] == &res.Findings[0] || *res.Findings[0].FirstSeen != stale {
		t.Fatal("a finding that carried a date was written in place")
	}
	if !got[0].FirstSeen.Equal(t0.Add(time.Minute)) {
		t.Fatalf("first seen %v, want the poll's start", got[0].FirstSeen)
	}
}
