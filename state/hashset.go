package state

import "slices"

// hashSet is a set of 64-bit key hashes held as one sorted slice, with the
// changes made since it was last sorted in two small maps. The store keeps
// a hash of every account's and every finding key (lean.go): as maps they
// took 5.6 MB at 100,000 accounts and 50,000 findings (issue 9), about
// 40 bytes a hash; sorted, 8. A poll changes k of them; the slice is
// rebuilt once the changes outgrow an eighth of it, so a change costs
// O(log n) amortised.
type hashSet struct {
	sorted  []uint64 // ascending, no repeats
	added   map[uint64]struct{}
	removed map[uint64]struct{} // each in sorted
}

// newHashSet returns the set of hs (which it sorts in place) and whether
// no hash was repeated in it.
func newHashSet(hs []uint64) (*hashSet, bool) {
	slices.Sort(hs)
	n := len(hs)
	hs = slices.Compact(hs)
	return &hashSet{sorted: slices.Clip(hs)}, len(hs) == n
}

func (s *hashSet) inSorted(h uint64) bool {
	_, ok := slices.BinarySearch(s.sorted, h)
	return ok
}

// has reports whether h is in the set; a nil set is empty, as a nil map.
func (s *hashSet) has(h uint64) bool {
	if s == nil {
		return false
	}
	if _, ok := s.added[h]; ok {
		return true
	}
	if _, ok := s.removed[h]; ok {
		return false
	}
	return s.inSorted(h)
}

func (s *hashSet) add(h uint64) {
	if _, ok := s.removed[h]; ok {
		delete(s.removed, h)
		return
	}
	if s.inSorted(h) {
		return
	}
	if s.added == nil {
		s.added = map[uint64]struct{}{}
	}
	s.added[h] = struct{}{}
	s.settle()
}

// remove takes h out of the set; on a nil set it does nothing, as delete
// on a nil map.
func (s *hashSet) remove(h uint64) {
	if s == nil {
		return
	}
	if _, ok := s.added[h]; ok {
		delete(s.added, h)
		return
	}
	if !s.inSorted(h) {
		return
	}
	if s.removed == nil {
		s.removed = map[uint64]struct{}{}
	}
	s.removed[h] = struct{}{}
	s.settle()
}

// settle folds the changes into the slice once they outgrow an eighth of
// it.
func (s *hashSet) settle() {
	if len(s.added)+len(s.removed) <= len(s.sorted)/8+64 {
		return
	}
	out := make([]uint64, 0, len(s.sorted)-len(s.removed)+len(s.added))
	for _, h := range s.sorted {
		if _, gone := s.removed[h]; !gone {
			out = append(out, h)
		}
	}
	for h := range s.added {
		out = append(out, h)
	}
	slices.Sort(out)
	s.sorted, s.added, s.removed = out, nil, nil
}
