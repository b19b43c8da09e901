package main

import (
	"encoding/csv"
	"encoding/json"
	"flag"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/report"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// farmLDIF is the IIS farm scenario exported from the lab DC.
const farmLDIF = "testdata/farm.ldif"

// farmConfig is a configuration (not used to connect) with the farm's
// desired state and extra YAML.
func farmConfig(t *testing.T, extra string) string {
	t.Helper()
	return labConfig(t, `farms:
  - name: intranet
    vip: svnlb301
    nodes: [svexpgg310, svexpgg311, svexpgg312]
    dns_suffix: corp.example.test
    classes: [HTTP]
    account: svc_iispool
`+extra)
}

// rulesOf counts the findings of a JSON report by rule.
func rulesOf(t *testing.T, out string) (map[string]int, report.Document) {
	t.Helper()
	var doc report.Document
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not a JSON report: %v\n%s", err, out)
	}
	rules := map[string]int{}
	for _, f := range doc.Findings {
		rules[f.Rule]++
	}
	return rules, doc
}

// farmRules are the findings of the farm export without farms configured.
var farmRules = map[string]int{
	"duplicate-spn":            1, // HTTP/svexpgg311.corp.example.test on the pool and the machine
	"host-alias-conflict":      5, // the pool's node SPNs, except the duplicated one
	"missing-spn-pair":         1, // svc_intranet: HTTP/intranet without its DNS form
	"ghost-spn":                1, // oldsql01
	"kerberoastable-account":   3, // svc_iispool, svc_intranet, svc_backup
	"unconstrained-delegation": 1, // APP01$
	"disabled-account-spn":     1, // svc_legacy
}

func TestScanLDIF(t *testing.T) {
	clearEnv(t)
	withFarm := maps.Clone(farmRules)
	withFarm["farm-drift"] = 1 // HTTP/svexpgg311.corp.example.test also on the machine
	for _, tc := range []struct {
		name   string
		args   []string
		status int
		rules  map[string]int
		// suppressed findings
		suppressed int
		stderr     string // a warning expected on stderr, "" for none
	}{
		{"high findings fail by default", []string{"--format", "json"}, 1, farmRules, 0, ""},
		{"fail on critical: there is none", []string{"--format", "json", "--fail-on", "critical"}, 0, farmRules, 0, ""},
		{"fail on low", []string{"--format", "json", "--fail-on", "LOW"}, 1, farmRules, 0, ""},
		{"fail on none", []string{"--format", "json", "--fail-on", "none"}, 0, farmRules, 0, ""},
		{"farms from the configuration", []string{"--format", "json", "--config", farmConfig(t, "")}, 1, withFarm, 0, ""},
		{
			// The LDIF's snapshot time is the reference, not the clock.
			"an expired suppression suppresses nothing and is reported",
			[]string{"--format", "json", "--fail-on", "none", "--config", farmConfig(t, `audit:
  ignore:
    - {rule: ghost-spn, spn: "*", reason: retired, owner: web-team, until: 2001-01-01}
`)},
			0, withFarm, 0, // ghost-spn still reported
			`spnaudit: warning: audit.ignore entry for rule ghost-spn (owner web-team) expired after 2001-01-01: it no longer suppresses findings; renew its until date or remove it`,
		},
		{
			"suppressed findings are counted, and do not fail",
			[]string{"--format", "json", "--config", farmConfig(t, `audit:
  ignore:
    - {rule: duplicate-spn, spn: "http/SVEXPGG311.*", reason: being moved, owner: web-team}
    - {rule: "farm-*", spn: "HTTP/svexpgg311.corp.example.test", reason: being moved, owner: web-team}
    - {rule: kerberoastable-account, account: "CORP\\svc_backup", reason: 30-character password, owner: web-team}
    - {rule: unconstrained-delegation, account: "CN=APP01,OU=Farm,*", reason: legacy app, owner: web-team}
`)},
			0, // every high finding is suppressed
			map[string]int{"host-alias-conflict": 5, "missing-spn-pair": 1, "ghost-spn": 1, "kerberoastable-account": 2, "disabled-account-spn": 1},
			4, "",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := spnaudit(t, false, append([]string{"scan", "--ldif", farmLDIF}, tc.args...)...)
			if r.status != tc.status || strings.TrimSuffix(r.stderr, "\n") != tc.stderr {
				t.Fatalf("status %d, stderr %q; want %d and %q", r.status, r.stderr, tc.status, tc.stderr)
			}
			rules, doc := rulesOf(t, r.stdout)
			if !maps.Equal(rules, tc.rules) {
				t.Errorf("findings by rule %v; want %v", rules, tc.rules)
			}
			if doc.Suppressed != tc.suppressed || doc.Scan.Objects != 8 || doc.Scan.SPNs != 20 || !slices.Equal(doc.Scan.Domains, []string{"corp.example.test"}) {
				t.Errorf("suppressed %d, scan %+v; want %d suppressed, 8 objects, 20 SPNs, corp.example.test", doc.Suppressed, doc.Scan, tc.suppressed)
			}
		})
	}
}

func TestScanFormats(t *testing.T) {
	clearEnv(t)
	for _, tc := range []struct {
		format string
		check  func(t *testing.T, out string)
	}{
		{"table", func(t *testing.T, out string) {
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if !strings.HasPrefix(lines[0], "duplicate-spn: 1 finding") ||
				!strings.HasPrefix(lines[len(lines)-1], "13 findings: 3 high, 9 medium, 1 low in ") {
				t.Errorf("table: first line %q, last %q", lines[0], lines[len(lines)-1])
			}
		}},
		{"csv", func(t *testing.T, out string) {
			rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil || len(rows) != 14 || rows[0][0] != "rule" {
				t.Errorf("csv: %d rows, err %v", len(rows), err)
			}
		}},
		{"sarif", func(t *testing.T, out string) {
			var log struct {
				Version string `json:"version"`
				Runs    []struct {
					Results []json.RawMessage `json:"results"`
				} `json:"runs"`
			}
			if err := json.Unmarshal([]byte(out), &log); err != nil || log.Version != "2.1.0" || len(log.Runs) != 1 || len(log.Runs[0].Results) != 13 {
				t.Errorf("sarif: %+v, err %v", log, err)
			}
		}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			r := spnaudit(t, false, "scan", "--ldif", farmLDIF, "--format", tc.format)
			if r.status != 1 || r.stderr != "" {
				t.Fatalf("status %d, stderr %q; want 1 and nothing", r.status, r.stderr)
			}
			tc.check(t, r.stdout)
		})
	}
}

func TestScanColor(t *testing.T) {
	clearEnv(t)
	t.Setenv("NO_COLOR", "")
	r := spnaudit(t, true, "scan", "--ldif", farmLDIF)
	if !strings.HasPrefix(r.stdout, "\x1b[1mduplicate-spn\x1b[0m") {
		t.Errorf("on a terminal the rules are not bold: %.40q", r.stdout)
	}
	if r = spnaudit(t, false, "scan", "--ldif", farmLDIF); strings.Contains(r.stdout, "\x1b") {
		t.Errorf("colour when stdout is not a terminal: %.40q", r.stdout)
	}
}

// TestCommandErrors: bad flags and inputs give one line with the fix and
// status 2, before any directory is contacted.
func TestCommandErrors(t *testing.T) {
	clearEnv(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"scan", "--ldif", farmLDIF, "--format", "xml"}, `spnaudit: unknown format "xml"; use one of table, json, csv, sarif`},
		{[]string{"inventory", "--ldif", farmLDIF, "--format", "csv"}, `spnaudit: unknown format "csv"; use one of table, json`},
		{[]string{"scan", "--ldif", farmLDIF, "--fail-on", "severe"}, `spnaudit: --fail-on "severe" is not a severity; use one of critical, high, medium, low, info, none`},
		{[]string{"scan", "--ldif", "testdata/nonexistent.ldif"}, `spnaudit: --ldif: open testdata/nonexistent.ldif: no such file or directory; give the path of an LDIF export`},
		{[]string{"scan", "--ldif", "testdata"}, `spnaudit: --ldif testdata: is a directory; give the path of an LDIF export`},
		{[]string{"scan"}, `spnaudit: config: ldap.urls: not set; list your domain controllers, e.g. [ldaps://dc1.example.test] (and 2 more problems; run ` + "`spnaudit config check`" + ` to list them)`},
		{[]string{"scan", "extra"}, `spnaudit: unknown command "extra" for "spnaudit scan"; see 'spnaudit scan --help'`},
		{[]string{"check", "--ldif", farmLDIF, "HTTP/web01"}, `spnaudit: --account is missing; name the account that would hold the SPN, e.g. --account 'CORP\svc_web'`},
		{[]string{"check", "--ldif", farmLDIF, "--account", "svc"}, `spnaudit: accepts 1 arg(s), received 0; see 'spnaudit check --help'`},
		{[]string{"plan", "--ldif", farmLDIF}, `spnaudit: the configuration describes no farm; add a farms: entry (name, vip, nodes, dns_suffix, classes, account), see 'spnaudit plan --help'`},
	} {
		r := spnaudit(t, false, tc.args...)
		if r.status != 2 || r.stdout != "" || r.stderr != tc.want+"\n" {
			t.Errorf("%v: status %d, stdout %.60q, stderr %q; want 2, nothing, %q", tc.args, r.status, r.stdout, r.stderr, tc.want)
		}
	}
}

func TestParseFailOn(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"critical", 4, true}, {"High", 3, true}, {"medium", 2, true}, {"low", 1, true}, {"info", 0, true},
		{"none", 5, true}, {"", 0, false}, {"warning", 0, false},
	} {
		got, err := parseFailOn(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("parseFailOn(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
