package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/internal/golden"
	"github.com/spnaudit/spnaudit/internal/unprivileged"
)

// validBase is a complete, valid ldap and kerberos section for cases about
// the other sections.
const validBase = `
ldap:
  urls: [ldaps://dc1.example.test]
kerberos:
  realm: EXAMPLE.TEST
  principal: svc-spnaudit
  keytab: testdata/files/test.keytab
`

// badConfigs each hold at least one problem. Their messages are pinned in
// testdata/problems.golden.
var badConfigs = []struct {
	name string
	yaml string // "" means no --config file
	file string // --config path when yaml is ""
	env  map[string]string
}{
	{name: "no configuration at all"},
	{name: "config file missing", file: "testdata/does-not-exist.yaml"},
	{name: "empty file", yaml: "\n"},
	{name: "YAML syntax error", yaml: "ldap:\n  urls: [ldaps://dc1\nkerberos:\n"},
	{name: "file is a list", yaml: "- ldap\n- kerberos\n"},
	{name: "duplicate key", yaml: validBase + "log:\n  level: info\n  level: debug\n"},
	{name: "unknown keys", yaml: `
ldap:
  ulrs: [ldaps://dc1.example.test]
  urls: [ldaps://dc1.example.test]
  tls:
    cafile: testdata/files/ca.pem
  page_size.max: 10
kerberos:
  realm: EXAMPLE.TEST
  principal: svc-spnaudit
  keytab: testdata/files/test.keytab
  pasword: hunter2
realm: EXAMPLE.TEST
scan.pol_interval: 1m
farms:
  - name: web
    vip: web
    nodes: [web01]
    classes: [HTTP]
    acount: svc-iis
metrcs: {}
frobnicate: true
`},
	{name: "wrong types", yaml: `
ldap:
  urls: {first: ldaps://dc1.example.test}
  page_size: abc
  start_tls: maybe
  timeout: 30
kerberos:
  realm: EXAMPLE.TEST
  principal: svc-spnaudit
  keytab: testdata/files/test.keytab
farms: web
metrics:
  max_finding_series: [1]
`},
	{name: "bad URLs", yaml: `
ldap:
  urls:
    - ldpa://dc1.example.test
    - dc2.example.test:389
    - ldaps://10.0.0.1
    - ldap://dc3.example.test/DC=example,DC=test
    - ldap://dc4.example.test:0
    - ldaps://
    - LDAPS://dc5.example.test
    - ldaps://DC5.example.test
kerberos:
  realm: EXAMPLE.TEST
  principal: svc-spnaudit
  keytab: testdata/files/test.keytab
`},
	{name: "start_tls with ldaps", yaml: `
ldap:
  urls: [ldap://dc1.example.test, ldaps://dc2.example.test]
  start_tls: true
kerberos:
  realm: EXAMPLE.TEST
  principal: svc-spnaudit
  keytab: testdata/files/test.keytab
`},
	{name: "TLS settings without TLS", yaml: `
ldap:
  urls: [ldap://dc1.example.test]
  tls:
    ca_file: testdata/files/ca.pem
kerberos:
  realm: EXAMPLE.TEST
  principal: svc-spnaudit
  keytab: testdata/files/test.keytab
`},
	{name: "bad TLS settings", yaml: `
ldap:
  urls: [ldaps://dc1.example.test]
  tls:
    ca_file: testdata/files/not-a-cert.pem
    insecure_skip_verify: true
    server_name: "dc1 example test"
kerberos:
  realm: EXAMPLE.TEST
  principal: svc-spnaudit
  keytab: testdata/files/test.keytab
`},
	{name: "bad LDAP values", yaml: `
ldap:
  urls: [ldaps://dc1.example.test]
  page_size: 0
  sasl_security: encrypt
  base_dn: example.test
  service_principal: dc1.example.test
  timeout: 20m
kerberos:
  realm: EXAMPLE.TEST
  principal: svc-spnaudit
  keytab: testdata/files/test.keytab
`},
	{name: "no SASL layer on plain LDAP", yaml: `
ldap:
  urls: [ldaps://dc1.example.test, ldap://dc2.example.test]
  sasl_security: none
kerberos:
  realm: EXAMPLE.TEST
  principal: svc-spnaudit
  keytab: testdata/files/test.keytab
`},
	{name: "two credential sources", yaml: `
ldap:
  urls: [ldaps://dc1.example.test]
kerberos:
  realm: EXAMPLE.TEST
  principal: svc-spnaudit
  keytab: testdata/files/test.keytab
  ccache: testdata/files/test.keytab
`},
	{name: "missing keytab", yaml: `
ldap:
  urls: [ldaps://dc1.example.test]
kerberos:
  realm: EXAMPLE.TEST
  principal: svc-spnaudit
  keytab: testdata/files/missing.keytab
`},
	{name: "not a keytab", yaml: `
ldap:
  urls: [ldaps://dc1.example.test]
kerberos:
  realm: EXAMPLE.TEST
  principal: svc-spnaudit
  keytab: testdata/files/not-a-keytab
`},
	{name: "password written where its file belongs", yaml: `
ldap:
  urls: [ldaps://dc1.example.test]
kerberos:
  realm: EXAMPLE.TEST
  principal: svc-spnaudit
  password_file: S3cret-Passw0rd
`},
	{name: "empty password file", yaml: `
ldap:
  urls: [ldaps://dc1.example.test]
kerberos:
  realm: EXAMPLE.TEST
  principal: svc-spnaudit
  password_file: testdata/files/empty-password
`},
	{name: "keyring ccache", yaml: `
ldap:
  urls: [ldaps://dc1.example.test]
kerberos:
  realm: EXAMPLE.TEST
  ccache: KEYRING:persistent:1000
`},
	{name: "realm and principal disagree", yaml: `
ldap:
  urls: [ldaps://dc1.example.test]
kerberos:
  realm: EXAMPLE.TEST
  principal: svc-spnaudit@OTHER.TEST
  keytab: testdata/files/test.keytab
`},
	{name: "no principal and no realm", yaml: `
ldap:
  urls: [ldaps://dc1.example.test]
kerberos:
  keytab: testdata/files/test.keytab
`},
	{name: "bad principal and realm", yaml: `
ldap:
  urls: [ldaps://dc1.example.test]
kerberos:
  realm: EXAMPLE TEST
  principal: svc spnaudit
  keytab: testdata/files/test.keytab
`},
	{name: "krb5_conf and kdcs", yaml: `
ldap:
  urls: [ldaps://dc1.example.test]
kerberos:
  realm: EXAMPLE.TEST
  principal: svc-spnaudit
  keytab: testdata/files/test.keytab
  krb5_conf: testdata/files
  kdcs: [dc1.example.test, "dc2.example.test:0", "dc3.example.test:kerberos"]
`},
	{name: "bad DNS servers", yaml: validBase + `
audit:
  resolve_dns: true
  dns_servers: [10.0.0.10, "dc1.example.test:53", "dns://10.0.0.11", "10.0.0.12:domain"]
`},
	{name: "bad scan durations", yaml: validBase + `
scan:
  full_interval: 1 hour
  poll_interval: -5m
  timeout: 0s
`},
	{name: "poll interval not shorter than full interval", yaml: validBase + `
scan:
  full_interval: 1h
  poll_interval: 1d
`},
	{name: "bad audit settings", yaml: validBase + `
audit:
  max_password_age: 0d
  kdc_default_enctypes: des
  ignore:
    - rule: duplicate-spm
      spn: "HTTP/legacy*"
      reason: the legacy farm is being retired
      owner: web-team
    - rule: ghost-spn
      spn: "HTTP/[old"
    - account: "CN=svc-old*"
      reason: " "
    - rule: host-alias-conflict
      reason: accepted
      owner: web-team
    - rule: ghost-spn
      spn: "HTTP/old*"
      reason: retired
    - rule: ghost-spn
      spn: "HTTP/old*"
      reason: retired
      owner: web-team
      until: 31.12.2026
`},
	{name: "bad farms", yaml: validBase + `
farms:
  - name: iis
    vip: svnlb301
    nodes: [svexpgg310, svexpgg311, SVEXPGG310, "svexpgg 312"]
    dns_suffix: example..test
    classes: [HTTP, "HTTP/svnlb301", ""]
    account: svc-iis
    ports: [443, 0, 70000]
  - name: IIS
    vip: "http://svnlb302"
  - {}
`},
	{name: "bad iis config_files", yaml: validBase + `
iis:
  config_files:
    - svexpgg310=testdata/files/missing-applicationHost.config
    - testdata/files
    - "svexpgg311="
`},
	{name: "bad web, metrics and log settings", yaml: validBase + `
metrics:
  max_finding_series: -1
web:
  listen_address: localhost
  config_file: testdata/files/missing-web.yml
log:
  level: verbose
  format: text
`},
	{name: "bad environment", yaml: "", env: map[string]string{
		"SPNAUDIT_LDAP_URLS":              "ldaps://dc1.example.test, ldpa://dc2.example.test",
		"SPNAUDIT_LDAP_PAGE_SIZE":         "lots",
		"SPNAUDIT_LDAP_START_TLS":         "yes please",
		"SPNAUDIT_SCAN_FULL_INTERVAL":     "10",
		"SPNAUDIT_KERBEROS_PRINCIPAL":     "svc-spnaudit@EXAMPLE.TEST",
		"SPNAUDIT_KERBEROS_KEYTAB":        "testdata/files/test.keytab",
		"SPNAUDIT_AUDIT_MAX_PASSWORD_AGE": "1y",
	}},
}

func TestLoadReportsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	var out strings.Builder
	for i, tc := range badConfigs {
		clearEnv(t)
		for k, v := range tc.env {
			t.Setenv(k, v)
		}
		file := tc.file
		if tc.yaml != "" {
			file = filepath.Join(dir, fmt.Sprintf("case%02d.yaml", i))
			if err := os.WriteFile(file, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		cfg, err := Load(Options{File: file})
		var ps Problems
		if !errors.As(err, &ps) || len(ps) == 0 || cfg != nil {
			t.Errorf("%s: Load = %v, %v; want problems and no config", tc.name, cfg, err)
			continue
		}
		fmt.Fprintf(&out, "== %s ==\n", tc.name)
		for _, line := range ps.Lines() {
			fmt.Fprintln(&out, strings.ReplaceAll(line, dir+string(filepath.Separator), ""))
		}
	}
	golden.Compare(t, "testdata/problems.golden", []byte(out.String()))
}

// A password put in place of the password file's path never appears in a
// message.
func TestPasswordFileValueNotPrinted(t *testing.T) {
	clearEnv(t)
	for _, secret := range []string{"S3cret-Passw0rd", "testdata/files/empty-password", "testdata/files"} {
		t.Setenv("SPNAUDIT_LDAP_URLS", "ldaps://dc1.example.test")
		t.Setenv("SPNAUDIT_KERBEROS_PRINCIPAL", "svc@EXAMPLE.TEST")
		t.Setenv("SPNAUDIT_KERBEROS_PASSWORD_FILE", secret)
		_, err := Load(Options{})
		if err == nil {
			t.Fatalf("password_file %q: no problem reported", secret)
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(strings.Join(err.(Problems).Lines(), "\n"), secret) {
			t.Errorf("password_file value %q printed: %v", secret, err)
		}
	}
}

// TestUnreadableFile: a keytab the service's user cannot read is a "not
// readable" problem. Root reads every file, so as root (CI) the test runs
// again as nobody.
func TestUnreadableFile(t *testing.T) {
	if os.Geteuid() == 0 {
		unprivileged.Rerun(t)
		return
	}
	clearEnv(t)
	keytab := filepath.Join(t.TempDir(), "locked.keytab")
	if err := os.WriteFile(keytab, []byte{5, 2}, 0o000); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SPNAUDIT_LDAP_URLS", "ldaps://dc1.example.test")
	t.Setenv("SPNAUDIT_KERBEROS_PRINCIPAL", "svc@EXAMPLE.TEST")
	t.Setenv("SPNAUDIT_KERBEROS_KEYTAB", keytab)
	_, err := Load(Options{})
	if err == nil || !strings.Contains(err.Error(), "not readable") {
		t.Fatalf("Load = %v; want a not readable problem", err)
	}
}

func TestProblemsErrorIsOneLine(t *testing.T) {
	for _, tc := range []struct {
		ps   Problems
		want string
	}{
		{Problems{{"ldap.urls", "not set; list them"}}, "config: ldap.urls: not set; list them"},
		{Problems{{"ldap.urls", "not set; list them"}, {"log.level", "bad"}, {"log.format", "bad"}},
			"config: ldap.urls: not set; list them (and 2 more problems; run `spnaudit config check` to list them)"},
	} {
		if got := tc.ps.Error(); got != tc.want || strings.Contains(got, "\n") {
			t.Errorf("Error() = %q; want %q", got, tc.want)
		}
	}
}

// clearEnv hides SPNAUDIT_ variables of the environment running the tests.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, envPrefix+"_") {
			t.Setenv(name, "")
		}
	}
}
