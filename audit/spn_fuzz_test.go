package audit

import (
	"strings"
	"testing"
	"unicode"

	"github.com/spnaudit/spnaudit/inventory"
)

// FuzzParseSPN checks the parser's invariants on arbitrary values; the seed
// corpus is in testdata/fuzz/FuzzParseSPN.
func FuzzParseSPN(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw string) {
		spn, problems := ParseSPN(raw)
		if strings.Contains(raw, "/") && spn.String() != raw {
			t.Fatalf("String() = %q, want the input %q", spn.String(), raw)
		}
		if len(problems) > maxProblems {
			t.Fatalf("%d problems, more than the cap %d", len(problems), maxProblems)
		}
		seen := make(map[Problem]bool)
		for _, p := range problems {
			if seen[p] {
				t.Fatalf("problem %q reported twice", p)
			}
			seen[p] = true
		}
		if problems == nil {
			if spn.Class == "" || spn.Host == "" {
				t.Fatalf("well-formed %q has an empty class or host: %+v", raw, spn)
			}
			if n := strings.Count(raw, "/"); n < 1 || n > 2 {
				// AD: two or three components (samldb.c count_spn_components).
				t.Fatalf("well-formed %q has %d components", raw, n+1)
			}
			for _, r := range raw {
				if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar {
					t.Fatalf("well-formed %q contains %U", raw, r)
				}
			}
			for _, r := range spn.Class + spn.Host {
				if r > unicode.MaxASCII {
					t.Fatalf("well-formed %q has non-ASCII %U in class or host", raw, r)
				}
			}
		}

		// The SPN key must agree with AD's case-insensitive comparison.
		key := foldKey(raw)
		if foldKey(key) != key || !strings.EqualFold(key, raw) || foldHash(key) != foldHash(raw) {
			t.Fatalf("foldKey(%q) = %q is not a stable case-insensitive key", raw, key)
		}
		for _, other := range []string{strings.ToUpper(raw), strings.ToLower(raw), strings.ToTitle(raw)} {
			if strings.EqualFold(raw, other) != (foldKey(other) == key) {
				t.Fatalf("EqualFold(%q, %q) disagrees with foldKey", raw, other)
			}
			if strings.EqualFold(raw, other) && foldHash(other) != foldHash(raw) {
				t.Fatalf("EqualFold(%q, %q) but hashes differ", raw, other)
			}
			if strings.EqualFold(raw, other) != (inventory.CompareFold(raw, other) == 0) {
				t.Fatalf("EqualFold(%q, %q) disagrees with compareFold", raw, other)
			}
		}

		// Remediation quoting must never let a value escape its quotes.
		q := psQuote(raw)
		if strings.ContainsAny(q, "\n\r\x00") {
			t.Fatalf("psQuote(%q) = %q contains a raw control character", raw, q)
		}
		_ = skeleton(raw)
	})
}
