package ldapscan

import (
	"reflect"
	"slices"
	"sort"
	"weak"

	"github.com/spnaudit/spnaudit/inventory"
)

// pollMemo is what the scanner keeps of the last snapshot its poll made,
// so that the next poll from it merges its changes in proportion to them
// (issue 9): where each object is (by key), and the membership its
// privileges came from. It names the snapshot's objects by a weak pointer
// and is used only for that very snapshot.
type pollMemo struct {
	objects weak.Pointer[*inventory.Object]
	n       int
	// dns maps every object's objectGUID to its DN: with it a poll
	// places an entry it read, renamed or deleted, by binary search of the
	// sorted objects, and knows one absent from them without a walk. It is
	// nil for objects without GUIDs (an LDIF export; AD gives every
	// object one): those polls walk the objects instead.
	dns map[inventory.GUID]string
	// membership is the one the snapshot's privileges were set from;
	// hasMembership is false after a full scan (its memo is built from
	// the objects alone).
	membership    inventory.Membership
	hasMembership bool
}

// memoFor returns the memo of prev's objects, built from them (one walk)
// when the scanner holds none for them.
func (sc *Scanner) memoFor(prev []*inventory.Object) *pollMemo {
	if m := sc.memo; m != nil && m.n == len(prev) && m.objects == firstObjectOf(prev) {
		return m
	}
	m := &pollMemo{objects: firstObjectOf(prev), n: len(prev), dns: make(map[inventory.GUID]string, len(prev))}
	for i := range prev {
		key := prev[i].GUID
		if _, dup := m.dns[key]; dup || key.IsZero() {
			// Two objects of one GUID (never seen from AD), or one without:
			// the memo would not place every object; the polls walk prev
			// instead.
			m.dns = nil
			break
		}
		m.dns[key] = prev[i].DN
	}
	sc.memo = m
	return m
}

// advance makes m the memo of next, made from prev by change (removed in
// prev, added in next) with membership.
func (m *pollMemo) advance(prev, next []*inventory.Object, removed, added []int32, membership inventory.Membership) {
	if m.dns == nil {
		return // unusable for prev: built anew (and checked) for next
	}
	for _, r := range removed {
		delete(m.dns, prev[r].GUID)
	}
	for _, a := range added {
		if next[a].GUID.IsZero() {
			m.dns = nil // see memoFor
			return
		}
		m.dns[next[a].GUID] = next[a].DN
	}
	m.objects, m.n = firstObjectOf(next), len(next)
	m.membership, m.hasMembership = membership, true
}

func firstObjectOf(objs []*inventory.Object) weak.Pointer[*inventory.Object] {
	if len(objs) == 0 {
		return weak.Pointer[*inventory.Object]{}
	}
	return weak.Make(&objs[0])
}

// merge is apply's result: the new objects and how they were made from
// prev (inventory.Change's positions), and how many of prev's are gone.
type merge struct {
	objects        []*inventory.Object
	removed, added []int32
	gone           int
}

// apply returns a new object list: prev without every object read, merged
// with the updated ones, in sorted order, and the positions it removed
// from prev and added. prev is not modified; when nothing of it changes it
// is returned itself (immutable: safe to share). dns (a pollMemo's, nil
// when none) places the objects read in prev without walking it.
func (c *changeSet) apply(prev []*inventory.Object, dns map[inventory.GUID]string) merge {
	if len(c.touched) == 0 {
		return merge{objects: prev}
	}
	sortObjects(c.updated)
	updatedKeys := make(map[objectID]struct{}, len(c.updated))
	for i := range c.updated {
		updatedKeys[objectKey(c.updated[i])] = struct{}{}
	}
	removed, ok := c.placeTouched(prev, dns)
	if !ok {
		removed = c.walkTouched(prev)
	}
	gone := 0
	for _, r := range removed {
		if _, still := updatedKeys[objectKey(prev[r])]; !still {
			gone++
		}
	}
	removed, updated := keepUnchanged(prev, removed, c.updated)
	if len(removed) == 0 && len(updated) == 0 {
		return merge{objects: prev}
	}
	objects, added := splice(prev, removed, updated)
	return merge{objects: objects, removed: removed, added: added, gone: gone}
}

// keepUnchanged leaves out of the change the objects read again as they
// were (a poll reads again what changed after the last watermark was
// taken; a change the inventory does not hold): prev's value stays, so
// that the change names only objects that differ. It returns removed and
// updated without them, new slices when it drops any.
func keepUnchanged(prev []*inventory.Object, removed []int32, updated []*inventory.Object) ([]int32, []*inventory.Object) {
	if len(removed) == 0 || len(updated) == 0 {
		return removed, updated
	}
	at := make(map[objectID]int32, len(removed))
	for _, r := range removed {
		at[objectKey(prev[r])] = r
	}
	var same map[int32]bool
	for i := range updated {
		if r, ok := at[objectKey(updated[i])]; ok && sameAsRead(prev[r], updated[i]) {
			if same == nil {
				same = map[int32]bool{}
			}
			same[r] = true
		}
	}
	if same == nil {
		return removed, updated
	}
	keptRemoved := make([]int32, 0, len(removed)-len(same))
	for _, r := range removed {
		if !same[r] {
			keptRemoved = append(keptRemoved, r)
		}
	}
	keptUpdated := make([]*inventory.Object, 0, len(updated)-len(same))
	for i := range updated {
		if r, ok := at[objectKey(updated[i])]; !ok || !same[r] {
			keptUpdated = append(keptUpdated, updated[i])
		}
	}
	return keptRemoved, keptUpdated
}

// sameAsRead reports whether an object read is kept's value, but for the
// privilege, which the poll sets afterwards (from the same DN, domain and
// primary group: kept's, unless the membership changed, when every
// object's is set again).
func sameAsRead(kept, read *inventory.Object) bool {
	a, b := *kept, *read
	a.Privilege, a.PrivilegeUnknown = nil, false
	b.Privilege, b.PrivilegeUnknown = nil, false
	return reflect.DeepEqual(a, b)
}

// placeTouched finds the positions in prev of the objects read, by the
// DN dns holds for their key; ok is false when it cannot (no dns, or an
// object not where its DN says).
func (c *changeSet) placeTouched(prev []*inventory.Object, dns map[inventory.GUID]string) ([]int32, bool) {
	if dns == nil {
		return nil, false
	}
	var removed []int32
	for key := range c.touched {
		if key.guid.IsZero() {
			return nil, false // an object without GUID: the memo cannot place it
		}
		dn, in := dns[key.guid]
		if !in {
			continue // new, or read before without SPNs
		}
		target := inventory.Object{DN: dn, GUID: key.guid}
		i, found := slices.BinarySearchFunc(prev, &target, compareObjects)
		if !found || objectKey(prev[i]) != key {
			return nil, false
		}
		removed = append(removed, int32(i))
	}
	slices.Sort(removed)
	return removed, true
}

// walkTouched finds the positions in prev of the objects read by looking
// every object's key up: the way without a memo.
func (c *changeSet) walkTouched(prev []*inventory.Object) []int32 {
	var removed []int32
	for i := range prev {
		if _, ok := c.touched[objectKey(prev[i])]; ok {
			removed = append(removed, int32(i))
		}
	}
	return removed
}

// splice returns prev without the objects at removed (ascending), with
// updated (sorted) merged in at their sorted places, and the positions of
// updated in it. The runs of prev between changes are copied whole.
func splice(prev []*inventory.Object, removed []int32, updated []*inventory.Object) ([]*inventory.Object, []int32) {
	out := make([]*inventory.Object, len(prev)-len(removed)+len(updated))
	added := make([]int32, 0, len(updated))
	o, p, r := 0, 0, 0
	for u := 0; u <= len(updated); u++ {
		stop := len(prev)
		if u < len(updated) {
			// Before the first object of prev it sorts before (the later of
			// equals stays after prev's, as a merge keeps it).
			stop = sort.Search(len(prev), func(i int) bool { return compareObjects(updated[u], prev[i]) < 0 })
		}
		for p < stop {
			if r < len(removed) && int(removed[r]) < stop {
				end := int(removed[r])
				o += copy(out[o:], prev[p:end])
				p, r = end+1, r+1
				continue
			}
			o += copy(out[o:], prev[p:stop])
			p = stop
		}
		if u < len(updated) {
			out[o] = updated[u]
			added = append(added, int32(o))
			o++
		}
	}
	return out, added
}

// withPrivilegeChanges adds to a change (removed from the base, added in
// the objects) the objects at changed (ascending positions in the
// objects) whose privilege a poll set anew: each is a changed copy of its
// base object, removed at its old position and added at its new one. The
// positions already added are left as they are.
func withPrivilegeChanges(removed, added, changed []int32) ([]int32, []int32) {
	var olds, news []int32
	for _, p := range changed {
		if _, in := slices.BinarySearch(added, p); in {
			continue
		}
		olds = append(olds, inventory.KeptPosition(p, added, removed))
		news = append(news, p)
	}
	if len(news) == 0 {
		return removed, added
	}
	return inventory.MergePositions(removed, olds), inventory.MergePositions(added, news)
}
