package inventory

import "testing"

// TestAccountName: the one form audit, report and metrics print an account
// in. Must-not cases: no sAMAccountName gives the DN, never "CORP\".
func TestAccountName(t *testing.T) {
	d := &Directory{NetBIOSDomains: map[string]string{"corp.example.test": "CORP", "emea.corp.example.test": "EUROPE"}}
	tests := []struct {
		name string
		o    Object
		want string
	}{
		{"crossRef NetBIOS name", Object{DN: "CN=svc_a,OU=Svc,DC=corp,DC=example,DC=test", Domain: "corp.example.test", SAMAccountName: "svc_a"}, `CORP\svc_a`},
		{"NetBIOS name that is not the first label", Object{DN: "CN=svc_b,DC=emea,DC=corp,DC=example,DC=test", Domain: "emea.corp.example.test", SAMAccountName: "svc_b"}, `EUROPE\svc_b`},
		{"domain from the DN when Domain is empty", Object{DN: "CN=svc_c,OU=Svc,DC=Corp,DC=Example,DC=Test", SAMAccountName: "svc_c"}, `CORP\svc_c`},
		{"domain without a crossRef: Windows' default NetBIOS name", Object{DN: "CN=web$,DC=apac,DC=corp,DC=example,DC=test", Domain: "apac.corp.example.test", SAMAccountName: "web$"}, `APAC\web$`},
		{"upper-case Domain finds the crossRef", Object{DN: "CN=x", Domain: "CORP.EXAMPLE.TEST", SAMAccountName: "x"}, `CORP\x`},
		{"no domain at all: the sAMAccountName", Object{DN: "CN=x", SAMAccountName: "x"}, "x"},
		{"no sAMAccountName: the DN", Object{DN: "CN=gone,DC=corp,DC=example,DC=test", Domain: "corp.example.test"}, "CN=gone,DC=corp,DC=example,DC=test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := d.AccountName(&tt.o); got != tt.want {
				t.Errorf("AccountName = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestDomainFromDN: the trailing DC= components only; an escaped comma is
// part of a value, not a component.
func TestDomainFromDN(t *testing.T) {
	tests := map[string]string{
		"CN=a,OU=b,DC=Corp,DC=Example,DC=Test": "corp.example.test",
		"DC=corp,DC=test":                      "corp.test",
		"CN=a,DC=x,OU=y,DC=corp,DC=test":       "corp.test",
		`CN=a\,DC=evil,DC=corp,DC=test`:        "corp.test",
		"CN=a,OU=b":                            "",
		"not a dn":                             "",
		"":                                     "",
	}
	for dn, want := range tests {
		if got := DomainFromDN(dn); got != want {
			t.Errorf("DomainFromDN(%q) = %q, want %q", dn, got, want)
		}
	}
}
