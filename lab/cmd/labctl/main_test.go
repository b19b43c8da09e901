package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/config"
	"github.com/spnaudit/spnaudit/lab"
)

// TestConfig: labctl config writes, through lab.WriteConfig, a configuration
// spnaudit loads, for the lab in SPNAUDIT_LAB_DIR, with the keys asked for.
func TestConfig(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SPNAUDIT_LAB_DIR", dir)
	l := &lab.Lab{Dir: dir}
	for path, content := range map[string]string{l.Keytab(): "\x05\x02", l.Krb5Conf(): "[libdefaults]\n", l.PasswordFile(): "secret\n"} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name  string
		args  []string
		check func(*config.Config) bool
	}{
		{"the lab's defaults", nil, func(c *config.Config) bool {
			return slices.Equal(c.LDAP.URLs, []string{lab.LDAPURL()}) && c.Kerberos.Keytab == l.Keytab() &&
				c.Kerberos.KRB5Conf == l.Krb5Conf() && c.Kerberos.Principal == lab.AuditUser+"@"+lab.Realm && len(c.Farms) == 0
		}},
		{"the demo's", []string{"--farm", "ldap.base_dn=OU=Farm," + lab.BaseDN, "scan.poll_interval=5s", "web.listen_address=127.0.0.1:9700"},
			func(c *config.Config) bool {
				return c.LDAP.BaseDN == "OU=Farm,"+lab.BaseDN && c.Scan.PollInterval == 5*time.Second &&
					c.Web.ListenAddress == "127.0.0.1:9700" && len(c.Farms) == 1 && c.Farms[0].Name == lab.FarmConfig()["name"] &&
					slices.Equal(c.Farms[0].Nodes, lab.FarmConfig()["nodes"].([]string))
			}},
		{"YAML values; an empty value removes the key", []string{
			"ldap.urls=[ldap://a.corp.example.test, ldap://b.corp.example.test]", "ldap.page_size=200", "ldap.start_tls=true",
			"kerberos.keytab=", "kerberos.password_file=" + l.PasswordFile(),
		}, func(c *config.Config) bool {
			return slices.Equal(c.LDAP.URLs, []string{"ldap://a.corp.example.test", "ldap://b.corp.example.test"}) &&
				c.LDAP.PageSize == 200 && c.LDAP.StartTLS && c.Kerberos.Keytab == "" && c.Kerberos.PasswordFile == l.PasswordFile()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "spnaudit.yaml")
			if err := run(context.Background(), append([]string{"config", path}, tc.args...)); err != nil {
				t.Fatalf("labctl config: %v", err)
			}
			cfg, err := config.Load(config.Options{File: path})
			if err != nil {
				t.Fatalf("spnaudit refuses the configuration: %v", err)
			}
			if !tc.check(cfg) {
				t.Errorf("configuration %+v", cfg)
			}
		})
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no path", []string{"config"}, "usage"},
		{"not key=value", []string{"config", filepath.Join(dir, "x.yaml"), "ldap.base_dn"}, `"ldap.base_dn" is not KEY=VALUE`},
		{"no key", []string{"config", filepath.Join(dir, "x.yaml"), "=x"}, `"=x" is not KEY=VALUE`},
		{"bad YAML", []string{"config", filepath.Join(dir, "x.yaml"), "ldap.urls=[a"}, "ldap.urls: "},
		{"key below a value", []string{"config", filepath.Join(dir, "x.yaml"), "ldap.urls.first=x"}, "is not a section"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(context.Background(), tc.args)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("labctl %q = %v, want an error with %q", tc.args, err, tc.want)
			}
			if _, statErr := os.Stat(filepath.Join(dir, "x.yaml")); statErr == nil {
				t.Error("a configuration was written despite the error")
			}
		})
	}
}
