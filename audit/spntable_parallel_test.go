package audit

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

// TestRadixSortParallelIsStable: from parallelSortMin entries the passes are
// shared by the cores; the result is still sorted by hash with equal
// hashes in their order, as slices.SortStableFunc leaves them.
func TestRadixSortParallelIsStable(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 1000, parallelSortMin - 1, parallelSortMin, 3*parallelSortMin + 7} {
		entries := make([]hashedRef, n)
		for i := range entries {
			// Few distinct hashes, spread over every 16-bit digit, so runs
			// of equal hashes are long and stability shows.
			h := rng.Uint64N(512)
			entries[i] = hashedRef{hash: h<<55 | h<<37 | h<<19 | h, ref: spnRef{obj: int32(i)}}
		}
		want := slices.Clone(entries)
		slices.SortStableFunc(want, func(a, b hashedRef) int {
			switch {
			case a.hash < b.hash:
				return -1
			case a.hash > b.hash:
				return 1
			}
			return 0
		})
		radixSortByHash(entries)
		if !slices.Equal(entries, want) {
			t.Errorf("%d entries: not the stable sort", n)
		}
	}
}

// TestSPNTableParallelFill: with enough SPNs the table is filled by the
// cores, each a run of objects; every SPN is visited once, and the entries
// are those of one pass in object order.
func TestSPNTableParallelFill(t *testing.T) {
	var objs []inventory.Object
	total := 0
	for i := 0; total < 2*parallelSortMin+5; i++ {
		o := inventory.Object{DN: fmt.Sprint(i)}
		for j := range i % 7 { // some objects hold no SPN
			o.SPNs = append(o.SPNs, fmt.Sprintf("HTTP/h%d-%d", i%5000, j))
		}
		total += len(o.SPNs)
		objs = append(objs, o)
	}
	visits := make([][]int, len(objs))
	for i := range objs {
		visits[i] = make([]int, len(objs[i].SPNs))
	}
	tab := newSPNTable(inventory.Pointers(objs), 0, looseHash, func(obj, spn int, raw string) {
		if objs[obj].SPNs[spn] != raw {
			t.Errorf("visit(%d, %d, %q): not that SPN", obj, spn, raw)
		}
		visits[obj][spn]++
	})
	for i := range visits {
		for j, n := range visits[i] {
			if n != 1 {
				t.Fatalf("SPN %d of object %d visited %d times", j, i, n)
			}
		}
	}
	var want []hashedRef
	for i := range objs {
		for j, raw := range objs[i].SPNs {
			want = append(want, hashedRef{hash: looseHash(raw), ref: spnRef{obj: int32(i), spn: int32(j)}})
		}
	}
	radixSortByHash(want)
	if !slices.Equal(tab.entries, want) {
		t.Error("entries differ from a one-core fill")
	}
}

// TestIsKrbtgtFolds: the first-byte check keeps every answer of the
// comparison before it, the Kelvin sign included.
func TestIsKrbtgtFolds(t *testing.T) {
	before := func(sam string) bool {
		return strings.EqualFold(sam, "krbtgt") || len(sam) > 7 && strings.EqualFold(sam[:7], "krbtgt_")
	}
	for _, sam := range []string{
		"krbtgt", "KRBTGT", "\u212arbtgt", "krbtgt_12345", "\u212aRBTGT_9", "\u212arbtgt_9",
		"", "k", "krbtg", "xkrbtgt", "svc_krbtgt", "krbtgt$", "\u212a",
	} {
		if got, want := isKrbtgt(&inventory.Object{SAMAccountName: sam}), before(sam); got != want {
			t.Errorf("isKrbtgt(%q) = %v, before %v", sam, got, want)
		}
	}
	if !isKrbtgt(&inventory.Object{SAMAccountName: "\u212aRBTGT"}) {
		t.Error("the Kelvin sign does not fold to k")
	}
}
