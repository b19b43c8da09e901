package audit

import (
	"testing"
)

func TestPSArgAndQuote(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"HTTP/web.corp.example.test:8080", "HTTP/web.corp.example.test:8080"},
		{`CORP\SVEXPGG310$`, `CORP\SVEXPGG310$`},
		{`CORP\svc $x`, `'CORP\svc $x'`},
		{"a$b", "'a$b'"},
		{"O'Brien", "'O''Brien'"},
		{"", "''"},
		{"HTTP/w\u0435b", "('HTTP/w' + [char]0x0435 + 'b')"},
		{"x\U0001F600", "('x' + [char]::ConvertFromUtf32(0x1F600))"},
		{"\u2019", "[char]0x2019"}, // a quote to PowerShell
		{"a\nb", "('a' + [char]0x000A + 'b')"},
	} {
		if got := psArg(tt.in); got != tt.want {
			t.Errorf("psArg(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestHostNameHelpers(t *testing.T) {
	for s, want := range map[string]bool{
		"E3514235-4B06-11D1-AB04-00C04FC2DCD2":   true,
		"{e3514235-4b06-11d1-ab04-00c04fc2dcd2}": true,
		"E3514235-4B06-11D1-AB04-00C04FC2DCD":    false,
		"E3514235x4B06-11D1-AB04-00C04FC2DCD2":   false,
		"svexpgg310":                             false,
	} {
		if isGUID(s) != want {
			t.Errorf("isGUID(%q) = %v", s, !want)
		}
	}
	for s, want := range map[string]bool{"10.1.2.3": true, "[fe80::1]": true, "10.1.2": false, "1.2.3.4.example": false, "web": false} {
		if isIPLiteral(s) != want {
			t.Errorf("isIPLiteral(%q) = %v", s, !want)
		}
	}
}

// TestPSQuoteFastPathMatchesGeneral: psQuote's shortcut for printable ASCII
// writes exactly what the rune-by-rune path writes.
func TestPSQuoteFastPathMatchesGeneral(t *testing.T) {
	cases := []string{"", "'", "''", " ", "CN=O'Brien,OU=Service Accounts,DC=corp,DC=example,DC=test",
		"~!@#$%^&*()_+`-={}|[]\\:\";'<>?,./", "a'b'c"}
	for c := byte(' '); c < 0x7f; c++ {
		cases = append(cases, "x"+string(c)+"y", string(c))
	}
	for _, s := range cases {
		if !literalASCII(s) {
			t.Fatalf("%q: not taken by the fast path", s)
		}
		if got, want := psQuote(s), psQuoteRunes(s); got != want {
			t.Errorf("psQuote(%q) = %s, general path %s", s, got, want)
		}
	}
	for _, s := range []string{"a\tb", "caf\u00e9", "x\x7fy", "\u2019"} {
		if literalASCII(s) {
			t.Errorf("%q taken by the fast path", s)
		}
	}
}
