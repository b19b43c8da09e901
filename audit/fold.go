package audit

import (
	"math/bits"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/spnaudit/spnaudit/inventory"
)

// Active Directory compares servicePrincipalName values case-insensitively as
// whole strings, so "HTTP/Host" and "http/host" are the same SPN while
// "MSSQLSvc/db" and "MSSQLSvc/db:1433" are not. These helpers fold a value to
// a canonical form that agrees exactly with strings.EqualFold: two values are
// EqualFold if and only if their folded forms are equal.

// appendFold appends the folded form of s to dst.
func appendFold(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		dst = utf8.AppendRune(dst, inventory.FoldRune(r))
		i += size
	}
	return dst
}

// foldKey returns the folded form of s, without allocating when s is already
// folded.
func foldKey(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || ('a' <= c && c <= 'z') {
			return string(appendFold(make([]byte, 0, len(s)), s))
		}
	}
	return s
}

const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

// foldHash is the 64-bit FNV-1a hash of the folded form of s, computed
// without building it.
func foldHash(s string) uint64 { return foldHashMore(fnvOffset64, s) }

// foldHashMore continues hash h with the folded form of s, so that
// foldHashMore(foldHash(a), b) == foldHash(a+b).
func foldHashMore(h uint64, s string) uint64 {
	var buf [utf8.UTFMax]byte
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			h = (h ^ uint64(c)) * fnvPrime64
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		n := utf8.EncodeRune(buf[:], inventory.FoldRune(r))
		for _, c := range buf[:n] {
			h = (h ^ uint64(c)) * fnvPrime64
		}
		i += size
	}
	return h
}

// hostKey is the lookup key for host names (NetBIOS or DNS): ASCII lower
// case, as DNS compares names. Hosts with non-ASCII characters are malformed
// SPNs and never reach the host rules.
func hostKey(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			return string(appendLower(make([]byte, 0, len(s)), s))
		}
	}
	return s
}

// appendLower appends the ASCII lower-case form of s to dst; map lookups with
// string(dst) then do not allocate.
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// Windows compares servicePrincipalName values more loosely than by case: the
// directory's string comparison (CompareString with
// DS_DEFAULT_LOCALE_COMPARE_FLAGS = NORM_IGNORECASE | NORM_IGNOREKANATYPE |
// NORM_IGNORENONSPACE | NORM_IGNOREWIDTH, the flags of the ntds.dit indices)
// also ignores diacritics, hiragana/katakana and full/half width, so
// "cīfs/x", "ｃｉｆｓ/x" and "cifs/x" are one SPN to a Windows DC and its KDC.
// SPNs are compared with looseKey; for ASCII values it is the case fold, on a
// fast path that neither allocates nor calls into x/text.

// looseKey returns the form under which Windows' comparison finds two SPNs
// equal: case folded (inventory.FoldRune), then decomposed to compatibility form
// (NFKD: width variants, ligatures, circled and other compatibility
// characters become their base characters), non-spacing marks (Mn: accents,
// dakuten) dropped, katakana mapped to hiragana, and case folded again.
// Values that are EqualFold have equal keys, because the first step makes
// them identical. For ASCII s it returns foldKey(s).
func looseKey(s string) string {
	if isASCII(s) {
		return foldKey(s)
	}
	folded := norm.NFKD.Bytes(appendFold(make([]byte, 0, len(s)), s))
	out := make([]byte, 0, len(folded))
	for i := 0; i < len(folded); {
		r, size := utf8.DecodeRune(folded[i:])
		i += size
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		out = utf8.AppendRune(out, inventory.FoldRune(hiragana(r)))
	}
	return string(out)
}

// hiragana maps a katakana letter to its hiragana counterpart (Unicode puts
// them 0x60 apart); NORM_IGNOREKANATYPE compares them equal.
func hiragana(r rune) rune {
	switch {
	case r >= 0x30A1 && r <= 0x30F6, r == 0x30FD, r == 0x30FE:
		return r - 0x60
	}
	return r
}

// looseHash is the hash of looseKey(s): looseEqual values have equal
// hashes. For ASCII s, whose key is the case fold, it hashes s itself,
// folding eight bytes at a time, without building the key; the hash of any
// string upper-cases its ASCII letters, so an ASCII value and its key hash
// alike. Eight bytes take one 64x64->128-bit multiply where FNV-1a took
// eight dependent ones (issue 9: hashing the realistic export's 1M SPNs was
// a sixth of the audit).
func looseHash(s string) uint64 {
	if h, ok := wordHash(s, true); ok {
		return h
	}
	return looseHashSlow(s)
}

// looseHashSlow is kept out of line so the ASCII path stays tight.
//
//go:noinline
func looseHashSlow(s string) uint64 {
	h, _ := wordHash(looseKey(s), false)
	return h
}

const (
	wordHashSeed = 0x243f6a8885a308d3
	wordHashMul  = 0x9e3779b97f4a7c15
	wordHashEnd  = 0xbf58476d1ce4e5b9
	bytes7F      = 0x7f7f7f7f7f7f7f7f
	bytes80      = 0x8080808080808080
)

// wordHash hashes s eight bytes at a time with its ASCII letters
// upper-cased; with asciiOnly, it gives up (false) at the first byte
// outside ASCII.
func wordHash(s string, asciiOnly bool) (uint64, bool) {
	n := len(s)
	h := wordHashSeed ^ uint64(n)
	i := 0
	for ; i+8 <= n; i += 8 {
		w := load8(s[i:])
		if asciiOnly && w&bytes80 != 0 {
			return 0, false
		}
		h = wordMix(h, upperASCII8(w))
	}
	if i < n {
		var w uint64
		if n >= 8 {
			w = load8(s[n-8:]) // the last eight bytes, overlapping the ones before
		} else {
			for j := n - 1; j >= i; j-- {
				w = w<<8 | uint64(s[j])
			}
		}
		if asciiOnly && w&bytes80 != 0 {
			return 0, false
		}
		h = wordMix(h, upperASCII8(w))
	}
	return wordMix(h, wordHashEnd), true
}

// wordMix folds w into h: the high and low halves of (h^w) times an odd
// constant, xored (wyhash's mixing step).
func wordMix(h, w uint64) uint64 {
	hi, lo := bits.Mul64(h^w, wordHashMul)
	return hi ^ lo
}

// load8 reads s[0:8] little-endian (the compiler makes it one load).
func load8(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// upperASCII8 upper-cases the ASCII letters among the eight bytes of w and
// leaves every other byte: a byte is a-z when its low seven bits plus 0x1F
// reach 0x80 and plus 0x05 do not, and its high bit is clear (the sums of
// seven-bit values do not carry into the next byte).
func upperASCII8(w uint64) uint64 {
	x := w & bytes7F
	lower := (x + 0x1f1f1f1f1f1f1f1f) &^ (x + 0x0505050505050505) &^ w & bytes80
	return w - lower>>2
}

// looseEqual reports whether Windows treats a and b as the same SPN.
func looseEqual(a, b string) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	if isASCII(a) && isASCII(b) {
		return false
	}
	return looseKey(a) == looseKey(b)
}

// lookalikes reports whether a and b are one SPN to Windows but differ by
// more than case: the second was written past a check that compares by case
// only (Samba's, a replication collision) or crafted to pass as the first.
func lookalikes(a, b string) bool {
	return !strings.EqualFold(a, b) && looseEqual(a, b)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
