package config

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/spnaudit/spnaudit/audit"
)

const fullConfig = `
ldap:
  urls: [ldaps://dc1.example.test, ldaps://dc2.example.test:636]
  base_dn: DC=example,DC=test
  sasl_security: sign
  tls:
    ca_file: testdata/files/ca.pem
    server_name: dc.example.test
  page_size: 500
  timeout: 1m
kerberos:
  realm: example.test
  principal: svc-spnaudit
  keytab: testdata/files/test.keytab
scan:
  full_interval: 1d
  poll_interval: 30s
  timeout: 20m
audit:
  max_password_age: 90d12h
  resolve_dns: true
  kdc_default_enctypes: rc4
  ignore:
    - rule: ghost-spn
      spn: "HTTP/old-*"
      reason: decommissioned in Q3, DNS cleanup pending
      owner: web-team
      until: 2026-09-30 # unquoted: YAML reads a timestamp
farms:
  - name: iis
    vip: svnlb301
    nodes: [svexpgg310, svexpgg311]
    dns_suffix: .example.test
    classes: [HTTP]
    account: svc-iis
    ports: [8443]
metrics:
  max_finding_series: 50
web:
  listen_address: 127.0.0.1:9700
  config_file: testdata/files/web.yml
log:
  level: warn
  format: json
`

func TestLoadValid(t *testing.T) {
	for _, tc := range []struct {
		name  string
		yaml  string
		env   map[string]string
		flags []string
		want  func(*Config) // edits Default() into the expected Config
	}{
		{
			name: "every key from the file",
			yaml: fullConfig,
			want: func(c *Config) {
				c.LDAP = LDAP{
					URLs: []string{"ldaps://dc1.example.test", "ldaps://dc2.example.test:636"}, BaseDN: "DC=example,DC=test",
					SASLSecurity: "sign", TLS: TLS{CAFile: "testdata/files/ca.pem", ServerName: "dc.example.test"},
					PageSize: 500, Timeout: time.Minute,
				}
				c.Kerberos = Kerberos{Realm: "EXAMPLE.TEST", Principal: "svc-spnaudit", Keytab: "testdata/files/test.keytab",
					KDCs: []string{"dc1.example.test", "dc2.example.test"}}
				c.Scan = Scan{FullInterval: 24 * time.Hour, PollInterval: 30 * time.Second, Timeout: 20 * time.Minute}
				c.Audit = Audit{MaxPasswordAge: 90*24*time.Hour + 12*time.Hour, ResolveDNS: true,
					Ignore: []audit.Suppression{{Rule: "ghost-spn", SPN: "HTTP/old-*", Reason: "decommissioned in Q3, DNS cleanup pending", Owner: "web-team", Until: "2026-09-30"}}}
				c.Audit.KDCDefaultEncTypes = audit.KDCDefaultRC4
				c.Farms = []audit.Farm{{Name: "iis", VIP: "svnlb301", Nodes: []string{"svexpgg310", "svexpgg311"}, DNSSuffix: ".example.test",
					Classes: []string{"HTTP"}, Account: "svc-iis", Ports: []int{8443}}}
				c.Metrics.MaxFindingSeries = 50
				c.Web = Web{ListenAddress: "127.0.0.1:9700", ConfigFile: "testdata/files/web.yml"}
				c.Log = Log{Level: "warn", Format: "json"}
			},
		},
		{
			name: "environment only, lists split at commas and spaces, realm from principal",
			env: map[string]string{
				"SPNAUDIT_LDAP_URLS":                     "ldap://dc1.example.test, ldap://dc2.example.test ldap://dc3.example.test",
				"SPNAUDIT_KERBEROS_PRINCIPAL":            "svc-spnaudit@example.test",
				"SPNAUDIT_KERBEROS_PASSWORD_FILE":        "testdata/files/password",
				"SPNAUDIT_KERBEROS_KDCS":                 "kdc1.example.test:88,kdc2.example.test",
				"SPNAUDIT_AUDIT_MAX_PASSWORD_AGE":        "180d",
				"SPNAUDIT_LDAP_PAGE_SIZE":                "250",
				"SPNAUDIT_LDAP_TLS_INSECURE_SKIP_VERIFY": "false",
			},
			want: func(c *Config) {
				c.LDAP.URLs = []string{"ldap://dc1.example.test", "ldap://dc2.example.test", "ldap://dc3.example.test"}
				c.LDAP.PageSize = 250
				c.Kerberos = Kerberos{Realm: "EXAMPLE.TEST", Principal: "svc-spnaudit@example.test",
					PasswordFile: "testdata/files/password", KDCs: []string{"kdc1.example.test:88", "kdc2.example.test"}}
				c.Audit.MaxPasswordAge = 180 * 24 * time.Hour
			},
		},
		{
			name: "environment overrides the file",
			yaml: fullConfig,
			env:  map[string]string{"SPNAUDIT_LOG_LEVEL": "error", "SPNAUDIT_LDAP_URLS": "ldaps://dc9.example.test"},
			want: func(c *Config) {
				*c = mustLoad(t, fullConfig)
				c.Log.Level = "error"
				c.LDAP.URLs = []string{"ldaps://dc9.example.test"}
				c.Kerberos.KDCs = []string{"dc9.example.test"}
			},
		},
		{
			name:  "flags override the environment, unset flags do not",
			yaml:  fullConfig,
			env:   map[string]string{"SPNAUDIT_LOG_LEVEL": "error"},
			flags: []string{"--log.level=debug"}, // --log.format keeps its default, logfmt, and must not win over json
			want: func(c *Config) {
				*c = mustLoad(t, fullConfig)
				c.Log = Log{Level: "debug", Format: "json"}
			},
		},
		{
			name: "FILE: ccache, krb5.conf, dotted and upper-case keys",
			yaml: `
ldap.urls: [ldap://dc1.example.test]
LDAP:
  Start_TLS: true
kerberos:
  realm: EXAMPLE.TEST
  ccache: FILE:testdata/files/test.keytab
  krb5_conf: testdata/files/krb5.conf
`,
			want: func(c *Config) {
				c.LDAP.URLs = []string{"ldap://dc1.example.test"}
				c.LDAP.StartTLS = true
				c.Kerberos = Kerberos{Realm: "EXAMPLE.TEST", CCache: "testdata/files/test.keytab", KRB5Conf: "testdata/files/krb5.conf"}
			},
		},
		{
			name: "no SASL layer on plain LDAP, accepted by allow_plaintext",
			yaml: `
ldap:
  urls: [ldap://dc1.example.test]
  sasl_security: none
  allow_plaintext: true
kerberos: {realm: EXAMPLE.TEST, principal: svc-spnaudit, keytab: testdata/files/test.keytab}
`,
			want: func(c *Config) {
				c.LDAP.URLs = []string{"ldap://dc1.example.test"}
				c.LDAP.SASLSecurity = "none"
				c.LDAP.AllowPlaintext = true
				c.Kerberos = Kerberos{Realm: "EXAMPLE.TEST", Principal: "svc-spnaudit", Keytab: "testdata/files/test.keytab", KDCs: []string{"dc1.example.test"}}
			},
		},
		{
			// TLS protects the answers: no SASL layer is needed (Windows DCs
			// refuse one over TLS).
			name: "no SASL layer over start_tls and ldaps",
			env:  map[string]string{"SPNAUDIT_LDAP_SASL_SECURITY": "none"},
			yaml: `
ldap:
  urls: [ldap://dc1.example.test]
  start_tls: true
kerberos: {realm: EXAMPLE.TEST, principal: svc-spnaudit, keytab: testdata/files/test.keytab}
`,
			want: func(c *Config) {
				c.LDAP.URLs = []string{"ldap://dc1.example.test"}
				c.LDAP.StartTLS = true
				c.LDAP.SASLSecurity = "none"
				c.Kerberos = Kerberos{Realm: "EXAMPLE.TEST", Principal: "svc-spnaudit", Keytab: "testdata/files/test.keytab", KDCs: []string{"dc1.example.test"}}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			file := ""
			if tc.yaml != "" {
				file = writeTemp(t, tc.yaml)
			}
			flags := pflag.NewFlagSet("test", pflag.ContinueOnError)
			flags.String("log.level", "info", "")
			flags.String("log.format", "logfmt", "")
			flags.Bool("quiet", false, "") // not a key: ignored
			if err := flags.Parse(tc.flags); err != nil {
				t.Fatal(err)
			}
			got, err := Load(Options{File: file, Flags: flags})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want := Default()
			tc.want(&want)
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("Load =\n%s\nwant\n%s", asJSON(*got), asJSON(want))
			}
		})
	}
}

func mustLoad(t *testing.T, yaml string) Config {
	t.Helper()
	c, err := Load(Options{File: writeTemp(t, yaml)})
	if err != nil {
		t.Fatal(err)
	}
	return *c
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "spnaudit.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func asJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30s", 30 * time.Second, true},
		{"1h30m", 90 * time.Minute, true},
		{"365d", 365 * day, true},
		{"1d12h", 36 * time.Hour, true},
		{" 2d ", 2 * day, true},
		{"0", 0, true}, // time.ParseDuration's special case; validation rejects it where a positive value is needed
		{"d", 0, false},
		{"1.5d", 0, false},
		{"-1d", 0, false},
		{"1d-1h", 0, false},
		{"1dd", 0, false},
		{"1y", 0, false},
		{"ten days", 0, false},
	} {
		got, err := parseDuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for in, want := range map[time.Duration]string{
		365 * day: "365d", time.Hour: "1h", 15 * time.Second: "15s", 10 * time.Minute: "10m",
		90 * time.Minute: "1h30m", 36 * time.Hour: "36h", 0: "0s", 1500 * time.Millisecond: "1.5s",
	} {
		if got := formatDuration(in); got != want {
			t.Errorf("formatDuration(%v) = %q; want %q", in, got, want)
		}
	}
}

func TestSuggest(t *testing.T) {
	ldapKeys := fieldNames(reflect.TypeFor[LDAP]())
	for _, tc := range []struct {
		name, path string
		siblings   []string
		want       string
	}{
		{"ulrs", "ldap", ldapKeys, "ldap.urls"},          // transposition
		{"starttls", "ldap", ldapKeys, "ldap.start_tls"}, // deletion
		{"PAGE_SIZE", "ldap", ldapKeys, "ldap.page_size"},
		{"realm", "ldap", ldapKeys, "kerberos.realm"}, // right name, wrong section
		{"keytab", "", fieldNames(configType), "kerberos.keytab"},
		{"name", "", fieldNames(configType), "farms.name"},
		{"url", "", fieldNames(configType), ""}, // nothing close at the top, no key ends in "url"
		{"x", "ldap", ldapKeys, ""},
		{"level", "ldap", ldapKeys, "log.level"},
		{"timeout", "kerberos", fieldNames(reflect.TypeFor[Kerberos]()), ""}, // ldap.timeout and scan.timeout: ambiguous
	} {
		if got := suggest(tc.name, tc.path, tc.siblings); got != tc.want {
			t.Errorf("suggest(%q, %q) = %q; want %q", tc.name, tc.path, got, tc.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"urls", "urls", 0}, {"ulrs", "urls", 1}, {"url", "urls", 1},
		{"timeout", "tmeout", 1}, {"keytab", "ketyab", 1}, {"abc", "xyz", 3}, {"", "abc", 3},
	} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d; want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestKeys(t *testing.T) {
	keys := Keys()
	byName := map[string]Key{}
	for _, k := range keys {
		byName[k.Name] = k
	}
	for _, want := range []Key{
		{"ldap.urls", "SPNAUDIT_LDAP_URLS", ""},
		{"ldap.page_size", "SPNAUDIT_LDAP_PAGE_SIZE", "1000"},
		{"ldap.tls.insecure_skip_verify", "SPNAUDIT_LDAP_TLS_INSECURE_SKIP_VERIFY", "false"},
		{"audit.max_password_age", "SPNAUDIT_AUDIT_MAX_PASSWORD_AGE", "365d"},
		{"audit.kdc_default_enctypes", "SPNAUDIT_AUDIT_KDC_DEFAULT_ENCTYPES", "aes"},
		{"web.listen_address", "SPNAUDIT_WEB_LISTEN_ADDRESS", ":9688"},
	} {
		if got := byName[want.Name]; got != want {
			t.Errorf("Keys()[%s] = %+v; want %+v", want.Name, got, want)
		}
	}
	for _, fileOnly := range []string{"farms", "audit.ignore", "ldap", "ldap.tls"} {
		if _, ok := byName[fileOnly]; ok {
			t.Errorf("Keys() lists %s, which is not a scalar or list key", fileOnly)
		}
	}
	if first, last := keys[0].Name, keys[len(keys)-1].Name; first != "ldap.urls" || last != "log.format" {
		t.Errorf("Keys() from %s to %s; want declaration order, ldap.urls to log.format", first, last)
	}
}

func TestSummary(t *testing.T) {
	clearEnv(t)
	c := mustLoad(t, fullConfig)
	want := "2 URLs, auth=keytab as svc-spnaudit, realm=EXAMPLE.TEST, sasl_security=sign, " +
		"base_dn=DC=example,DC=test, 1 farm, 1 ignore rule, listen 127.0.0.1:9700"
	if got := c.Summary(); got != want {
		t.Errorf("Summary() =\n%s\nwant\n%s", got, want)
	}
}

func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	Log{Level: "warn", Format: "json"}.Logger(&buf).Info("hidden")
	Log{Level: "warn", Format: "json"}.Logger(&buf).Warn("shown", "err", "boom")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil || rec["msg"] != "shown" || rec["err"] != "boom" {
		t.Errorf("json logger wrote %q (%v)", buf.String(), err)
	}
	buf.Reset()
	Log{Level: "debug", Format: "logfmt"}.Logger(&buf).Debug("hello", "n", 1)
	if got := buf.String(); !strings.Contains(got, "level=DEBUG msg=hello n=1") {
		t.Errorf("logfmt logger wrote %q", got)
	}
}
