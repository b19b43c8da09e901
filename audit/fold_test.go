package audit

import (
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

func TestFoldAgreesWithEqualFold(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"HTTP/Host", "http/host", true},
		{"MSSQLSvc/db:1433", "MSSQLSvc/db", false},
		{"K", "\u212a", true}, // Kelvin sign folds to K
		{"s", "\u017f", true}, // long s folds to s
		{"σ", "ς", true},
		{"ß", "SS", false},
		{"ı", "I", false}, // dotless i has no simple fold to I
		{"\xff", "\xfe", true},
		{"\xff", "\ufffd", true},
		{"HTTP/web", "HTTP/web\u200b", false},
		{"HTTP/wеb", "HTTP/web", false}, // Cyrillic е
		{"", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.a+"~"+tt.b, func(t *testing.T) {
			if got := strings.EqualFold(tt.a, tt.b); got != tt.same {
				t.Fatalf("test table wrong: EqualFold(%q, %q) = %v", tt.a, tt.b, got)
			}
			if got := foldKey(tt.a) == foldKey(tt.b); got != tt.same {
				t.Errorf("foldKey equal = %v, want %v (%q, %q)", got, tt.same, foldKey(tt.a), foldKey(tt.b))
			}
			if got := foldHash(tt.a) == foldHash(tt.b); got != tt.same {
				t.Errorf("foldHash equal = %v, want %v", got, tt.same)
			}
			if got := inventory.CompareFold(tt.a, tt.b) == 0; got != tt.same {
				t.Errorf("compareFold == 0 is %v, want %v", got, tt.same)
			}
		})
	}
}

func TestFoldKeyDoesNotAllocateWhenFolded(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() { _ = foldKey("HTTP/SVEXPGG310.CORP.EXAMPLE.TEST") })
	if allocs != 0 {
		t.Errorf("foldKey allocated %.0f times, want 0", allocs)
	}
}

func TestCompareFoldOrders(t *testing.T) {
	if inventory.CompareFold("abc", "ABD") >= 0 || inventory.CompareFold("ABD", "abc") <= 0 || inventory.CompareFold("ab", "ABC") >= 0 {
		t.Error("compareFold does not order case-insensitively")
	}
}

// TestLooseEqualAsWindows: Windows compares SPNs with CompareString under
// DS_DEFAULT_LOCALE_COMPARE_FLAGS (NORM_IGNORECASE | NORM_IGNOREKANATYPE |
// NORM_IGNORENONSPACE | NORM_IGNOREWIDTH; MichaelGrafnetter/DSInternals
// Src/DSInternals.DataStore/ADConstants.cs, flag meanings in CompareStringEx,
// refCompareString); look-alikes that pass a case-only check are
// CVE-2026-25177 (refCVE202625177). The lab Samba DC folds case only: see
// adAcceptance.
func TestLooseEqualAsWindows(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
		why  string
	}{
		{"HTTP/Host", "http/host", true, "NORM_IGNORECASE"},
		{"HTTP/web/CAFÉ", "http/web/café", true, "NORM_IGNORECASE, Unicode letters"},
		{"cīfs/x", "cifs/x", true, "NORM_IGNORENONSPACE: macron"},
		{"HTTP/web/café", "HTTP/web/cafe", true, "NORM_IGNORENONSPACE: precomposed acute"},
		{"HTTP/web/cafe\u0301", "HTTP/web/cafe", true, "NORM_IGNORENONSPACE: combining acute"},
		{"ｃｉｆｓ/x", "cifs/x", true, "NORM_IGNOREWIDTH: full-width Latin"},
		{"HTTP/web/ｶﾅ", "HTTP/web/カナ", true, "NORM_IGNOREWIDTH: half-width katakana"},
		{"HTTP/web/カナ", "HTTP/web/かな", true, "NORM_IGNOREKANATYPE"},
		{"HTTP/web/ｶﾅ", "HTTP/web/かな", true, "NORM_IGNOREWIDTH + NORM_IGNOREKANATYPE"},
		{"HTTP/web/ﬁle", "HTTP/web/file", true, "compatibility form: ligature"},
		{"K", "\u212a", true, "Kelvin sign: case orbit of K"},
		{"HTTP/web", "HTTP/web:80", false, "port is part of the value"},
		{"HTTP/wеb", "HTTP/web", false, "Cyrillic е is another letter (malformed-spn's homoglyph check)"},
		{"HTTP/web", "HTTP/web\u200b", false, "zero-width space is not folded (malformed-spn reports it)"},
		{"HTTP/web/cafés", "HTTP/web/cafe", false, "an extra letter"},
		{"ß", "SS", false, "no multi-letter case folding"},
	}
	for _, tt := range tests {
		t.Run(tt.a+"~"+tt.b, func(t *testing.T) {
			if got := looseEqual(tt.a, tt.b); got != tt.same {
				t.Errorf("looseEqual(%q, %q) = %v, want %v (%s); keys %q %q", tt.a, tt.b, got, tt.same, tt.why, looseKey(tt.a), looseKey(tt.b))
			}
			if got := looseHash(tt.a) == looseHash(tt.b); got != tt.same {
				t.Errorf("looseHash equal = %v, want %v", got, tt.same)
			}
			if looseHash(tt.a) != looseHash(looseKey(tt.a)) {
				t.Errorf("looseHash(%q) is not looseHash(looseKey)", tt.a)
			}
		})
	}
}

// TestLooseEqualIncludesEqualFold: every pair the case fold finds equal is
// equal under the loose comparison too.
func TestLooseEqualIncludesEqualFold(t *testing.T) {
	for _, pair := range [][2]string{{"σ", "ς"}, {"s", "\u017f"}, {"\xff", "\ufffd"}, {"Ǆ", "ǆ"}, {"İ", "i̇"}} {
		if strings.EqualFold(pair[0], pair[1]) && !looseEqual(pair[0], pair[1]) {
			t.Errorf("EqualFold(%q, %q) but not looseEqual", pair[0], pair[1])
		}
	}
}

// The ASCII fast path: no allocation, no x/text.
func TestLooseASCIIDoesNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		_ = looseHash("HTTP/svexpgg310.corp.example.test")
		_ = looseEqual("HTTP/svexpgg310.corp.example.test", "http/SVEXPGG310.corp.example.test")
		_ = looseEqual("HTTP/svexpgg310.corp.example.test", "http/SVEXPGG311.corp.example.test")
		_ = looseKey("HTTP/SVEXPGG310")
	})
	if allocs != 0 {
		t.Errorf("loose comparison of ASCII values allocated %.0f times, want 0", allocs)
	}
}

func FuzzLooseKey(f *testing.F) {
	f.Add("cīfs/x", "cifs/x")
	f.Add("ｃｉｆｓ/x", "CIFS/X")
	f.Fuzz(func(t *testing.T, a, b string) {
		if strings.EqualFold(a, b) && !looseEqual(a, b) {
			t.Fatalf("EqualFold(%q, %q) but not looseEqual", a, b)
		}
		if looseEqual(a, b) != (looseHash(a) == looseHash(b)) && looseEqual(a, b) {
			t.Fatalf("looseEqual(%q, %q) but hashes differ", a, b)
		}
	})
}

// BenchmarkLooseHash: the ASCII fast path costs what foldHash costs; a
// non-ASCII value takes the x/text path.
func BenchmarkLooseHash(b *testing.B) {
	for _, v := range []struct{ name, raw string }{
		{"ascii", "HTTP/svexpgg310.corp.example.test"},
		{"unicode", "ＨＴＴＰ/svexpgg310.corp.example.test/café"},
	} {
		b.Run("foldHash/"+v.name, func(b *testing.B) {
			for range b.N {
				_ = foldHash(v.raw)
			}
		})
		b.Run("looseHash/"+v.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				_ = looseHash(v.raw)
			}
		})
	}
}
