package audit

import (
	"runtime"
	"slices"
	"strings"
	"sync"
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
	// Each pass is shared by the cores (issue 9): every worker counts the
	// digits of its own segment, then scatters it to the places the counts
	// of the segments before it leave, so the sort stays stable.
	workers := 1
	if len(entries) >= parallelSortMin {
		workers = min(runtime.GOMAXPROCS(0), 8)
	}
	tmp := make([]hashedRef, len(entries))
	src, dst := entries, tmp
	counts := make([][]int, workers)
	for w := range counts {
		counts[w] = make([]int, 1<<16)
	}
	segment := func(w int) []hashedRef {
		return src[len(src)*w/workers : len(src)*(w+1)/workers]
	}
	each := func(fn func(w int)) {
		if workers == 1 {
			fn(0)
			return
		}
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() { fn(w) })
		}
		wg.Wait()
	}
	for shift := uint(0); shift < 64; shift += 16 {
		each(func(w int) {
			c := counts[w]
			clear(c)
			for _, e := range segment(w) {
				c[uint16(e.hash>>shift)]++
			}
		})
		pos := 0
		for d := range 1 << 16 {
			for w := range workers {
				c := counts[w][d]
				counts[w][d] = pos
				pos += c
			}
		}
		each(func(w int) {
			c := counts[w]
			for _, e := range segment(w) {
				d := uint16(e.hash >> shift)
				dst[c[d]] = e
				c[d]++
			}
		})
		src, dst = dst, src
	}
	// An even number of passes leaves the result in entries.
}

// parallelSortMin is the number of entries from which radixSortByHash
// shares its passes among the cores.
const parallelSortMin = 1 << 16

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
