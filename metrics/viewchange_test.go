package metrics

import (
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// pollChange is what a test poll records of how its snapshot and audit
// were made from the ones before (inventory.Change, audit.ResultChange).
type pollChange int

const (
	changeNone      pollChange = iota // a producer that records nothing
	changeBoth                        // the scanner's and the audit's
	changeObjects                     // the scanner's only
	changeFindings                    // the audit's only
	changeWrongBase                   // both, from another snapshot and result with equal lists
)

func (c pollChange) String() string {
	return [...]string{"none", "both", "objects", "findings", "wrong base"}[c]
}

// changesOf is what trial's polls record: in a third of the trials
// nothing (the view compares every object and finding), in a third both
// changes, in the others any of pollChange's cases, poll by poll.
func changesOf(trial int, rng *rand.Rand) pollChange {
	switch trial / 6 % 3 {
	case 0:
		return changeNone
	case 1:
		return changeBoth
	}
	return pollChange(rng.IntN(5))
}

// tracked is a list a test poll changes, with each item's position in the
// list before the poll (-1: new, or a changed copy), so the poll can
// record its change as a producer does.
type tracked[T any] struct {
	items []T
	from  []int
}

func track[T any](base []T) *tracked[T] {
	t := &tracked[T]{items: slices.Clone(base), from: make([]int, len(base))}
	for i := range t.from {
		t.from[i] = i
	}
	return t
}

func (t *tracked[T]) add(v T) { t.items, t.from = append(t.items, v), append(t.from, -1) }

func (t *tracked[T]) del(i int) {
	t.items, t.from = slices.Delete(t.items, i, i+1), slices.Delete(t.from, i, i+1)
}

// changed returns item i to change: it becomes a changed copy.
func (t *tracked[T]) changed(i int) *T {
	t.from[i] = -1
	return &t.items[i]
}

func (t *tracked[T]) sortStable(compare func(a, b *T) int) {
	perm := make([]int, len(t.items))
	for i := range perm {
		perm[i] = i
	}
	slices.SortStableFunc(perm, func(a, b int) int { return compare(&t.items[a], &t.items[b]) })
	items, from := make([]T, len(perm)), make([]int, len(perm))
	for p, i := range perm {
		items[p], from[p] = t.items[i], t.from[i]
	}
	t.items, t.from = items, from
}

func (t *tracked[T]) shuffle(rng *rand.Rand) {
	rng.Shuffle(len(t.items), func(i, j int) {
		t.items[i], t.items[j] = t.items[j], t.items[i]
		t.from[i], t.from[j] = t.from[j], t.from[i]
	})
}

// change returns the list and how it was made from the list of baseLen
// items before: the positions removed from that list and added in this
// one, as a producer records them (SetChange). The kept items must keep
// their order: one that moved before another kept one (a shuffle, a sort
// of unsorted items) counts as removed and added, as a producer that
// splices changed items into a copy would have to record it.
func (t *tracked[T]) change(baseLen int) ([]T, [2][]int32) {
	kept := make([]bool, baseLen)
	var added []int32
	last := -1
	for j, i := range t.from {
		if i > last {
			kept[i], last = true, i
		} else {
			added = append(added, int32(j))
		}
	}
	var removed []int32
	for i, k := range kept {
		if !k {
			removed = append(removed, int32(i))
		}
	}
	return t.items, [2][]int32{removed, added}
}

// TestStoreIgnoresChangeFromAnotherBase: a poll whose snapshot or audit
// says it was made from another snapshot or result than the published
// view's (equal lists in another array, or a copy whose list was
// replaced) is compared in full, never read from its change: the store
// relies on ChangeFrom's check. The changes here lie (they say nothing
// changed), so a store that read them would publish the last counts; the
// same lie from the right base is read, which shows the test can tell.
func TestStoreIgnoresChangeFromAnotherBase(t *testing.T) {
	w := &viewWorld{rng: rand.New(rand.NewPCG(7, 7)), sorted: true}
	for range 30 {
		w.objects = append(w.objects, w.newObject())
	}
	slices.SortStableFunc(w.objects, func(a, b inventory.Object) int { return compareObjects(&a, &b) })
	for range 20 {
		w.findings = append(w.findings, w.newFinding(""))
	}
	slices.SortStableFunc(w.findings, func(a, b audit.Finding) int { return compareFindings(&a, &b) })
	clk := newClock()
	first, firstRes := w.scan(t, clk.Now(), nil, audit.Result{}, changeNone)

	// The poll: one object of another kind with one more SPN, and one
	// finding of another severity; as many objects and findings as before.
	objects := slices.Clone(first.Objects)
	changed := *objects[3] // the first snapshot's object stays as it was
	changed.Kind = inventory.KindGMSA
	changed.SPNs = append(slices.Clone(changed.SPNs), "HTTP/more")
	objects[3] = &changed
	findings := slices.Clone(firstRes.Findings)
	findings[0].Severity = audit.SeverityCritical
	findings[0].Rule = audit.RuleGhostSPN
	slices.SortStableFunc(findings, func(a, b audit.Finding) int { return compareFindings(&a, &b) })

	other := withObjects(first, slices.Clone(first.Objects))
	otherRes := audit.Result{Findings: slices.Clone(firstRes.Findings), Suppressed: slices.Clone(firstRes.Suppressed)}
	for _, tc := range []struct {
		name string
		// poll returns the poll's snapshot and audit, given the published ones.
		poll func(t *testing.T, snap *inventory.Snapshot, res audit.Result) (*inventory.Snapshot, audit.Result)
		// read says the lie is from the published view's inputs: the
		// store reads it and publishes the last counts.
		read bool
	}{
		{"objects, from the published snapshot", func(t *testing.T, snap *inventory.Snapshot, res audit.Result) (*inventory.Snapshot, audit.Result) {
			return lyingSnapshot(t, snap, objects), audit.Result{Findings: findings, Suppressed: res.Suppressed}
		}, true},
		{"objects, from another snapshot", func(t *testing.T, _ *inventory.Snapshot, res audit.Result) (*inventory.Snapshot, audit.Result) {
			return lyingSnapshot(t, other, objects), audit.Result{Findings: findings, Suppressed: res.Suppressed}
		}, false},
		{"objects, a copy with other objects", func(t *testing.T, snap *inventory.Snapshot, res audit.Result) (*inventory.Snapshot, audit.Result) {
			copied := *lyingSnapshot(t, snap, slices.Clone(first.Objects))
			copied.Objects = objects
			return &copied, audit.Result{Findings: findings, Suppressed: res.Suppressed}
		}, false},
		{"findings, from the published result", func(t *testing.T, snap *inventory.Snapshot, res audit.Result) (*inventory.Snapshot, audit.Result) {
			return withObjects(snap, objects), lyingResult(t, res, findings)
		}, true},
		{"findings, from another result", func(t *testing.T, snap *inventory.Snapshot, _ audit.Result) (*inventory.Snapshot, audit.Result) {
			return withObjects(snap, objects), lyingResult(t, otherRes, findings)
		}, false},
		{"findings, a copy with other findings", func(t *testing.T, snap *inventory.Snapshot, res audit.Result) (*inventory.Snapshot, audit.Result) {
			copied := lyingResult(t, res, slices.Clone(firstRes.Findings))
			copied.Findings = findings
			return withObjects(snap, objects), copied
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestStore(clk, 8)
			s.ScanSucceeded(inventory.IncrementalScan, first, firstRes)
			published := s.load().snapshot
			snap, res := tc.poll(t, first, firstRes)
			clk.Advance(time.Minute)
			s.ScanSucceeded(inventory.IncrementalScan, snap, res)
			got := s.load().snapshot
			if got.index != published.index {
				t.Fatal("the view was built afresh, not updated: the test shows nothing")
			}
			want := newSnapshotView(snap, res, clk.Now(), 8, s.order)
			equal := sameViews(got, want, 8) == nil
			if tc.read && equal {
				t.Fatal("the lying change from the published inputs was not read: the test cannot tell whether a change is used")
			}
			if !tc.read && !equal {
				t.Fatalf("a change from another base was used: %v", sameViews(got, want, 8))
			}
		})
	}
}

// lyingSnapshot is a snapshot of objects saying it was made from base
// without a change (as many objects as base's).
func lyingSnapshot(t *testing.T, base *inventory.Snapshot, objects []*inventory.Object) *inventory.Snapshot {
	t.Helper()
	snap := withObjects(base, objects)
	if err := snap.SetChange(base, nil, nil); err != nil {
		t.Fatal(err)
	}
	return snap
}

// withObjects is base's scan with objects and no change.
func withObjects(base *inventory.Snapshot, objects []*inventory.Object) *inventory.Snapshot {
	return &inventory.Snapshot{Objects: objects, Directory: base.Directory, NamingContexts: base.NamingContexts}
}

// lyingResult is an audit of findings saying it was made from base without
// a change.
func lyingResult(t *testing.T, base audit.Result, findings []audit.Finding) audit.Result {
	t.Helper()
	res := audit.Result{Findings: findings, Suppressed: base.Suppressed}
	if err := res.SetChange(base, nil, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	return res
}

// TestConcurrentReadsOfChangedPolls publishes polls that carry their
// changes (their views updated from the published one, their account
// names kept beside a shared map) while scrapes and web requests read the
// store: under -race this proves the update only reads what readers may
// hold, and the names readers get are the published view's.
func TestConcurrentReadsOfChangedPolls(t *testing.T) {
	w := &viewWorld{rng: rand.New(rand.NewPCG(11, 11)), sorted: true}
	clk := newClock()
	s := newTestStore(clk, 8)
	reg := NewRegistry(s)
	snap, res := w.scan(t, clk.Now(), nil, audit.Result{}, changeNone)
	s.ScanSucceeded(inventory.FullScan, snap, res)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if _, err := reg.Gather(); err != nil {
					t.Error(err)
					return
				}
				if p := s.Status().Published; p != nil {
					for dn, name := range p.AccountNames {
						if dn == "" || name == "" {
							t.Errorf("account name %q for %q", name, dn)
						}
					}
				}
			}
		})
	}
	updated := 0
	for range 150 {
		w.poll()
		clk.Advance(time.Minute)
		published := s.load().snapshot
		snap, res = w.scan(t, clk.Now(), snap, res, changeBoth)
		s.ScanSucceeded(inventory.IncrementalScan, snap, res)
		got := s.load().snapshot
		if got.index == published.index {
			updated++
		}
		if err := sameViews(got, newSnapshotView(snap, res, clk.Now(), 8, s.order), 8); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	if updated < 100 {
		t.Errorf("%d of 150 polls updated the view: the update path is barely exercised", updated)
	}
}

// TestPairChanges: a change's removed and added items are paired only when
// they are the same and between the same kept items, as the walks pair
// them: a pair across kept items would hide a move (the order of findings
// decides a series' dates, that of objects sharing a DN its account name).
func TestPairChanges(t *testing.T) {
	for _, tc := range []struct {
		name             string
		base, next       []string
		removed, added   []int32
		wantRem, wantAdd []int32
	}{
		{"read again in place", []string{"a", "x", "b"}, []string{"a", "x", "b"}, []int32{1}, []int32{1}, nil, nil},
		{"moved before a kept one", []string{"a", "x", "b"}, []string{"x", "a", "b"}, []int32{1}, []int32{0}, []int32{1}, []int32{0}},
		{"moved after a kept one", []string{"x", "a", "b"}, []string{"a", "b", "x"}, []int32{0}, []int32{2}, []int32{0}, []int32{2}},
		{"changed and read again", []string{"a", "x", "y", "b"}, []string{"a", "x", "z", "b"}, []int32{1, 2}, []int32{1, 2}, []int32{2}, []int32{2}},
		{"one new before one read again", []string{"a", "x"}, []string{"a", "n", "x"}, []int32{1}, []int32{1, 2}, nil, []int32{1}},
		{"gone and new", []string{"a", "x", "b"}, []string{"a", "b", "y"}, []int32{1}, []int32{2}, []int32{1}, []int32{2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var gotRem, gotAdd []int32
			pairChanges(tc.removed, tc.added,
				func(i, j int32) bool { return tc.base[i] == tc.next[j] },
				func(i, j int32) int { return strings.Compare(tc.base[i], tc.next[j]) },
				func(i int32) { gotRem = append(gotRem, i) }, func(j int32) { gotAdd = append(gotAdd, j) })
			if !slices.Equal(gotRem, tc.wantRem) || !slices.Equal(gotAdd, tc.wantAdd) {
				t.Errorf("removed %v, added %v; want %v, %v", gotRem, gotAdd, tc.wantRem, tc.wantAdd)
			}
		})
	}
}
