package audit

import "testing"

// plainHost must agree with ParseSPN: when it answers, the value is well
// formed and the host is ParseSPN's.
func checkPlainHost(t *testing.T, raw string) bool {
	t.Helper()
	host, ok := plainHost(raw)
	if !ok {
		return false
	}
	spn, problems := ParseSPN(raw)
	if problems != nil || spn.Host != host || spn.HasPort || spn.HasServiceName {
		t.Fatalf("plainHost(%q) = %q, true; ParseSPN: host %q, problems %v", raw, host, spn.Host, problems)
	}
	return true
}

func TestPlainHostAgreesWithParseSPN(t *testing.T) {
	tests := []struct {
		raw   string
		plain bool
	}{
		{"HOST/srv1", true},
		{"RestrictedKrbHost/srv1.corp.example.test", true},
		{"HTTP/a.b", true},
		{"HTTP/a", true},
		{"", false},
		{"HOST", false},
		{"/srv1", false},
		{"HOST/", false},
		{"HOST/srv1.", false},
		{"HOST/.srv1", false},
		{"HOST/srv1..corp", false},
		{"MSSQLSvc/db:1433", false},
		{"HTTP/[::1]", false},
		{"HOST/srv1/corp", false},
		{"HOST/srv 1", false},
		{"HOST/srv1\t", false},
		{"HOST/sr\u200bv1", false},
		{"HOST/ｓｒｖ1", false},
		{"HOST/srv\x7f", false},
		{".HOST/srv1", false},
		{"HO..ST/srv1", false},
		{"H.OST/srv1", true},
	}
	for _, tt := range tests {
		if got := checkPlainHost(t, tt.raw); got != tt.plain {
			t.Errorf("plainHost(%q) ok = %v, want %v", tt.raw, got, tt.plain)
		}
	}
}

func FuzzPlainHost(f *testing.F) {
	for _, s := range []string{"HOST/srv1", "HOST/a.b.c", "x/y:1", "a/b/c", "a/.b", "a/b.", "a/b..c", "[/x", "a/[::1]:80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) { checkPlainHost(t, raw) })
}

// BenchmarkPlainHost against BenchmarkParseSPNPlain: what indexSPNs saves
// on each of the realistic export's computer SPNs.
func BenchmarkPlainHost(b *testing.B) {
	for b.Loop() {
		plainHost("RestrictedKrbHost/SRV012345.corp.example.test")
	}
}

func BenchmarkParseSPNPlain(b *testing.B) {
	for b.Loop() {
		ParseSPN("RestrictedKrbHost/SRV012345.corp.example.test")
	}
}
