package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/audit"
)

// offlineConfig is what a configuration for reading LDIF exports holds: the
// farms and audit settings, no connection.
const offlineConfig = `
audit:
  max_password_age: 180d
  ignore:
    - rule: ghost-spn
      spn: "HTTP/old-*"
      reason: decommissioned
      owner: web-team
farms:
  - name: iis
    vip: svnlb301
    nodes: [svexpgg310]
    dns_suffix: example.test
    classes: [HTTP]
    account: svc-iis
`

func TestLoadOffline(t *testing.T) {
	clearEnv(t)
	got, err := Load(Options{File: writeTemp(t, offlineConfig), Offline: true})
	if err != nil {
		t.Fatalf("Load offline: %v", err)
	}
	want := Default()
	want.Audit.MaxPasswordAge = 180 * 24 * time.Hour
	want.Audit.Ignore = []audit.Suppression{{Rule: "ghost-spn", SPN: "HTTP/old-*", Reason: "decommissioned", Owner: "web-team"}}
	want.Farms = []audit.Farm{{Name: "iis", VIP: "svnlb301", Nodes: []string{"svexpgg310"}, DNSSuffix: "example.test",
		Classes: []string{"HTTP"}, Account: "svc-iis"}}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("Load offline =\n%s\nwant\n%s", asJSON(*got), asJSON(want))
	}
	if _, err := Load(Options{Offline: true}); err != nil {
		t.Errorf("Load offline without a file: %v", err)
	}

	// Online, the same file lacks the connection.
	_, err = Load(Options{File: writeTemp(t, offlineConfig)})
	if lines := problemLines(err); !strings.Contains(lines, "ldap.urls: not set") || !strings.Contains(lines, "kerberos: no credentials") {
		t.Errorf("Load online = %v; want ldap.urls and kerberos problems", lines)
	}
}

// TestLoadOfflineProblems: offline loading still rejects unknown keys and
// checks every value that is set, connection keys included.
func TestLoadOfflineProblems(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		env        map[string]string
		want       []string // substrings of the problem lines
	}{
		{"unknown key", offlineConfig + "ldap:\n  ulrs: [ldaps://dc1.example.test]\n", nil, []string{"ldap.ulrs: unknown key", "did you mean ldap.urls?"}},
		{"unknown key in a farm", strings.Replace(offlineConfig, "account:", "acount:", 1), nil, []string{"farms[0].acount: unknown key"}},
		{"farm without account", strings.Replace(offlineConfig, "account: svc-iis", "ports: [80]", 1), nil, []string{"farms[0]: farm iis: account: missing"}},
		{"bad audit value", strings.Replace(offlineConfig, "180d", "1y", 1), nil, []string{"audit.max_password_age"}},
		{"suppression without reason", strings.Replace(offlineConfig, "      reason: decommissioned\n", "", 1), nil, []string{"audit.ignore[0]"}},
		{"bad URL set", offlineConfig + "ldap:\n  urls: [ldpa://dc1.example.test]\n", nil, []string{`ldap.urls[0]: "ldpa://dc1.example.test" has scheme "ldpa"`}},
		{"missing keytab set", offlineConfig + "kerberos:\n  principal: svc\n  keytab: testdata/files/none.keytab\n", nil, []string{`kerberos.keytab: "testdata/files/none.keytab" does not exist`}},
		{"two credential sources", offlineConfig, map[string]string{
			"SPNAUDIT_KERBEROS_KEYTAB": "testdata/files/krb5.conf", "SPNAUDIT_KERBEROS_CCACHE": "testdata/files/krb5.conf",
		}, []string{"kerberos: kerberos.keytab and kerberos.ccache are set"}},
		{"bad log level", offlineConfig + "log:\n  level: verbose\n", nil, []string{"log.level"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			cfg, err := Load(Options{File: writeTemp(t, tc.yaml), Offline: true})
			lines := problemLines(err)
			if cfg != nil || lines == "" {
				t.Fatalf("Load offline = %v, %v; want problems", cfg, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(lines, w) {
					t.Errorf("problems lack %q:\n%s", w, lines)
				}
			}
			if strings.Contains(lines, "ldap.urls: not set") || strings.Contains(lines, "no credentials") || strings.Contains(lines, "kerberos.realm: not set") ||
				strings.Contains(lines, "kerberos.principal: not set") {
				t.Errorf("offline loading requires the connection:\n%s", lines)
			}
		})
	}
}

// problemLines returns the problems of a Load error, one per line, or "".
func problemLines(err error) string {
	var ps Problems
	if !errors.As(err, &ps) {
		return ""
	}
	return strings.Join(ps.Lines(), "\n")
}
