package audit

import (
	"strings"
	"testing"
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
			if got := compareFold(tt.a, tt.b) == 0; got != tt.same {
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
	if compareFold("abc", "ABD") >= 0 || compareFold("ABD", "abc") <= 0 || compareFold("ab", "ABC") >= 0 {
		t.Error("compareFold does not order case-insensitively")
	}
}
