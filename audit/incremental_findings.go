package audit

import (
	"slices"

	"github.com/spnaudit/spnaudit/inventory"
)

// findingIndex maps the folded hash of every DN a finding names (its
// Accounts) to the finding's position in a result's list, so that the
// incremental audit finds the findings a change replaces (hood.touches)
// by looking up the neighbourhood's DNs instead of testing every finding
// of the directory (50,000 at the daemon bench's 100,000 objects: 2.7 ms a
// poll). Like neighbourIndex it is built with the full audit and follows
// the results' changes as steps and layers (a ResultChange's lists and the
// added findings' keys), composed past maxSteps and rebuilt once the
// changes are a sizeable share of it. Immutable.
type findingIndex struct {
	base    keyRefs // positions in the base list
	baseLen int
	steps   []posStep
	layers  []keyRefs // layers[i]: positions after steps[i]
	delta   int
}

// findingKeys files the findings at positions (every one when nil).
func findingKeys[T any](list []T, finding func(*T) *Finding, positions []int32) keyRefs {
	n := len(list)
	if positions != nil {
		n = len(positions)
	}
	entries := make([]hashedRef, 0, n+n/2)
	for i := range n {
		p := int32(i)
		if positions != nil {
			p = positions[i]
		}
		for _, a := range finding(&list[p]).Accounts {
			entries = append(entries, hashedRef{hash: foldHash(a), ref: spnRef{obj: p}})
		}
	}
	return packKeys(entries)
}

func newFindingIndex[T any](list []T, finding func(*T) *Finding) *findingIndex {
	return &findingIndex{base: findingKeys(list, finding, nil), baseLen: len(list)}
}

func (x *findingIndex) current(gen int, p int32) int32 {
	for _, s := range x.steps[gen:] {
		if p = inventory.KeptPosition(p, s.removed, s.added); p < 0 {
			return -1
		}
	}
	return p
}

// each calls fn with the current position of every finding that names a
// DN whose folded hash is k (a finding may come more than once).
func (x *findingIndex) each(k uint64, fn func(int32)) {
	for _, e := range x.base.run(k) {
		if p := x.current(0, e.pos()); p >= 0 {
			fn(p)
		}
	}
	for i, l := range x.layers {
		for _, e := range l.run(k) {
			if p := x.current(i+1, e.pos()); p >= 0 {
				fn(p)
			}
		}
	}
}

// touchedIn returns the positions, ascending, of the findings in list the
// neighbourhood replaces: those naming one of its DNs.
func touchedIn[T any](x *findingIndex, h *hood, list []T, finding func(*T) *Finding) []int32 {
	var out []int32
	for k := range h.dns {
		x.each(k, func(p int32) {
			if h.touches(finding(&list[p])) {
				out = append(out, p)
			}
		})
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// updateFindingIndex returns x after a result change: removed positions
// of the list before, added positions in list (the result's).
func updateFindingIndex[T any](x *findingIndex, removed, added []int32, list []T, finding func(*T) *Finding) *findingIndex {
	if len(removed) == 0 && len(added) == 0 {
		return x
	}
	out := *x
	out.steps = append(slices.Clip(x.steps), posStep{removed: removed, added: added})
	layer := findingKeys(list, finding, added)
	out.layers = append(slices.Clip(x.layers), layer)
	out.delta += len(layer) + len(removed)
	switch {
	case out.delta > len(x.base)/8+rebuildMin:
		return newFindingIndex(list, finding) // O(the findings), once in many polls
	case len(out.steps) > maxSteps:
		return out.compact()
	}
	return &out
}

func (x *findingIndex) compact() *findingIndex {
	step := x.steps[0]
	for _, s := range x.steps[1:] {
		step = composeSteps(step, s)
	}
	var keys keyRefs
	for i, l := range x.layers {
		for _, e := range l {
			if p := x.current(i+1, e.pos()); p >= 0 {
				keys = append(keys, e.at(p))
			}
		}
	}
	sortKeys(keys)
	return &findingIndex{base: x.base, baseLen: x.baseLen, steps: []posStep{step}, layers: []keyRefs{keys},
		delta: len(keys) + len(step.removed)}
}
