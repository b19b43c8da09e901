package audit

import (
	"strings"

	"github.com/spnaudit/spnaudit/inventory"
)

// spnRef points at one SPN value: Objects[obj].SPNs[spn].
type spnRef struct{ obj, spn int32 }

// spnTable maps every SPN, compared as AD does (case-insensitive whole value),
// to the objects holding it. It is keyed by a 64-bit hash of the folded value
// so that a million SPNs cost no key strings; values whose hash collides with
// a different value go to a small string-keyed spill map.
type spnTable struct {
	objs  []inventory.Object
	hash  func(string) uint64
	first map[uint64]spnRef
	// more holds, for SPNs with two or more distinct holders, every holder
	// (the first one included) in insertion order.
	more  map[uint64][]spnRef
	spill map[string][]spnRef
}

func newSPNTable(objs []inventory.Object, size int, hash func(string) uint64) *spnTable {
	t := &spnTable{
		objs:  objs,
		hash:  hash,
		first: make(map[uint64]spnRef, size),
		more:  make(map[uint64][]spnRef),
	}
	for i := range objs {
		for j := range objs[i].SPNs {
			t.add(spnRef{obj: int32(i), spn: int32(j)})
		}
	}
	return t
}

func (t *spnTable) raw(r spnRef) string { return t.objs[r.obj].SPNs[r.spn] }

// add records one holder. Objects are added in order, so the only holder of
// the same value that can be the same object is the last one recorded: a
// value repeated on one account (in any case) is never a second holder.
func (t *spnTable) add(r spnRef) {
	raw := t.raw(r)
	h := t.hash(raw)
	first, ok := t.first[h]
	switch {
	case !ok:
		t.first[h] = r
	case !strings.EqualFold(t.raw(first), raw):
		t.addSpill(r, raw)
	default:
		group, multi := t.more[h]
		last := first
		if multi {
			last = group[len(group)-1]
		}
		if last.obj == r.obj {
			return
		}
		if !multi {
			group = []spnRef{first}
		}
		t.more[h] = append(group, r)
	}
}

func (t *spnTable) addSpill(r spnRef, raw string) {
	if t.spill == nil {
		t.spill = make(map[string][]spnRef)
	}
	key := foldKey(raw)
	group := t.spill[key]
	if n := len(group); n > 0 && group[n-1].obj == r.obj {
		return
	}
	t.spill[key] = append(group, r)
}

// holders returns the distinct objects holding raw (nil when none). The
// result must not be modified.
func (t *spnTable) holders(raw string) []spnRef {
	h := t.hash(raw)
	first, ok := t.first[h]
	if !ok {
		return nil
	}
	if strings.EqualFold(t.raw(first), raw) {
		if group, multi := t.more[h]; multi {
			return group
		}
		return []spnRef{first}
	}
	return t.spill[foldKey(raw)]
}

// eachShared calls fn for every SPN held by two or more distinct objects.
func (t *spnTable) eachShared(fn func(holders []spnRef)) {
	for _, group := range t.more {
		fn(group)
	}
	for _, group := range t.spill {
		if len(group) > 1 {
			fn(group)
		}
	}
}
