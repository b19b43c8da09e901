package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// offlineFarmConfig is a configuration for LDIF exports only: the farm and
// audit settings, no ldap or kerberos section.
const offlineFarmConfig = `audit:
  max_password_age: 180d
farms:
  - name: intranet
    vip: svnlb301
    nodes: [svexpgg310, svexpgg311, svexpgg312]
    dns_suffix: corp.example.test
    classes: [HTTP]
    account: svc_iispool
`

// TestLDIFWithConfigWithoutConnection: with --ldif the configuration needs
// no ldap or kerberos keys, as nothing connects; it is still checked.
func TestLDIFWithConfigWithoutConnection(t *testing.T) {
	clearEnv(t)
	write := func(yaml string) string {
		path := filepath.Join(t.TempDir(), "spnaudit.yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	cfg := write(offlineFarmConfig)
	typo := write(strings.Replace(offlineFarmConfig, "account:", "acount:", 1))
	for _, tc := range []struct {
		args   []string
		status int
		stdout string // substring
		stderr string // substring; "" for none at all
	}{
		{[]string{"scan", "--ldif", farmLDIF, "--config", cfg, "--format", "json"}, 1, `"rule": "farm-drift"`, ""},
		{[]string{"plan", "--ldif", farmLDIF, "--config", cfg}, 0, `setspn -D HTTP/svexpgg311.corp.example.test CORP\SVEXPGG311$`, ""},
		{[]string{"check", "--ldif", farmLDIF, "--config", cfg, "HTTP/svnlb301:8443", "--account", "svc_iispool"}, 0, "", ""},
		{[]string{"inventory", "--ldif", farmLDIF, "--config", cfg}, 0, "svc_iispool", ""},
		// Still checked: unknown keys, values.
		{[]string{"scan", "--ldif", farmLDIF, "--config", typo}, 2, "", "farms[0].acount: unknown key"},
		{[]string{"plan", "--ldif", farmLDIF, "--config", write(offlineFarmConfig + "ldap:\n  urls: [dc1.example.test]\n")}, 2, "", `ldap.urls[0]: "dc1.example.test" has no scheme`},
		// Without --ldif the connection is needed.
		{[]string{"scan", "--config", cfg}, 2, "", "config: ldap.urls: not set"},
	} {
		r := spnaudit(t, false, tc.args...)
		if r.status != tc.status || !strings.Contains(r.stdout, tc.stdout) ||
			tc.stderr == "" && r.stderr != "" || !strings.Contains(r.stderr, tc.stderr) {
			t.Errorf("%v: status %d, stdout %.200q, stderr %q; want %d, %q, %q", tc.args, r.status, r.stdout, r.stderr, tc.status, tc.stdout, tc.stderr)
		}
	}
}

// TestLDIFPartialReadExitsTwo: an export whose records are not separated
// (so one account's SPNs would land on another) is refused with the line
// and exit status 2 by every command that reads it, never audited.
func TestLDIFPartialReadExitsTwo(t *testing.T) {
	clearEnv(t)
	merged := "dn: CN=a,DC=corp,DC=example,DC=test\nsAMAccountName: a\nservicePrincipalName: HTTP/a\n   \n" +
		"dn: CN=b,DC=corp,DC=example,DC=test\nsAMAccountName: b\nservicePrincipalName: HTTP/b\n"
	for _, cmd := range []string{"scan", "inventory"} {
		r := spnauditStdin(t, merged, cmd, "--ldif", "-")
		want := "spnaudit: --ldif -: ldif line 5: dn: inside the record that starts at line 1"
		if r.status != 2 || r.stdout != "" || !strings.HasPrefix(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%s: status %d, stdout %q, stderr %q; want 2, nothing, one line starting %q", cmd, r.status, r.stdout, r.stderr, want)
		}
	}
}
