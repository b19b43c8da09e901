package audit

import (
	"cmp"
	"slices"

	"github.com/spnaudit/spnaudit/inventory"
)

// neighbourIndex maps every key (incremental_keys.go) to the objects that
// have it. It is built once, with the full audit (base), and then follows
// the polls without being rebuilt: a poll remaps the base's positions
// (baseTo, an int per object) and files the objects it added or changed in
// a small delta, so that its cost is the change's, not the directory's.
// Immutable: an update returns a new index sharing the base.
type neighbourIndex struct {
	base   []hashedRef // ref.obj: position in the base snapshot; sorted by hash
	baseTo []int32     // base position -> current position, -1 once gone
	delta  []hashedRef // ref.obj: current position; sorted by hash
}

func newNeighbourIndex(objs []*inventory.Object) *neighbourIndex {
	var keys []uint64
	entries := make([]hashedRef, 0, 3*len(objs))
	for i := range objs {
		keys = uniqueKeys(objs[i], keys)
		for _, k := range keys {
			entries = append(entries, hashedRef{hash: k, ref: spnRef{obj: int32(i)}})
		}
	}
	radixSortByHash(entries)
	baseTo := make([]int32, len(objs))
	for i := range baseTo {
		baseTo[i] = int32(i)
	}
	return &neighbourIndex{base: entries, baseTo: baseTo}
}

// each calls fn with the current position of every object that has key k
// (an object may come more than once).
func (x *neighbourIndex) each(k uint64, fn func(pos int32)) {
	for _, e := range hashRun(x.base, k) {
		if p := x.baseTo[e.ref.obj]; p >= 0 {
			fn(p)
		}
	}
	for _, e := range hashRun(x.delta, k) {
		fn(e.ref.obj)
	}
}

// update returns the index of the objects after a change: oldToNew maps
// every previous position to the new one (-1: removed or changed), and
// added lists the new positions of the objects added or changed.
func (x *neighbourIndex) update(oldToNew []int32, objs []*inventory.Object, added []int32) *neighbourIndex {
	out := &neighbourIndex{base: x.base, baseTo: make([]int32, len(x.baseTo))}
	for i, p := range x.baseTo {
		if p >= 0 {
			p = oldToNew[p]
		}
		out.baseTo[i] = p
	}
	out.delta = make([]hashedRef, 0, len(x.delta)+4*len(added))
	for _, e := range x.delta {
		if p := oldToNew[e.ref.obj]; p >= 0 {
			out.delta = append(out.delta, hashedRef{hash: e.hash, ref: spnRef{obj: p}})
		}
	}
	var keys []uint64
	for _, p := range added {
		keys = uniqueKeys(objs[p], keys)
		for _, k := range keys {
			out.delta = append(out.delta, hashedRef{hash: k, ref: spnRef{obj: p}})
		}
	}
	sortSmall(out.delta)
	return out
}

// uniqueKeys returns o's keys, each once (a computer's four SPNs name one
// host), in buf.
func uniqueKeys(o *inventory.Object, buf []uint64) []uint64 {
	buf, _ = objectKeys(o, buf[:0], nil)
	slices.Sort(buf)
	return slices.Compact(buf)
}

// sortSmall sorts entries by hash: the radix sort's fixed cost (four
// passes over 65,536 counters) is for large sets.
func sortSmall(entries []hashedRef) {
	if len(entries) > 4096 {
		radixSortByHash(entries)
		return
	}
	slices.SortFunc(entries, func(a, b hashedRef) int { return cmp.Compare(a.hash, b.hash) })
}
