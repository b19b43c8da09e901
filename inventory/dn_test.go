package inventory

import (
	"strings"
	"testing"
)

func TestDomainFromDNFastPath(t *testing.T) {
	tests := []struct{ dn, want string }{
		{"CN=x,DC=Corp,DC=Test", "corp.test"},
		{"CN=web01,OU=Servers,DC=corp,DC=test", "corp.test"},
		{"CN=a,DC=corp,OU=x,DC=test", "test"},
		{"DC=corp,DC=test", "corp.test"},
		{"CN=a b, DC = corp , DC=test ", "corp.test"},
		{"CN=x\\,DC=evil,DC=corp,DC=test", "corp.test"},
		{"CN=x,DC=a+DC=b,DC=test", "test"},
		{"CN=x", ""},
		{"", ""},
		{"not a dn", ""},
		{"CN=x,,DC=test", ""},
		{"CN=x,DC=test,", ""},
		{"=x,DC=test", ""},
	}
	for _, tc := range tests {
		for range 2 { // the second call answers from the cache
			if got := DomainFromDN(tc.dn); got != tc.want {
				t.Errorf("DomainFromDN(%q) = %q, want %q", tc.dn, got, tc.want)
			}
		}
	}
}

// FuzzDomainFromDN holds the in-place split of plain DNs to go-ldap's parse.
func FuzzDomainFromDN(f *testing.F) {
	for _, s := range []string{"CN=x,DC=Corp,DC=Test", "CN=a b, DC = corp , DC=test ", "=x,DC=t", "CN=x,,DC=t", " ", "DC=,DC=x", "a=b=c,dc=x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dn string) {
		if got, want := DomainFromDN(dn), domainFromParsedDN(dn); got != want {
			t.Fatalf("DomainFromDN(%q) = %q, parser says %q", dn, got, want)
		}
	})
}

// FuzzDomainCache holds DomainCache to DomainFromDN over sequences of DNs
// that share their rest, as an export's do: the fuzzed DN, then the same
// rest under other first components, plain and not.
func FuzzDomainCache(f *testing.F) {
	for _, s := range []string{"CN=x,DC=Corp,DC=Test", "CN=a,OU=b,DC=x", "DC=a,DC=b", "CN=x\\,DC=evil,DC=t", "cn=a,,DC=t", "CN=x"} {
		f.Add(s, "CN=y")
	}
	f.Fuzz(func(t *testing.T, dn, first string) {
		var c DomainCache
		_, rest, _ := strings.Cut(dn, ",")
		for _, d := range []string{dn, first + "," + rest, dn, "DC=z," + rest, first + "," + rest, "CN=q\\,DC=w," + rest, "CN=p," + rest, "CN=p+CN=r," + rest, dn} {
			if got, want := c.DomainFromDN(d), DomainFromDN(d); got != want {
				t.Fatalf("DomainCache.DomainFromDN(%q) = %q, DomainFromDN says %q", d, got, want)
			}
		}
	})
}
