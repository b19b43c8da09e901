package state

import (
	"math/rand/v2"
	"testing"
)

// TestHashSetAgainstMap runs random adds and removes on a hashSet and on a
// map, and checks that they hold the same hashes after every step, across
// the rebuilds of the sorted slice.
func TestHashSetAgainstMap(t *testing.T) {
	for _, n := range []int{0, 1, 100, 5000} {
		rng := rand.New(rand.NewPCG(uint64(n), 9))
		universe := uint64(2*n + 200) // small, so adds and removes collide
		initial := make([]uint64, n)
		want := map[uint64]struct{}{}
		for i := range initial {
			initial[i] = rng.Uint64N(universe)
			want[initial[i]] = struct{}{}
		}
		s, unique := newHashSet(append([]uint64(nil), initial...))
		if unique != (len(want) == n) {
			t.Fatalf("n=%d: unique %v with %d distinct of %d", n, unique, len(want), n)
		}
		for step := range 20 * (n + 100) {
			h := rng.Uint64N(universe)
			if rng.IntN(2) == 0 {
				s.add(h)
				want[h] = struct{}{}
			} else {
				s.remove(h)
				delete(want, h)
			}
			probe := rng.Uint64N(universe)
			if _, ok := want[probe]; s.has(probe) != ok {
				t.Fatalf("n=%d step %d: has(%d) = %v, want %v", n, step, probe, !ok, ok)
			}
		}
		for h := range universe {
			if _, ok := want[h]; s.has(h) != ok {
				t.Fatalf("n=%d: has(%d) = %v at the end", n, h, !ok)
			}
		}
		if got := s.members(); len(got) != len(want) {
			t.Fatalf("n=%d: %d members, want %d", n, len(got), len(want))
		}
	}
}

// members returns the set's hashes as a map (tests compare it with one).
func (s *hashSet) members() map[uint64]struct{} {
	out := map[uint64]struct{}{}
	if s == nil {
		return out
	}
	for _, h := range s.sorted {
		if _, gone := s.removed[h]; !gone {
			out[h] = struct{}{}
		}
	}
	for h := range s.added {
		out[h] = struct{}{}
	}
	return out
}
