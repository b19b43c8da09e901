package audit

import (
	"unicode"
	"unicode/utf8"
)

// Active Directory compares servicePrincipalName values case-insensitively as
// whole strings, so "HTTP/Host" and "http/host" are the same SPN while
// "MSSQLSvc/db" and "MSSQLSvc/db:1433" are not. These helpers fold a value to
// a canonical form that agrees exactly with strings.EqualFold: two values are
// EqualFold if and only if their folded forms are equal.

// foldRune maps r to the smallest rune of its case-folding orbit (for ASCII
// letters, the upper-case letter). Invalid bytes decode to utf8.RuneError, as
// they do in strings.EqualFold.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' {
			return r - ('a' - 'A')
		}
		return r
	}
	smallest := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		smallest = min(smallest, f)
	}
	return smallest
}

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
		dst = utf8.AppendRune(dst, foldRune(r))
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
		n := utf8.EncodeRune(buf[:], foldRune(r))
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

// compareFold orders strings by their folded forms, so it agrees with
// strings.EqualFold on equality.
func compareFold(a, b string) int {
	for a != "" && b != "" {
		ra, na := nextFolded(a)
		rb, nb := nextFolded(b)
		if ra != rb {
			if ra < rb {
				return -1
			}
			return 1
		}
		a, b = a[na:], b[nb:]
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}

func nextFolded(s string) (rune, int) {
	if c := s[0]; c < utf8.RuneSelf {
		return foldRune(rune(c)), 1
	}
	r, size := utf8.DecodeRuneInString(s)
	return foldRune(r), size
}
