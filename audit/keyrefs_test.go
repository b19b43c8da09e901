package audit

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestKeyRefsFindWhatHashRunFinds checks the packed entries against the
// hashedRefs they replace, on random keys: for every key, run finds the
// positions hashRun finds, plus those of the keys that share its top 32
// bits (and no others), whether the entries were packed, sorted in place
// after a move, or merged; small and large sets (the two sorts).
func TestKeyRefsFindWhatHashRunFinds(t *testing.T) {
	for _, n := range []int{0, 1, 7, 64, 65, 4096, 4097, 70_000} {
		r := rand.New(rand.NewPCG(uint64(n), 9))
		// Few distinct tags, and keys that share a tag but differ below
		// it, so that runs hold several entries and collisions happen.
		tags := max(1, n/5)
		key := func() uint64 {
			tag := uint64(r.IntN(tags)) * 0x9e3779b97f4a7c15 >> 32 << 32
			return tag | uint64(r.Uint32())
		}
		entries := make([]hashedRef, n)
		for i := range entries {
			entries[i] = hashedRef{hash: key(), ref: spnRef{obj: int32(r.IntN(1 << 20))}}
		}
		want := slices.Clone(entries)
		sortStableByHash(want)
		packed := packKeys(slices.Clone(entries))
		// Moved: every position replaced, then sorted again.
		moved := slices.Clone(packed)
		r.Shuffle(len(moved), func(i, j int) { moved[i], moved[j] = moved[j], moved[i] })
		for i, e := range moved {
			moved[i] = e.at(e.pos() + 1)
		}
		sortKeys(moved)
		half := n / 2
		merged := mergeKeys(packKeys(slices.Clone(entries[:half])), packKeys(slices.Clone(entries[half:])))
		check := func(name string, refs keyRefs, k uint64, shift int32) {
			t.Helper()
			var got, exp []int32
			for _, e := range refs.run(k) {
				got = append(got, e.pos()-shift)
			}
			for _, e := range want {
				if e.hash>>32 == k>>32 {
					exp = append(exp, e.ref.obj)
				}
			}
			for _, e := range hashRun(want, k) {
				if !slices.Contains(got, e.ref.obj) {
					t.Fatalf("n=%d %s: key %x: position %d missing", n, name, k, e.ref.obj)
				}
			}
			slices.Sort(got)
			slices.Sort(exp)
			if !slices.Equal(got, exp) {
				t.Fatalf("n=%d %s: key %x: positions %v, want %v", n, name, k, got, exp)
			}
		}
		for range min(n+5, 500) {
			k := key()
			if n > 0 && r.IntN(2) == 0 {
				k = entries[r.IntN(n)].hash
			}
			check("packed", packed, k, 0)
			check("moved", moved, k, 1)
			check("merged", merged, k, 0)
		}
	}
}

// TestAgeLayerOrdersByPhase checks the phase order, now indexes in the
// time order, against a sort of the times by phase.
func TestAgeLayerOrdersByPhase(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	refs := make([]ageRef, 5000)
	for i := range refs {
		refs[i] = ageRef{sec: r.Int64N(1<<40) - 1<<39, nsec: int32(r.IntN(1e9)), obj: int32(i)}
	}
	want := slices.Clone(refs)
	l := newAgeLayer(refs)
	if len(l.byTime) != len(want) || len(l.byPhase) != len(want) {
		t.Fatalf("layer of %d/%d entries, want %d", len(l.byTime), len(l.byPhase), len(want))
	}
	if !slices.IsSortedFunc(l.byTime, compareAgeTime) {
		t.Fatal("byTime not sorted by time")
	}
	seen := make([]bool, len(want))
	for i, p := range l.byPhase {
		a := l.byTime[p]
		if seen[a.obj] {
			t.Fatalf("object %d twice in byPhase", a.obj)
		}
		seen[a.obj] = true
		if a.phase() != phaseOf(want[a.obj].sec, int64(want[a.obj].nsec)) {
			t.Fatalf("object %d: phase %d, want %d", a.obj, a.phase(), phaseOf(want[a.obj].sec, int64(want[a.obj].nsec)))
		}
		if i > 0 && l.byTime[l.byPhase[i-1]].phase() > a.phase() {
			t.Fatalf("byPhase not sorted at %d", i)
		}
	}
}
