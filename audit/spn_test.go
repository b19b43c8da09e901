package audit

import (
	"slices"
	"strings"
	"testing"
)

func TestParseSPNWellFormed(t *testing.T) {
	tests := []struct {
		raw  string
		want SPN
	}{
		{"HTTP/web", SPN{Class: "HTTP", Host: "web"}},
		{"HTTP/web.corp.example.test", SPN{Class: "HTTP", Host: "web.corp.example.test"}},
		{"MSSQLSvc/db.corp.example.test:1433", SPN{Class: "MSSQLSvc", Host: "db.corp.example.test", Port: "1433", HasPort: true}},
		{"MSSQLSvc/db:SALES", SPN{Class: "MSSQLSvc", Host: "db", Port: "SALES", HasPort: true}},
		{"ldap/dc1.corp.example.test/corp.example.test", SPN{Class: "ldap", Host: "dc1.corp.example.test", ServiceName: "corp.example.test", HasServiceName: true}},
		{"HOST/DC1/CORP", SPN{Class: "HOST", Host: "DC1", ServiceName: "CORP", HasServiceName: true}},
		{"GC/dc1.corp.example.test:3268/corp.example.test", SPN{Class: "GC", Host: "dc1.corp.example.test", Port: "3268", HasPort: true, ServiceName: "corp.example.test", HasServiceName: true}},
		{"E3514235-4B06-11D1-AB04-00C04FC2DCD2/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/corp.example.test",
			SPN{Class: "E3514235-4B06-11D1-AB04-00C04FC2DCD2", Host: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", ServiceName: "corp.example.test", HasServiceName: true}},
		{"kadmin/changepw", SPN{Class: "kadmin", Host: "changepw"}},
		{"HTTP/[fe80::1]:80", SPN{Class: "HTTP", Host: "[fe80::1]", Port: "80", HasPort: true}},
		{"HTTP/[fe80::1]", SPN{Class: "HTTP", Host: "[fe80::1]"}},
		{"HTTP/web/café", SPN{Class: "HTTP", Host: "web", ServiceName: "café", HasServiceName: true}},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, problems := ParseSPN(tt.raw)
			if problems != nil {
				t.Fatalf("ParseSPN(%q) problems = %q, want none", tt.raw, problems)
			}
			if got != tt.want {
				t.Errorf("ParseSPN(%q) = %+v, want %+v", tt.raw, got, tt.want)
			}
			if s := got.String(); s != tt.raw {
				t.Errorf("String() = %q, want %q", s, tt.raw)
			}
		})
	}
}

func TestParseSPNMalformed(t *testing.T) {
	tests := []struct {
		raw  string
		want []Problem
	}{
		{"", []Problem{"empty value"}},
		{"HTTPweb", []Problem{"missing '/' between service class and host"}},
		{"/web", []Problem{"empty service class"}},
		{"HTTP/", []Problem{"empty host"}},
		{"HTTP/:80", []Problem{"empty host"}},
		{"HTTP/web:", []Problem{"empty port after ':'"}},
		{"HTTP/web:0", []Problem{"port 0 out of range 1-65535"}},
		{"HTTP/web:70000", []Problem{"port 70000 out of range 1-65535"}},
		{"HTTP/web:1433x", []Problem{`port "1433x" is not a number`}},
		{"HTTP/web/", []Problem{"empty service name after the last '/'"}},
		// Two or three components only, whatever the backslashes: Samba's
		// samldb.c count_spn_components, as Windows counts them; see
		// adAcceptance for the lab DC's answer.
		{"cifs/x/x/x", []Problem{"4 '/'-separated components; AD accepts only class/host or class/host/service (a backslash does not escape '/')"}},
		{"HTTP/web01.corp.example.test/corp.example.test/extra", []Problem{"4 '/'-separated components; AD accepts only class/host or class/host/service (a backslash does not escape '/')"}},
		{"ldap/dc1/CN=Config/x", []Problem{"4 '/'-separated components; AD accepts only class/host or class/host/service (a backslash does not escape '/')"}},
		{`cifs/a\/b/c`, []Problem{"4 '/'-separated components; AD accepts only class/host or class/host/service (a backslash does not escape '/')"}},
		{"HTTP/web//", []Problem{"4 '/'-separated components; AD accepts only class/host or class/host/service (a backslash does not escape '/')"}},
		{"HTTP/web.", []Problem{"trailing dot in host"}},
		{"HTTP/.web", []Problem{"empty DNS label in host"}},
		{"HTTP/a..b", []Problem{"empty DNS label in host"}},
		{"HTTP/web app", []Problem{"whitespace U+0020 in host"}},
		{"HTTP /web", []Problem{"whitespace U+0020 in service class"}},
		{"HTTP/web\t", []Problem{"control character U+0009 in host"}},
		{"HTTP/web\n/x", []Problem{"control character U+000A in host"}},
		{"HTTP/web\u00a0", []Problem{"whitespace U+00A0 in host"}},
		{"HTTP/web\u200b", []Problem{"zero-width character U+200B in host"}},
		{"HTTP/\ufeffweb", []Problem{"zero-width character U+FEFF in host"}},
		{"HTTP/web\u202e", []Problem{"bidirectional control character U+202E in host"}},
		{"HTTP/web\u00ad", []Problem{"invisible character U+00AD in host"}},
		{"HTTP/web\ufe0f", []Problem{"invisible character U+FE0F in host"}},
		{"HTTP/w\u0435b", []Problem{`non-ASCII character U+0435 'е' in host (homoglyph-prone; IDN hosts must be registered in punycode)`}},
		{"Н TTP/web", []Problem{
			`non-ASCII character U+041D 'Н' in service class (homoglyph-prone; IDN hosts must be registered in punycode)`,
			"whitespace U+0020 in service class",
		}},
		{"\xffHTTP/web", []Problem{"invalid UTF-8 byte 0xFF in service class"}},
		{"HTTP/web:80\u200b", []Problem{`port "80\u200b" is not a number`, "zero-width character U+200B in port"}},
		{"HTTP/web/x\u200b", []Problem{"zero-width character U+200B in service name"}},
		{"HTTP/web  app", []Problem{"whitespace U+0020 in host"}}, // reported once
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			_, problems := ParseSPN(tt.raw)
			if !slices.Equal(problems, tt.want) {
				t.Errorf("ParseSPN(%q) problems =\n  %q\nwant\n  %q", tt.raw, problems, tt.want)
			}
		})
	}
}

func TestParseSPNBoundsProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString("HTTP/")
	for r := rune(0x0400); r < 0x0500; r++ { // 256 distinct Cyrillic letters
		b.WriteRune(r)
	}
	_, problems := ParseSPN(b.String())
	if len(problems) != maxProblems {
		t.Errorf("got %d problems, want the cap %d", len(problems), maxProblems)
	}
}

func TestParseSPNDoesNotAllocateForWellFormedValues(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		ParseSPN("MSSQLSvc/db.corp.example.test:1433")
		ParseSPN("ldap/dc1.corp.example.test/corp.example.test")
	})
	if allocs != 0 {
		t.Errorf("ParseSPN allocated %.0f times per run, want 0", allocs)
	}
}
