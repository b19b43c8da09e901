package metrics

import (
	"strings"
	"testing"
)

// TestSetLDAPServersReplacesTheSet: each full scan's servers replace the
// last ones, so a server that is no longer tried (a Global Catalog of
// another DC, an ldap.urls entry after one that answers) does not keep a 0
// for ever, which would fire SPNAuditDomainControllerDown permanently; a
// poll's servers update the others, which keep their value until the next
// full scan tries them again.
func TestSetLDAPServersReplacesTheSet(t *testing.T) {
	c := newClock()
	s := newTestStore(c, 10)
	const dc1, dc2, gc = "ldap://dc1.corp.example.test", "ldap://dc2.corp.example.test", "ldap://dc1.corp.example.test:3268"
	steps := []struct {
		up   map[string]bool
		full bool
		want []string
	}{
		{map[string]bool{dc1: false, dc2: false}, true, []string{`{server="` + dc1 + `"} 0`, `{server="` + dc2 + `"} 0`}},
		{map[string]bool{dc1: true, gc: false}, true, []string{`{server="` + dc1 + `"} 1`, `{server="` + gc + `"} 0`}},
		{map[string]bool{dc1: true, gc: true}, true, []string{`{server="` + dc1 + `"} 1`, `{server="` + gc + `"} 1`}},
		// dc1 fails over to dc2; the polls on dc2 keep dc1 down.
		{map[string]bool{dc1: false, dc2: true}, true, []string{`{server="` + dc1 + `"} 0`, `{server="` + dc2 + `"} 1`}},
		{map[string]bool{dc2: true}, false, []string{`{server="` + dc1 + `"} 0`, `{server="` + dc2 + `"} 1`}},
	}
	for i, step := range steps {
		s.SetLDAPServers(step.up, step.full)
		var got []string
		for line := range strings.Lines(string(exposition(t, s))) {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "spnaudit_ldap_up{"); ok {
				got = append(got, "{"+rest)
			}
		}
		if strings.Join(got, "\n") != strings.Join(step.want, "\n") {
			t.Errorf("step %d: spnaudit_ldap_up series\n%s\nwant\n%s", i, strings.Join(got, "\n"), strings.Join(step.want, "\n"))
		}
	}
	// The caller's map is not kept.
	up := map[string]bool{dc1: true}
	s.SetLDAPServers(up, true)
	up[dc2] = false
	if strings.Contains(string(exposition(t, s)), dc2) {
		t.Fatal("the store shares the caller's map")
	}
}
