package audit

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestRadixSortByHashIsStableSort: whatever the hashes (uniform, clustered
// in the top bits the first pass buckets by, few and repeated) and the
// size (one bucket, the insertion sort alone, one core, every core), the
// result is the stable sort by hash.
func TestRadixSortByHashIsStableSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	shapes := map[string]func() uint64{
		"uniform":      rng.Uint64,
		"top-clusters": func() uint64 { return rng.Uint64N(4)<<62 | rng.Uint64N(1<<20) },
		"low-only":     func() uint64 { return rng.Uint64N(1 << 16) },
		"few":          func() uint64 { return rng.Uint64N(8) * 0x9E3779B97F4A7C15 },
		"top-repeats":  func() uint64 { return rng.Uint64N(1<<10) << 54 },
	}
	for name, hash := range shapes {
		for _, n := range []int{0, 1, 2, insertionSortMax, insertionSortMax + 1, 5000, parallelSortMin + 3, 4*parallelSortMin + 1} {
			entries := make([]hashedRef, n)
			for i := range entries {
				entries[i] = hashedRef{hash: hash(), ref: spnRef{obj: int32(i)}}
			}
			want := slices.Clone(entries)
			sortStableByHash(want)
			if got := sortedByHash(slices.Clone(entries)); !slices.Equal(got, want) {
				t.Errorf("%s, %d entries: sortedByHash is not the stable sort by hash", name, n)
			}
			radixSortByHash(entries)
			if !slices.Equal(entries, want) {
				t.Errorf("%s, %d entries: radixSortByHash is not the stable sort by hash", name, n)
			}
		}
	}
}
