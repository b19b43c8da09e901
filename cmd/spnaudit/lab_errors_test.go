package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/internal/labtest"
	"github.com/spnaudit/spnaudit/lab"
)

// TestLabBadInput: each mistake an administrator makes gives exit status 2
// and one line on stderr naming the cause and the fix, with no stack trace
// and no password. Clock skew cannot be produced against the real KDC
// without faking the clock: krb's unit tests classify KRB_AP_ERR_SKEW, and
// TestExplain checks the CLI passes that line through.
func TestLabBadInput(t *testing.T) {
	l := labtest.Require(t)
	clearEnv(t)
	const wrongPassword = "Wrong-Passw0rd!"
	wrongPasswordFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(wrongPasswordFile, []byte(wrongPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	password := strings.TrimSpace(readFile(t, l.PasswordFile()))
	for _, tc := range []struct {
		name       string
		set        map[string]any
		cause, fix string
	}{
		{
			"wrong password",
			map[string]any{"kerberos.keytab": nil, "kerberos.password_file": wrongPasswordFile},
			"the KDC rejected the password or key (pre-authentication failed)",
			"fix: check kerberos.password_file, or export a fresh keytab",
		},
		{
			"missing keytab",
			map[string]any{"kerberos.keytab": filepath.Join(t.TempDir(), "missing.keytab")},
			`missing.keytab" does not exist`,
			"; check the path",
		},
		{
			// The keytab tells which realm was meant before any KDC is asked.
			"realm the keytab is not for",
			map[string]any{"kerberos.principal": lab.AuditUser + "@NOSUCH.TEST"},
			"holds the keys of " + lab.AuditUser + "@" + lab.Realm + ", not of realm NOSUCH.TEST",
			"fix: set kerberos.realm to " + lab.Realm + " (the AD DNS domain in upper case)",
		},
		{
			"unknown realm",
			map[string]any{"kerberos.keytab": nil, "kerberos.password_file": l.PasswordFile(), "kerberos.principal": lab.AuditUser + "@NOSUCH.TEST"},
			"no KDC is known for the realm",
			"fix: set kerberos.realm to the AD DNS domain in upper case",
		},
		{
			"unreachable KDC",
			map[string]any{"kerberos.krb5_conf": nil, "kerberos.kdcs": []string{"127.0.0.1:1"}},
			"cannot reach any KDC",
			"fix: check that the KDC (a domain controller, port 88 TCP/UDP) is reachable",
		},
		{
			"unreachable DC",
			map[string]any{"ldap.urls": []string{"ldap://127.0.0.1:1"}, "ldap.service_principal": lab.ServicePrincipal()},
			"ldap connect ldap://127.0.0.1:1: connection refused by 127.0.0.1:1",
			"; check ldap.urls: the DC's name and port",
		},
		{
			"wrong service principal",
			map[string]any{"ldap.service_principal": "ldap/nosuch.corp.example.test"},
			"requesting a service ticket for ldap/nosuch.corp.example.test: the KDC does not know the service principal",
			"fix: set ldap.service_principal to ldap/<DC fully qualified host name>",
		},
		{
			"TLS name mismatch",
			map[string]any{"ldap.urls": []string{lab.LDAPSURL()}, "ldap.tls.ca_file": l.CAFile(), "ldap.tls.server_name": "wrong.example"},
			`ldap connect ldaps://dc1.corp.example.test: the DC's certificate is for dc1.corp.example.test`,
			`not "wrong.example"; set ldap.tls.server_name to a name of the certificate`,
		},
		{
			"no such base DN",
			map[string]any{"ldap.base_dn": "OU=NoSuchOU," + lab.BaseDN},
			`"No Such Object"`,
			"; check ldap.base_dn, or leave it empty",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, command := range [][]string{{"inventory"}, {"scan"}} {
				r := spnaudit(t, false, append(command, "--config", labConfigFile(t, l, tc.set))...)
				lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
				switch {
				case r.status != 2 || r.stdout != "":
					t.Errorf("%s: status %d, stdout %.80q; want 2 and nothing", command[0], r.status, r.stdout)
				case len(lines) != 1 || !strings.HasSuffix(r.stderr, "\n") || !strings.HasPrefix(r.stderr, "spnaudit: "):
					t.Errorf("%s: stderr is not one line: %q", command[0], r.stderr)
				case !strings.Contains(r.stderr, tc.cause) || !strings.Contains(r.stderr, tc.fix):
					t.Errorf("%s: stderr %q\nwant the cause %q and the fix %q", command[0], r.stderr, tc.cause, tc.fix)
				case strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic"):
					t.Errorf("%s: stack trace: %q", command[0], r.stderr)
				case strings.Contains(r.stderr, wrongPassword) || strings.Contains(r.stderr, password):
					t.Errorf("%s: a password is printed: %q", command[0], r.stderr)
				default:
					t.Logf("%s: %s", command[0], lines[0])
				}
			}
		})
	}
}
