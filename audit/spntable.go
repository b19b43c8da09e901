package audit

import (
	"runtime"
	"sync"

	"github.com/spnaudit/spnaudit/inventory"
)

// spnRef points at one SPN value: Objects[obj].SPNs[spn].
type spnRef struct{ obj, spn int32 }

// spnTable finds the holders of every SPN, compared as Windows does
// (looseEqual: whole value, ignoring case, diacritics, kana type and width),
// from the hashes of their loose keys.
type spnTable struct {
	objs    []*inventory.Object
	hash    func(string) uint64
	entries []hashedRef // sorted by hash; equal hashes stay in object order
}

// newSPNTable indexes every SPN of objs, calling visit (when not nil) for
// each one on the way so that other per-SPN work shares the pass. The pass
// is shared by the cores (issue 9): visit is called concurrently, for
// different objects, and must only write what belongs to its SPN. size is
// the number of SPNs, or 0 to count them.
func newSPNTable(objs []*inventory.Object, size int, hash func(string) uint64, visit func(obj, spn int, raw string)) *spnTable {
	if size <= 0 {
		for i := range objs {
			size += len(objs[i].SPNs)
		}
	}
	t := &spnTable{objs: objs, hash: hash, entries: make([]hashedRef, size)}
	fill := func(from, to, at int) {
		for i := from; i < to; i++ {
			for j, raw := range objs[i].SPNs {
				t.entries[at] = hashedRef{hash: hash(raw), ref: spnRef{obj: int32(i), spn: int32(j)}}
				at++
				if visit != nil {
					visit(i, j, raw)
				}
			}
		}
	}
	workers := 1
	if size >= parallelSortMin {
		workers = min(runtime.GOMAXPROCS(0), 8)
	}
	if workers == 1 {
		fill(0, len(objs), 0)
	} else {
		// Cut the objects where each worker gets about as many SPNs; a
		// worker's SPNs start where the ones before it end.
		var wg sync.WaitGroup
		from, at := 0, 0
		for w := range workers {
			to, end := from, at
			for to < len(objs) && (w == workers-1 || end < size*(w+1)/workers) {
				end += len(objs[to].SPNs)
				to++
			}
			start, startAt := from, at
			wg.Go(func() { fill(start, to, startAt) })
			from, at = to, end
		}
		wg.Wait()
	}
	t.entries = sortedByHash(t.entries)
	return t
}

func (t *spnTable) raw(r spnRef) string { return t.objs[r.obj].SPNs[r.spn] }

// holders returns the distinct objects holding raw, in object order (nil when
// none).
func (t *spnTable) holders(raw string) []spnRef {
	var out []spnRef
	for _, e := range hashRun(t.entries, t.hash(raw)) {
		if looseEqual(t.raw(e.ref), raw) && (len(out) == 0 || out[len(out)-1].obj != e.ref.obj) {
			out = append(out, e.ref)
		}
	}
	return out
}

// eachShared calls fn with the distinct holders of every SPN held by two or
// more objects. A value repeated on one account (in any case, or as a
// look-alike) counts once.
func (t *spnTable) eachShared(fn func(holders []spnRef)) {
	for start := 0; start < len(t.entries); {
		end := start + 1
		for end < len(t.entries) && t.entries[end].hash == t.entries[start].hash {
			end++
		}
		if end-start > 1 {
			t.sharedInRun(t.entries[start:end], fn)
		}
		start = end
	}
}

// sharedInRun splits a run of equal hashes into groups of equal values
// (almost always one) and reports those with two or more holders. Within a
// group, entries are in object order, so a repeated value on one object is
// adjacent to itself.
func (t *spnTable) sharedInRun(run []hashedRef, fn func(holders []spnRef)) {
	done := make([]bool, len(run))
	for i := range run {
		if done[i] {
			continue
		}
		first := t.raw(run[i].ref)
		group := []spnRef{run[i].ref}
		for j := i + 1; j < len(run); j++ {
			if done[j] || !looseEqual(t.raw(run[j].ref), first) {
				continue
			}
			done[j] = true
			if group[len(group)-1].obj != run[j].ref.obj {
				group = append(group, run[j].ref)
			}
		}
		if len(group) > 1 {
			fn(group)
		}
	}
}
