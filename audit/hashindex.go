package audit

import (
	"slices"
	"strings"
)

// The large lookups (every SPN, every computer name, every DNS record name)
// are arrays of (hash of the case-folded string, reference), radix-sorted by
// hash, rather than hash maps: they cost 16 bytes an entry and a few
// streaming passes to build, where maps cost several times the memory and a
// cache miss per insertion. Equal hashes are always confirmed with
// strings.EqualFold, so a collision between different strings is harmless.

// hashedRef pairs the hash of a folded string with what it refers to.
type hashedRef struct {
	hash uint64
	ref  spnRef
}

// radixSortByHash is a stable LSD radix sort on the 64-bit hash, 16 bits per
// pass, so entries with equal hashes keep their insertion order.
func radixSortByHash(entries []hashedRef) {
	tmp := make([]hashedRef, len(entries))
	src, dst := entries, tmp
	counts := make([]int, 1<<16)
	for shift := uint(0); shift < 64; shift += 16 {
		clear(counts)
		for _, e := range src {
			counts[uint16(e.hash>>shift)]++
		}
		pos := 0
		for d, c := range counts {
			counts[d] = pos
			pos += c
		}
		for _, e := range src {
			d := uint16(e.hash >> shift)
			dst[counts[d]] = e
			counts[d]++
		}
		src, dst = dst, src
	}
	// An even number of passes leaves the result in entries.
}

// hashRun returns the entries whose hash is h.
func hashRun(entries []hashedRef, h uint64) []hashedRef {
	lo, _ := slices.BinarySearchFunc(entries, h, func(e hashedRef, h uint64) int {
		switch {
		case e.hash < h:
			return -1
		case e.hash > h:
			return 1
		}
		return 0
	})
	hi := lo
	for hi < len(entries) && entries[hi].hash == h {
		hi++
	}
	return entries[lo:hi]
}

// nameIndex finds the values stored under a name, case-insensitively.
type nameIndex struct {
	entries []hashedRef // ref.obj is the position of the name in names
	names   []string
}

// newNameIndex indexes DNS names; a trailing root dot is ignored.
func newNameIndex(names []string) nameIndex {
	x := nameIndex{entries: make([]hashedRef, len(names)), names: names}
	for i, n := range names {
		x.entries[i] = hashedRef{hash: foldHash(strings.TrimSuffix(n, ".")), ref: spnRef{obj: int32(i)}}
	}
	radixSortByHash(x.entries)
	return x
}

// contains reports whether name is in the index.
func (x nameIndex) contains(name string) bool {
	for _, e := range hashRun(x.entries, foldHash(name)) {
		if strings.EqualFold(strings.TrimSuffix(x.names[e.ref.obj], "."), name) {
			return true
		}
	}
	return false
}

// containsQualified reports whether label.domain is in the index, without
// building the string.
func (x nameIndex) containsQualified(label, domain string) bool {
	h := foldHashMore(foldHashMore(foldHash(label), "."), domain)
	for _, e := range hashRun(x.entries, h) {
		n := strings.TrimSuffix(x.names[e.ref.obj], ".")
		if len(n) == len(label)+1+len(domain) && n[len(label)] == '.' &&
			strings.EqualFold(n[:len(label)], label) && strings.EqualFold(n[len(label)+1:], domain) {
			return true
		}
	}
	return false
}
