package audit

import "slices"

// keyRef is one entry of the incremental audit's indexes (neighbourIndex,
// findingIndex), which the daemon holds between polls: the top 32 bits of
// a key's hash (its tag) above a position, in one uint64. A hashedRef
// costs 16 bytes (its spn half unused there); this costs 8, which is 3.6 MB
// less at 450,000 keys (100,000 objects, issue 9). The indexes' keys are
// hashes already and a collision only widens a lookup (incremental_keys.go,
// hood.touches): 32 bits of them make one in four billion.
type keyRef uint64

const posMask = 1<<32 - 1

func newKeyRef(hash uint64, pos int32) keyRef { return keyRef(hash&^posMask | uint64(uint32(pos))) }

// pos is the position the entry refers to.
func (e keyRef) pos() int32 { return int32(uint32(e)) }

// at returns the entry with its key, at position pos.
func (e keyRef) at(pos int32) keyRef { return keyRef(uint64(e)&^posMask | uint64(uint32(pos))) }

// keyRefs is a list of entries sorted by tag (within a tag, in any order).
type keyRefs []keyRef

// smallKeys is the size up to which keys are sorted as packed uint64s
// (slices.Sort); larger sets are radix-sorted as hashedRefs and packed.
const smallKeys = 4096

// packKeys returns entries, which it may reorder, as keyRefs sorted by tag.
func packKeys(entries []hashedRef) keyRefs {
	if len(entries) <= smallKeys {
		out := make(keyRefs, len(entries))
		for i, e := range entries {
			out[i] = newKeyRef(e.hash, e.ref.obj)
		}
		slices.Sort(out)
		return out
	}
	sorted := sortedByHash(entries)
	out := make(keyRefs, len(sorted))
	for i, e := range sorted {
		out[i] = newKeyRef(e.hash, e.ref.obj)
	}
	return out
}

// sortKeys sorts refs by tag (and position), in place.
func sortKeys(refs keyRefs) {
	if len(refs) <= smallKeys {
		slices.Sort(refs)
		return
	}
	entries := make([]hashedRef, len(refs))
	for i, e := range refs {
		entries[i] = hashedRef{hash: uint64(e), ref: spnRef{obj: e.pos()}}
	}
	for i, e := range sortedByHash(entries) {
		refs[i] = newKeyRef(e.hash, e.ref.obj)
	}
}

// run returns the entries whose tag is the hash's.
func (r keyRefs) run(hash uint64) keyRefs {
	first := keyRef(hash &^ posMask)
	lo, _ := slices.BinarySearch(r, first)
	hi := lo
	for hi < len(r) && r[hi]&^posMask == first {
		hi++
	}
	return r[lo:hi]
}

// mergeKeys merges b into a, both sorted by tag.
func mergeKeys(a, b keyRefs) keyRefs {
	if len(b) == 0 {
		return a
	}
	out := make(keyRefs, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if b[j]&^posMask < a[i]&^posMask {
			out = append(out, b[j])
			j++
		} else {
			out = append(out, a[i])
			i++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}
