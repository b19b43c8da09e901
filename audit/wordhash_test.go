package audit

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestUpperASCII8: every byte value in every position, among random
// neighbours, is upper-cased as a byte-wise ASCII fold would.
func TestUpperASCII8(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for b := range 256 {
		for pos := range 8 {
			w := rng.Uint64()
			w = w&^(0xff<<(8*pos)) | uint64(b)<<(8*pos)
			var want uint64
			for k := range 8 {
				c := byte(w >> (8 * k))
				if 'a' <= c && c <= 'z' {
					c -= 'a' - 'A'
				}
				want |= uint64(c) << (8 * k)
			}
			if got := upperASCII8(w); got != want {
				t.Fatalf("upperASCII8(%#016x) = %#016x, want %#016x", w, got, want)
			}
		}
	}
}

// TestLooseHashFoldsASCII: an ASCII value hashes as its case fold and as
// any other casing of it, at every length (the eight-byte words and the
// tail), and the fast path agrees with the hash of its key.
func TestLooseHashFoldsASCII(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/.:-_@`{[~"
	for n := range 41 {
		for range 50 {
			b := make([]byte, n)
			for i := range b {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
			s := string(b)
			h := looseHash(s)
			for _, other := range []string{foldKey(s), looseKey(s), strings.ToLower(s), strings.ToUpper(s)} {
				if looseHash(other) != h {
					t.Fatalf("looseHash(%q) != looseHash(%q)", s, other)
				}
			}
			if slow, _ := wordHash(looseKey(s), false); slow != h {
				t.Fatalf("looseHash(%q) is not the hash of its key", s)
			}
		}
	}
	// Different values, different hashes (they are confirmed anyway, but
	// a hash that ignored a byte would make every lookup a scan).
	seen := map[uint64]string{}
	for i := range 100_000 {
		s := "HTTP/srv" + strings.Repeat("x", i%13) + string(rune('a'+i%26)) + strconv.Itoa(i)
		if prev, dup := seen[looseHash(s)]; dup && !strings.EqualFold(prev, s) {
			t.Fatalf("looseHash(%q) == looseHash(%q)", s, prev)
		}
		seen[looseHash(s)] = s
	}
}
