package lab

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spnaudit/spnaudit/config"
)

// TestWriteConfig: the file WriteConfig writes is one spnaudit accepts, with
// the changes asked for.
func TestWriteConfig(t *testing.T) {
	l := &Lab{Dir: t.TempDir()}
	for path, content := range map[string]string{
		l.Keytab():       "\x05\x02",
		l.PasswordFile(): "secret\n",
		l.Krb5Conf():     "[libdefaults]\n",
	} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name  string
		set   map[string]any
		check func(*config.Config) bool
	}{
		{"defaults", nil, func(c *config.Config) bool {
			return slices.Equal(c.LDAP.URLs, []string{"ldap://dc1.corp.example.test"}) && c.Kerberos.Keytab == l.Keytab() &&
				c.Kerberos.Principal == "spnaudit@CORP.EXAMPLE.TEST" && c.Kerberos.Realm == Realm && c.Kerberos.KRB5Conf == l.Krb5Conf()
		}},
		{"password file instead of the keytab, farm and OU", map[string]any{
			"kerberos.keytab":        nil,
			"kerberos.password_file": l.PasswordFile(),
			"ldap.base_dn":           "OU=Farm," + BaseDN,
			"ldap.sasl_security":     "sign",
			"farms":                  []any{FarmConfig()},
		}, func(c *config.Config) bool {
			return c.Kerberos.Keytab == "" && c.Kerberos.PasswordFile == l.PasswordFile() && c.LDAP.BaseDN == "OU=Farm,"+BaseDN &&
				c.LDAP.SASLSecurity == "sign" && len(c.Farms) == 1 && c.Farms[0].Account == `CORP\svc_iispool` && len(c.Farms[0].Nodes) == 3
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "spnaudit.yaml")
			if err := l.WriteConfig(path, tc.set); err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(config.Options{File: path})
			if err != nil {
				t.Fatalf("config.Load: %v", err)
			}
			if !tc.check(cfg) {
				t.Errorf("config %+v", cfg)
			}
		})
	}
	if err := l.WriteConfig(filepath.Join(t.TempDir(), "x.yaml"), map[string]any{"ldap.urls.first": "x"}); err == nil {
		t.Error("a key below a value was accepted")
	}
}
