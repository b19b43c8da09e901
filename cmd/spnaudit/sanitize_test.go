package main

import (
	"encoding/base64"
	"strings"
	"testing"
)

// TestDNsSanitisedOnStderr: a DN is directory data anyone who may create an
// object chooses. Quoted in a warning or a one-line error, its ESC (here an
// OSC sequence that retitles the terminal, and a colour change) must reach
// the terminal as a visible escape, as in table cells (report.Sanitize).
func TestDNsSanitisedOnStderr(t *testing.T) {
	clearEnv(t)
	dn := "CN=evil\u001b]0;pwned\u0007\u001b[31m,OU=Farm,DC=corp,DC=example,DC=test"
	dnLine := "dn:: " + base64.StdEncoding.EncodeToString([]byte(dn)) + "\n"
	for _, tt := range []struct {
		name   string
		ldif   string
		status int
		want   string // on stderr
	}{
		{
			name:   "warning: change record skipped",
			ldif:   dnLine + "changetype: modify\nreplace: description\ndescription: x\n-\n",
			status: 0,
			want:   `spnaudit: warning: -: ldif line 1: CN=evil\u001b]0;pwned\u0007\u001b[31m,OU=Farm,DC=corp,DC=example,DC=test: changetype modify record skipped`,
		},
		{
			name:   "one-line error: bad objectGUID",
			ldif:   dnLine + "objectClass: user\nsAMAccountName: evil\nobjectGUID: not-a-guid\nservicePrincipalName: HTTP/evil\n",
			status: 2,
			want:   `CN=evil\u001b]0;pwned\u0007\u001b[31m,OU=Farm,DC=corp,DC=example,DC=test: objectGUID`,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := spnauditStdin(t, tt.ldif, "inventory", "--ldif", "-", "--format", "json")
			if r.status != tt.status {
				t.Errorf("status %d, want %d; stderr %q", r.status, tt.status, r.stderr)
			}
			if strings.ContainsAny(r.stderr, "\x1b\x07") {
				t.Errorf("a raw ESC or BEL reached stderr: %q", r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr %q; want it to contain %q", r.stderr, tt.want)
			}
		})
	}
}
