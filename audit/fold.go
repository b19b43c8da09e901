package audit

import (
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

// looseHash is foldHash(looseKey(s)): for ASCII s, where the key is the
// case fold, the same FNV-1a loop as foldHash in one pass, without building
// the key.
func looseHash(s string) uint64 {
	h := uint64(fnvOffset64)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return looseHashSlow(s)
		}
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		h = (h ^ uint64(c)) * fnvPrime64
	}
	return h
}

// looseHashSlow is kept out of line so the ASCII loop stays tight.
//
//go:noinline
func looseHashSlow(s string) uint64 { return foldHash(looseKey(s)) }

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
