package metrics

import (
	"hash/maphash"
	"maps"
	"sync"
)

// nameTable is a view's account names (accountNames: DN → the name an
// admin types) as an index (nameIndex) shared with the views before it and
// the DNs that changed since: a poll whose findings name a new account, or no longer
// name one, used to copy the whole map (issue 9: 2.6 MB and ~3 ms at
// 50,000 names, for any k). Views never modify a table: an update makes a
// new one.
type nameTable struct {
	// base is immutable and shared.
	base *nameIndex
	// over are the DNs that entered, were renamed or left (gone) since
	// base; never more than overLimit(len(base.pairs)) of them, so an update
	// copies a few of them, and compacts them into a new base once in a
	// while (amortised: a change costs O(1)).
	over map[string]nameEntry

	// all is base with over applied, made once when someone reads every
	// name (Status: the web pages), not on the publishing path.
	once sync.Once
	all  map[string]string
}

type nameEntry struct {
	name string
	gone bool
}

func newNameTable(names map[string]string) *nameTable {
	pairs := make([]namePair, 0, len(names))
	for dn, name := range names {
		pairs = append(pairs, namePair{dn, name})
	}
	return &nameTable{base: newNameIndex(pairs)}
}

// overLimit is how many changed DNs a table over base names keeps beside
// it: copying them costs each update at most 1/32 of a compaction, which
// costs a copy of base every len(base)/32 changes.
func overLimit(base int) int { return base/32 + 64 }

// get returns dn's name and whether findings name dn.
func (t *nameTable) get(dn string) (string, bool) {
	if e, ok := t.over[dn]; ok {
		return e.name, !e.gone
	}
	return t.base.get(dn)
}

// names returns every name, as accountNames gives them. The map is shared:
// callers must not modify it.
func (t *nameTable) names() map[string]string {
	t.once.Do(func() {
		t.all = make(map[string]string, len(t.base.pairs)+len(t.over))
		for _, p := range t.base.pairs {
			t.all[p.dn] = p.name
		}
		for dn, e := range t.over {
			if e.gone {
				delete(t.all, dn)
			} else {
				t.all[dn] = e.name
			}
		}
	})
	return t.all
}

// with returns the table of t with the DNs entering (new, or renamed) and
// leaving; t when none does.
func (t *nameTable) with(entering map[string]string, leaving []string) *nameTable {
	if len(entering) == 0 && len(leaving) == 0 {
		return t
	}
	limit := overLimit(len(t.base.pairs))
	if len(t.over)+len(entering) > limit {
		return t.compacted(entering, leaving)
	}
	over := make(map[string]nameEntry, len(t.over)+len(entering)+len(leaving))
	maps.Copy(over, t.over)
	for dn, name := range entering {
		over[dn] = nameEntry{name: name}
	}
	for _, dn := range leaving {
		if _, inBase := t.base.get(dn); inBase {
			over[dn] = nameEntry{gone: true}
		} else {
			delete(over, dn) // entered since base: nothing to hide
		}
	}
	if len(over) > limit {
		return t.compacted(entering, leaving)
	}
	return &nameTable{base: t.base, over: over}
}

// compacted is with's table as one new base.
func (t *nameTable) compacted(entering map[string]string, leaving []string) *nameTable {
	// changed are the DNs whose name is not base's: over's, with
	// entering's and leaving's.
	changed := make(map[string]nameEntry, len(t.over)+len(entering)+len(leaving))
	maps.Copy(changed, t.over)
	for dn, name := range entering {
		changed[dn] = nameEntry{name: name}
	}
	for _, dn := range leaving {
		changed[dn] = nameEntry{gone: true}
	}
	pairs := make([]namePair, 0, len(t.base.pairs)+len(changed))
	for _, p := range t.base.pairs {
		if _, ok := changed[p.dn]; !ok {
			pairs = append(pairs, p)
		}
	}
	for dn, e := range changed {
		if !e.gone {
			pairs = append(pairs, namePair{dn, e.name})
		}
	}
	return &nameTable{base: newNameIndex(pairs)}
}

// nameIndex is an immutable map of DNs to names: the pairs in one array,
// found through an open-addressing table of their places. A map of them
// cost 52 bytes a DN (issue 9: 2.6 MB at 50,000 DNs), this 38 (the pairs'
// 32 and a third of the table's room).
type nameIndex struct {
	seed  maphash.Seed
	pairs []namePair
	// slots holds 1 + the place in pairs of the DN hashed to it or, when
	// that slot was taken, to one of the slots before; 0 when free. One
	// slot in three at least is free, so a search ends soon.
	slots []uint32
}

type namePair struct{ dn, name string }

// newNameIndex indexes pairs, whose DNs differ; it keeps the slice.
func newNameIndex(pairs []namePair) *nameIndex {
	x := &nameIndex{seed: maphash.MakeSeed(), pairs: pairs, slots: make([]uint32, len(pairs)+len(pairs)/2+1)}
	for i := range pairs {
		at := x.slotOf(pairs[i].dn)
		for x.slots[at] != 0 {
			at = x.next(at)
		}
		x.slots[at] = uint32(i) + 1
	}
	return x
}

// slotOf is the slot dn hashes to.
func (x *nameIndex) slotOf(dn string) int {
	// The hash's upper 32 bits scaled to the table (Lemire's reduction).
	return int(((maphash.String(x.seed, dn) >> 32) * uint64(len(x.slots))) >> 32)
}

func (x *nameIndex) next(at int) int {
	if at++; at == len(x.slots) {
		return 0
	}
	return at
}

// get returns dn's name and whether x holds dn.
func (x *nameIndex) get(dn string) (string, bool) {
	for at := x.slotOf(dn); x.slots[at] != 0; at = x.next(at) {
		if p := &x.pairs[x.slots[at]-1]; p.dn == dn {
			return p.name, true
		}
	}
	return "", false
}
