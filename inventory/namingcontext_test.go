package inventory

import (
	"maps"
	"testing"
)

func TestNamingContextOf(t *testing.T) {
	ncs := []string{"DC=corp,DC=example,DC=test", "DC=child,DC=corp,DC=example,DC=test", "DC=other,DC=test"}
	for _, tc := range []struct {
		dn, want string
	}{
		{"CN=svc,CN=Users,DC=corp,DC=example,DC=test", ncs[0]},
		{"cn=svc,ou=x,dc=CHILD,dc=corp,dc=example,dc=test", ncs[1]},
		{"DC=child,DC=corp,DC=example,DC=test", ncs[1]},
		{"CN=x,DC=notchild,DC=corp,DC=example,DC=test", ncs[0]},
		{"CN=x,DC=xother,DC=test", ""},
		{"CN=x,DC=other,DC=test", ncs[2]},
		{"", ""},
	} {
		got, ok := NamingContextOf(tc.dn, ncs)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("NamingContextOf(%q) = %q, %v; want %q", tc.dn, got, ok, tc.want)
		}
	}
}

func TestObjectsByNamingContext(t *testing.T) {
	const root, child, empty = "DC=corp,DC=example,DC=test", "DC=child,DC=corp,DC=example,DC=test", "DC=empty,DC=test"
	s := &Snapshot{
		NamingContexts: []string{root, child, empty},
		Objects: []*Object{
			{DN: "CN=a,CN=Users," + root}, {DN: "CN=b,OU=Web," + root},
			{DN: "CN=c,CN=Users," + child},
			{DN: "CN=stray,DC=elsewhere"},
		},
	}
	want := map[string]int{root: 2, child: 1, empty: 0}
	if got := s.ObjectsByNamingContext(); !maps.Equal(got, want) {
		t.Fatalf("ObjectsByNamingContext = %v, want %v", got, want)
	}
	if got := (&Snapshot{Objects: s.Objects}).ObjectsByNamingContext(); len(got) != 0 {
		t.Fatalf("without naming contexts: %v, want none", got)
	}
}
