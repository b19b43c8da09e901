package metrics

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

// TestCompareFoldSkipsSharedBytes: compareFold orders as
// inventory.CompareFold over strings that share prefixes and differ inside
// multi-byte runes, in case, in invalid UTF-8 and in length.
func TestCompareFoldSkipsSharedBytes(t *testing.T) {
	pieces := []string{"a", "A", "z", "CN=", ",", "é", "É", "ß", "\u212a", "k", "K", "Σ", "σ", "ς", "€",
		"\xe2", "\x82", "\xac", "\xff", "\xc3", "\xa9", "\xf0\x9f", "\x98"}
	rng := rand.New(rand.NewPCG(1, 2))
	random := func() string {
		var b strings.Builder
		for range rng.IntN(6) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return b.String()
	}
	for range 200_000 {
		prefix := random()
		a, b := prefix+random(), prefix+random()
		if got, want := compareFold(a, b), inventory.CompareFold(a, b); got != want {
			t.Fatalf("compareFold(%q, %q) = %d, CompareFold %d", a, b, got, want)
		}
	}
}
