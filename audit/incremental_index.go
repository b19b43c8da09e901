package audit

import (
	"slices"

	"github.com/spnaudit/spnaudit/inventory"
)

// neighbourIndex maps every key (incremental_keys.go) to the objects that
// have it, and holds the password times of the accounts whose finding
// states an age (ageLayer). It is built once, with the full audit (base),
// and then follows the polls without being rebuilt or remapped: a poll
// appends its step (how positions moved: a Change's lists) and a small
// layer of the objects it added or changed, whose positions are its
// snapshot's. A position is carried to the current snapshot through the
// steps after it, O(log k) each, when it is read, so that a poll's cost is
// the change's, not the directory's. Past maxSteps steps they are composed
// into one and the layers merged (O(the changes since the base)); once the
// changes since the base are a sizeable share of it, the base itself is
// rebuilt (O(n), once in many polls). Immutable: an update returns a new
// index sharing the old one's arrays.
type neighbourIndex struct {
	base        indexLayer // positions in the base snapshot (generation 0)
	baseObjects int        // the base snapshot's objects
	// steps[i] moves generation i's positions to generation i+1;
	// layers[i] holds the objects steps[i] added, at generation i+1.
	steps  []posStep
	layers []indexLayer
	delta  int // key entries in layers, and removed positions in steps
}

// indexLayer is the keys and password times of some objects.
type indexLayer struct {
	keys keyRefs // positions at the layer's generation
	ages ageLayer
}

// posStep is how a change moved positions: ascending positions removed
// from the list before and added in the list after (inventory.Change).
type posStep struct{ removed, added []int32 }

// maxSteps is how many steps a position may go through before they are
// composed into one.
const maxSteps = 8

// rebuildMin is the least delta worth rebuilding the base for; a variable
// for the tests, which rebuild small indexes too.
var rebuildMin = 4096

func newNeighbourIndex(objs []*inventory.Object) *neighbourIndex {
	return &neighbourIndex{base: newLayer(objs, nil), baseObjects: len(objs)}
}

// newLayer files the objects at positions (every object when nil).
func newLayer(objs []*inventory.Object, positions []int32) indexLayer {
	n := len(objs)
	if positions != nil {
		n = len(positions)
	}
	// About three keys an object (DN, SID, a host) and one an SPN: sized
	// so for the base, the array is not grown again and again (the base of
	// 100,000 objects allocated 76 MB with the copies, 52 MB so, and took a
	// quarter less CPU).
	size := 3 * n
	if positions == nil {
		for _, o := range objs {
			size += len(o.SPNs)
		}
	}
	var keys []uint64
	entries := make([]hashedRef, 0, size)
	var ages []ageRef
	for i := range n {
		p := int32(i)
		if positions != nil {
			p = positions[i]
		}
		o := objs[p]
		keys = uniqueKeys(o, keys)
		for _, k := range keys {
			entries = append(entries, hashedRef{hash: k, ref: spnRef{obj: p}})
		}
		if statesAge(o) {
			ages = append(ages, newAgeRef(o, p))
		}
	}
	return indexLayer{keys: packKeys(entries), ages: newAgeLayer(ages)}
}

// current carries a position of generation gen to the current snapshot,
// -1 once its object is gone or changed.
func (x *neighbourIndex) current(gen int, p int32) int32 {
	for _, s := range x.steps[gen:] {
		if p = inventory.KeptPosition(p, s.removed, s.added); p < 0 {
			return -1
		}
	}
	return p
}

// each calls fn with the current position of every object that has key k
// (an object may come more than once).
func (x *neighbourIndex) each(k uint64, fn func(pos int32)) {
	for _, e := range x.base.keys.run(k) {
		if p := x.current(0, e.pos()); p >= 0 {
			fn(p)
		}
	}
	for i := range x.layers {
		for _, e := range x.layers[i].keys.run(k) {
			if p := x.current(i+1, e.pos()); p >= 0 {
				fn(p)
			}
		}
	}
}

// update returns the index of the objects after a change: removed lists
// the previous positions of the objects removed or changed, added the new
// positions of those added or changed (both ascending, as in an
// inventory.Change).
func (x *neighbourIndex) update(removed, added []int32, objs []*inventory.Object) *neighbourIndex {
	out := *x
	out.steps = append(slices.Clip(x.steps), posStep{removed: removed, added: added})
	layer := newLayer(objs, added)
	out.layers = append(slices.Clip(x.layers), layer)
	out.delta += len(layer.keys) + len(removed)
	switch {
	case out.delta > len(x.base.keys)/8+rebuildMin:
		return out.rebuild(len(objs))
	case len(out.steps) > maxSteps:
		return out.compact()
	}
	return &out
}

// compact composes the steps into one and merges the layers into one at
// the current generation: O(the changes since the base).
func (x *neighbourIndex) compact() *neighbourIndex {
	step := x.steps[0]
	for _, s := range x.steps[1:] {
		step = composeSteps(step, s)
	}
	var keys keyRefs
	var ages []ageRef
	for i := range x.layers {
		for _, e := range x.layers[i].keys {
			if p := x.current(i+1, e.pos()); p >= 0 {
				keys = append(keys, e.at(p))
			}
		}
		for _, a := range x.layers[i].ages.byTime {
			if p := x.current(i+1, a.obj); p >= 0 {
				a.obj = p
				ages = append(ages, a)
			}
		}
	}
	sortKeys(keys)
	out := &neighbourIndex{base: x.base, baseObjects: x.baseObjects, steps: []posStep{step},
		layers: []indexLayer{{keys: keys, ages: newAgeLayer(ages)}}}
	out.delta = len(keys) + len(step.removed)
	return out
}

// rebuild makes the current generation the base: the base's entries moved
// to their current positions (a table of n positions, as one walk of the
// composed step), without the objects gone, merged with the layers'.
func (x *neighbourIndex) rebuild(objects int) *neighbourIndex {
	c := x.compact()
	step, layer := c.steps[0], c.layers[0]
	baseTo := make([]int32, x.baseObjects)
	r, a, p := 0, 0, int32(0) // next removed, next added, next current position
	for i := range baseTo {
		if r < len(step.removed) && step.removed[r] == int32(i) {
			baseTo[i] = -1
			r++
			continue
		}
		for a < len(step.added) && step.added[a] == p {
			a, p = a+1, p+1
		}
		baseTo[i] = p
		p++
	}
	keys := make(keyRefs, 0, len(x.base.keys)+len(layer.keys))
	for _, e := range x.base.keys {
		if p := baseTo[e.pos()]; p >= 0 {
			keys = append(keys, e.at(p))
		}
	}
	keys = mergeKeys(keys, layer.keys)
	ages := make([]ageRef, 0, len(x.base.ages.byTime)+len(layer.ages.byTime))
	for _, e := range x.base.ages.byTime {
		if p := baseTo[e.obj]; p >= 0 {
			e.obj = p
			ages = append(ages, e)
		}
	}
	ages = append(ages, layer.ages.byTime...)
	return &neighbourIndex{base: indexLayer{keys: keys, ages: newAgeLayer(ages)}, baseObjects: objects}
}

// composeSteps returns the step from s1's list before to s2's list after:
// removed, s1's and the positions before s1 of the objects s1 kept that s2
// removed; added, s2's and the positions after s2 of the objects s1 added
// that s2 kept.
func composeSteps(s1, s2 posStep) posStep {
	var removed, added []int32
	for _, b := range s2.removed {
		if a := inventory.KeptPosition(b, s1.added, s1.removed); a >= 0 {
			removed = append(removed, a)
		}
	}
	for _, b := range s1.added {
		if c := inventory.KeptPosition(b, s2.removed, s2.added); c >= 0 {
			added = append(added, c)
		}
	}
	return posStep{removed: inventory.MergePositions(s1.removed, removed), added: inventory.MergePositions(s2.added, added)}
}

// uniqueKeys returns o's keys, each once (a computer's four SPNs name one
// host), in buf.
func uniqueKeys(o *inventory.Object, buf []uint64) []uint64 {
	buf, _ = objectKeys(o, buf[:0], nil)
	slices.Sort(buf)
	return slices.Compact(buf)
}
