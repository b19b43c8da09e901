package inventory

import (
	"fmt"
	"slices"
	"weak"
)

// Change is how a poll made a snapshot from the snapshot before it (its
// base): the base's objects except those at Removed, in their order, merged
// with the objects at Added; every other object is the base's value as it
// was (the same strings, slices and pointers). A consumer that holds the
// base reads only the changed objects instead of comparing every one, so
// that a poll that changed k objects costs in proportion to k, not to the
// domain (issue 9).
type Change struct {
	// Removed are ascending positions in the base's Objects: the objects
	// gone, and those replaced by a changed copy (which is in Added).
	Removed []int32
	// Added are ascending positions in the snapshot's Objects: the objects
	// new, and the changed copies.
	Added []int32

	// base names the base's objects without keeping them alive: a weak
	// pointer to its first object, and its length. A strong one would keep
	// every earlier snapshot's objects, through their own changes.
	base    weak.Pointer[*Object]
	baseLen int
	// objects are the snapshot's objects the change describes: a copy of
	// the snapshot whose objects were replaced carries a change that no
	// longer describes it, and ChangeFrom refuses it.
	objects []*Object
}

// SetChange records that s was made from base by removing the objects at
// removed (ascending positions in base.Objects) and adding those at added
// (ascending positions in s.Objects). The producer calls it once, before it
// hands s out (a Snapshot is immutable afterwards). It refuses positions
// out of order or out of range and counts that do not add up.
func (s *Snapshot) SetChange(base *Snapshot, removed, added []int32) error {
	if err := CheckPositions(removed, len(base.Objects)); err != nil {
		return fmt.Errorf("inventory: change's removed positions: %w", err)
	}
	if err := CheckPositions(added, len(s.Objects)); err != nil {
		return fmt.Errorf("inventory: change's added positions: %w", err)
	}
	if len(base.Objects)-len(removed)+len(added) != len(s.Objects) {
		return fmt.Errorf("inventory: change of %d objects, %d removed and %d added, cannot make %d",
			len(base.Objects), len(removed), len(added), len(s.Objects))
	}
	s.change = &Change{Removed: removed, Added: added, base: firstObject(base.Objects),
		baseLen: len(base.Objects), objects: s.Objects}
	return nil
}

// ChangeFrom returns how s was made from base, or nil when s does not say:
// a full scan, a poll from another snapshot, or a copy of s whose objects
// were replaced. The caller must hold base (a Change does not keep it).
func (s *Snapshot) ChangeFrom(base *Snapshot) *Change {
	c := s.change
	if c == nil || base == nil || len(c.objects) != len(s.Objects) || c.baseLen != len(base.Objects) ||
		(len(s.Objects) > 0 && &c.objects[0] != &s.Objects[0]) || c.base != firstObject(base.Objects) {
		return nil
	}
	return c
}

// firstObject is the weak pointer that names a list of objects.
func firstObject(objs []*Object) weak.Pointer[*Object] {
	if len(objs) == 0 {
		return weak.Pointer[*Object]{}
	}
	return weak.Make(&objs[0])
}

// NewPosition returns the position in the snapshot of the base's object at
// old, -1 when the change removed it. It costs O(log k).
func (c *Change) NewPosition(old int32) int32 {
	return KeptPosition(old, c.Removed, c.Added)
}

// OldPosition returns the position in the base of the snapshot's object at
// cur, -1 when the change added it. It costs O(log k).
func (c *Change) OldPosition(cur int32) int32 {
	return KeptPosition(cur, c.Added, c.Removed)
}

// KeptPosition maps the position p of a kept item in one list to its
// position in the other, -1 when p is not kept; dropped lists the
// positions in p's list that are not kept, inserted those in the other
// list that are not kept, both ascending (a Change's Removed and Added, or
// audit's ResultChange's). It costs O(log k). A kept item has
// the same rank u among the kept objects of both lists; its position in
// the other list is u plus the t inserted positions before it, the least t
// with inserted[t]-t > u (inserted[t]-t, the kept items before
// inserted[t], never decreases).
func KeptPosition(p int32, dropped, inserted []int32) int32 {
	before, found := slices.BinarySearch(dropped, p)
	if found {
		return -1
	}
	u := p - int32(before)
	lo, hi := 0, len(inserted)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if inserted[m]-int32(m) > u {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return u + int32(lo)
}

// CheckPositions reports positions that are not ascending or not in [0, n)
// (a Change's, or audit's ResultChange's).
func CheckPositions(ps []int32, n int) error {
	for i, p := range ps {
		if p < 0 || int(p) >= n {
			return fmt.Errorf("position %d out of range [0, %d)", p, n)
		}
		if i > 0 && p <= ps[i-1] {
			return fmt.Errorf("positions not ascending: %d after %d", p, ps[i-1])
		}
	}
	return nil
}

// MergePositions merges two ascending lists of positions with no position
// in common into one (a poll's change and the positions a later step of it
// adds, or two composed changes).
func MergePositions(a, b []int32) []int32 {
	out := make([]int32, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if a[i] < b[j] {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}
