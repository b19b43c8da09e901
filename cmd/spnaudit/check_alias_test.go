package main

import (
	"strings"
	"testing"
)

// TestCheckHostSide: check answers conflict when the new SPN is the HOST
// side of an alias pair (AD refuses HOST/h while another account holds
// HTTP/h: MS-ADTS 3.1.1.5.1.3, samldb.c), and names the other holder.
func TestCheckHostSide(t *testing.T) {
	clearEnv(t)
	for _, tc := range []struct {
		name, spn, account string
		status             int
		wantOut            string
	}{
		{"HOST for the VIP whose HTTP the pool holds", "HOST/svnlb301", "svc_intranet", 1, `HTTP/svnlb301 on CORP\svc_iispool and HOST/svnlb301 on CORP\svc_intranet`},
		{"HOST in DNS form, other case, new account", "host/SVNLB301.corp.example.test", "svc_new", 1, `CORP\svc_iispool`},
		{"safe: port-qualified HOST", "HOST/svnlb301:8080", "svc_intranet", 0, "OK: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := spnaudit(t, false, "check", tc.spn, "--account", tc.account, "--ldif", farmLDIF)
			if r.status != tc.status || r.stderr != "" {
				t.Fatalf("status %d, stderr %q; want %d and nothing\n%s", r.status, r.stderr, tc.status, r.stdout)
			}
			if !strings.Contains(r.stdout, tc.wantOut) {
				t.Errorf("output lacks %q:\n%s", tc.wantOut, r.stdout)
			}
			if tc.status == 1 && !strings.HasPrefix(r.stdout, "host-alias-conflict: 1 finding\n") {
				t.Errorf("output does not start with the alias conflict:\n%s", r.stdout)
			}
		})
	}
}
