package audit

import (
	"cmp"
	"math/bits"
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

// radixSortByHash sorts entries by hash, stably: entries with equal hashes
// keep their insertion order.
func radixSortByHash(entries []hashedRef) {
	if sorted := sortedByHash(entries); len(entries) > insertionSortMax {
		copy(entries, sorted) // a new array
	}
}

// sortedByHash returns entries sorted by hash, stably: up to
// insertionSortMax entries in place, more in a new array (entries is left
// as it was), so that a caller that can take either saves a copy of every
// entry.
//
// Two radix passes on the top bits of the hash (up to 16 in all; about 16
// entries a bucket) put every entry in its bucket, then each bucket, small
// since the hashes are uniform, is insertion-sorted on the whole hash. The
// first pass scatters to at most 256 places, so its writes stream (a
// 65,536-way scatter missed the TLB on nearly every write); the second
// sorts each first-pass bucket, which fits in the cache, on the next bits.
// Four 16-bit LSD passes before cost three times as much (issue 9).
func sortedByHash(entries []hashedRef) []hashedRef {
	n := len(entries)
	if n <= insertionSortMax {
		insertionSortByHash(entries)
		return entries
	}
	digit := min(16, max(1, bits.Len(uint(n))-4))
	digit1 := min(8, digit)
	shift := 64 - uint(digit1)
	buckets := 1 << digit1
	// Each pass is shared by the cores (issue 9): every worker counts the
	// digits of its own segment, then scatters it to the places the counts
	// of the segments before it leave, so the scatter stays stable; then
	// each worker sorts a run of buckets.
	workers := 1
	if n >= parallelSortMin {
		workers = min(runtime.GOMAXPROCS(0), 8)
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
	src, dst := entries, make([]hashedRef, n)
	segment := func(w int) []hashedRef { return src[n*w/workers : n*(w+1)/workers] }
	counts := make([][]int, workers)
	each(func(w int) {
		c := make([]int, buckets)
		for _, e := range segment(w) {
			c[e.hash>>shift]++
		}
		counts[w] = c
	})
	// starts[d] is where bucket d begins in dst.
	starts := make([]int, buckets+1)
	pos := 0
	for d := range buckets {
		starts[d] = pos
		for w := range workers {
			c := counts[w][d]
			counts[w][d] = pos
			pos += c
		}
	}
	starts[buckets] = n
	each(func(w int) {
		c := counts[w]
		for _, e := range segment(w) {
			d := e.hash >> shift
			dst[c[d]] = e
			c[d]++
		}
	})
	each(func(w int) {
		// Worker w sorts the buckets that start in its share of dst.
		from, to := n*w/workers, n*(w+1)/workers
		d, _ := slices.BinarySearch(starts[:buckets], from)
		var scratch []hashedRef
		var sub []int
		if digit > digit1 {
			sub = make([]int, 1<<(digit-digit1))
		}
		for ; d < buckets && starts[d] < to; d++ {
			scratch = sortBucket(dst[starts[d]:starts[d+1]], shift-uint(digit-digit1), sub, scratch)
		}
	})
	return dst
}

// sortBucket sorts, stably by hash, a bucket whose hashes agree above
// shift+log2(len(counts)) bits: one pass on the len(counts) values of the
// bits from shift (none when counts is empty), then insertion sorts. It
// returns scratch, grown to the bucket's size when it was smaller.
func sortBucket(b []hashedRef, shift uint, counts []int, scratch []hashedRef) []hashedRef {
	switch {
	case len(b) <= insertionSortMax:
		insertionSortByHash(b)
		return scratch
	case len(counts) == 0 || len(b) > 1<<16:
		// A bucket this large means clustered hashes, not uniform ones.
		sortStableByHash(b)
		return scratch
	}
	scratch = append(scratch[:0], b...)
	mask := uint64(len(counts) - 1)
	clear(counts)
	for _, e := range scratch {
		counts[e.hash>>shift&mask]++
	}
	pos := 0
	for d, c := range counts {
		counts[d] = pos
		pos += c
	}
	for _, e := range scratch {
		d := e.hash >> shift & mask
		b[counts[d]] = e
		counts[d]++
	}
	// counts[d] is now where sub-bucket d ends.
	start := 0
	for _, end := range counts {
		if sb := b[start:end]; len(sb) > insertionSortMax {
			sortStableByHash(sb)
		} else {
			insertionSortByHash(sb)
		}
		start = end
	}
	return scratch
}

// insertionSortMax is the size up to which a bucket is insertion-sorted;
// a larger one (many equal or clustered hashes) is sorted by merging.
const insertionSortMax = 64

// insertionSortByHash sorts a few entries by hash, stably.
func insertionSortByHash(b []hashedRef) {
	for i := 1; i < len(b); i++ {
		e := b[i]
		j := i
		for ; j > 0 && b[j-1].hash > e.hash; j-- {
			b[j] = b[j-1]
		}
		b[j] = e
	}
}

// sortStableByHash sorts entries by hash, stably, whatever their number.
func sortStableByHash(b []hashedRef) {
	slices.SortStableFunc(b, func(x, y hashedRef) int { return cmp.Compare(x.hash, y.hash) })
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
