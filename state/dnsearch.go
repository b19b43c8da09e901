package state

import (
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/spnaudit/spnaudit/inventory"
)

// A new finding's record names its accounts' sAMAccountNames: the SAM of
// the snapshot's object whose DN equals the account's in lower case (the
// last object's, for DNs that differ only in case). The scanner hands over
// its objects sorted by inventory.CompareFold(DN) (then objectGUID), so a
// binary search answers that without an index of 100,000 DNs (7.3 MiB,
// issue 9). It holds when every DN is ASCII: CompareFold then equals a
// comparison of the lower-case forms, so the DNs equal in lower case are
// neighbours. A snapshot out of that order, or with a non-ASCII DN, is
// answered by the index (samindex.go).

// dnOrder records whether a snapshot's objects can be searched so.
type dnOrder struct {
	snap   *inventory.Snapshot
	sorted bool // by CompareFold(DN), every DN ASCII
}

// searchable reports whether snap's objects can be searched by DN. It
// reads only the objects a change added when snap was made from the
// snapshot checked last (removing objects from a sorted list keeps it
// sorted, and an added object in order with its neighbours keeps the
// whole in order), every object otherwise.
func (s *Store) searchable(snap *inventory.Snapshot) bool {
	if s.order.snap == snap {
		return s.order.sorted
	}
	objs := snap.Objects
	sorted := true
	if s.order.snap != nil && sameObjects(objs, s.order.snap.Objects) {
		sorted = s.order.sorted
	} else if c := snap.ChangeFrom(s.order.snap); c != nil {
		// One out of order stays so along changes (the index answers)
		// until a full scan is checked again.
		sorted = s.order.sorted
		for _, a := range c.Added {
			if !sorted {
				break
			}
			sorted = inOrder(objs, int(a)) && inOrder(objs, int(a)+1)
		}
	} else {
		for i := range objs {
			if !inOrder(objs, i) {
				sorted = false
				break
			}
		}
	}
	s.order = dnOrder{snap: snap, sorted: sorted}
	return sorted
}

// inOrder reports whether objs[i] has an ASCII DN not below objs[i-1]'s
// (true past the ends, and for the first object when its DN is ASCII).
func inOrder(objs []*inventory.Object, i int) bool {
	if i >= len(objs) {
		return true
	}
	if !isASCII(objs[i].DN) {
		return false
	}
	return i == 0 || inventory.CompareFold(objs[i-1].DN, objs[i].DN) <= 0
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// searchSAM is samIndex.lookup by binary search of objects sorted by
// CompareFold(DN), all with ASCII DNs.
func searchSAM(objs []*inventory.Object, dn string) string {
	if !isASCII(dn) {
		// Only an ASCII DN can equal an ASCII one in lower case (K, the
		// Kelvin sign, is k in lower case).
		dn = strings.ToLower(dn)
		if !isASCII(dn) {
			return ""
		}
	}
	i := sort.Search(len(objs), func(i int) bool { return inventory.CompareFold(objs[i].DN, dn) >= 0 })
	sam := ""
	for ; i < len(objs) && inventory.CompareFold(objs[i].DN, dn) == 0; i++ {
		sam = objs[i].SAMAccountName // the last one's
	}
	return sam
}
