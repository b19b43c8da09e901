package inventory

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestCompareFoldSkipsSharedBytes: CompareFold, which folds only past the
// bytes both strings share, orders as folding from the first rune does,
// over strings that share prefixes and differ inside multi-byte runes, in
// case, in invalid UTF-8 and in length; and it agrees with
// strings.EqualFold on equality.
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
		got, want := CompareFold(a, b), compareFoldRunes(a, b)
		if got != want {
			t.Fatalf("CompareFold(%q, %q) = %d, folding from the start %d", a, b, got, want)
		}
		if (got == 0) != strings.EqualFold(a, b) {
			t.Fatalf("CompareFold(%q, %q) = %d, strings.EqualFold %v", a, b, got, strings.EqualFold(a, b))
		}
	}
}
