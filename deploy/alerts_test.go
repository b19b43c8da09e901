package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/spnaudit/spnaudit/internal/promtooltest"
)

const (
	alertsFile     = "prometheus/alerts.yml"
	alertTestsFile = "prometheus/alerts_test.yml"
	runbookBaseURL = "https://github.com/spnaudit/spnaudit/blob/main/docs/runbooks.md#"
)

// requiredAlerts are the alerts issue 4 asks for by name.
var requiredAlerts = []string{
	"DuplicateSPN", "SPNHostAliasConflict", "GhostSPN", "SPNAuditScanFailing", "SPNAuditStale", "KerberosTicketExpiring",
}

type ruleFile struct {
	Groups []ruleGroup `yaml:"groups"`
}

type ruleGroup struct {
	Name     string `yaml:"name"`
	Interval string `yaml:"interval,omitempty"`
	Rules    []rule `yaml:"rules"`
}

type rule struct {
	Alert       string            `yaml:"alert,omitempty"`
	Record      string            `yaml:"record,omitempty"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

func loadAlerts(t *testing.T) ruleFile {
	t.Helper()
	var f ruleFile
	if err := yaml.Unmarshal(readFile(t, alertsFile), &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f ruleFile) alerts() []rule {
	var out []rule
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				out = append(out, r)
			}
		}
	}
	return out
}

func TestAlertRulesPassPromtool(t *testing.T) {
	if out, err := promtooltest.Run(t, nil, "check", "rules", alertsFile); err != nil {
		t.Errorf("promtool check rules: %v\n%s", err, out)
	}
	if out, err := promtooltest.Run(t, nil, "test", "rules", alertTestsFile); err != nil {
		t.Errorf("promtool test rules: %v\n%s", err, out)
	}
}

func TestPrometheusExampleConfigIsValid(t *testing.T) {
	dir := t.TempDir()
	// prometheus.yml loads the rules as spnaudit-alerts.yml, as installed.
	for src, dst := range map[string]string{"prometheus/prometheus.yml": "prometheus.yml", alertsFile: "spnaudit-alerts.yml"} {
		if err := os.WriteFile(filepath.Join(dir, dst), readFile(t, src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := promtooltest.Run(t, nil, "check", "config", filepath.Join(dir, "prometheus.yml")); err != nil {
		t.Errorf("promtool check config: %v\n%s", err, out)
	}
}

func TestAlertRulesAreComplete(t *testing.T) {
	alerts := loadAlerts(t).alerts()
	byName := map[string]rule{}
	for _, a := range alerts {
		if _, dup := byName[a.Alert]; dup {
			t.Errorf("alert %s defined twice", a.Alert)
		}
		byName[a.Alert] = a
	}
	for _, name := range requiredAlerts {
		if _, ok := byName[name]; !ok {
			t.Errorf("required alert %s is missing", name)
		}
	}
	anchors := markdownAnchors(t, filepath.Join("..", "docs", "runbooks.md"))
	exported, documented := exportedMetrics(t), documentedMetrics(t)
	for _, a := range alerts {
		if a.For == "" {
			t.Errorf("%s: no for", a.Alert)
		}
		switch a.Labels["severity"] {
		case "critical", "warning", "info":
		default:
			t.Errorf("%s: severity label %q, want critical, warning or info", a.Alert, a.Labels["severity"])
		}
		for _, key := range []string{"summary", "description", "runbook_url"} {
			if a.Annotations[key] == "" {
				t.Errorf("%s: no %s annotation", a.Alert, key)
			}
		}
		anchor := strings.ToLower(a.Alert)
		if a.Annotations["runbook_url"] != runbookBaseURL+anchor {
			t.Errorf("%s: runbook_url %q, want %s", a.Alert, a.Annotations["runbook_url"], runbookBaseURL+anchor)
		}
		if !anchors[anchor] {
			t.Errorf("%s: docs/runbooks.md has no section #%s", a.Alert, anchor)
		}
		// Finding alerts must tell which SPN and account without a lookup.
		if strings.Contains(a.Expr, "spnaudit_finding_info") {
			text := a.Annotations["summary"] + a.Annotations["description"]
			for _, label := range []string{"$labels.spn", "$labels.account"} {
				if !strings.Contains(text, label) {
					t.Errorf("%s: summary and description do not use %s", a.Alert, label)
				}
			}
		}
		checkMetricNames(t, a.Alert, a.Expr, exported, documented)
	}
}

type ruleTests struct {
	Tests []struct {
		AlertRuleTest []struct {
			Alertname string           `yaml:"alertname"`
			ExpAlerts []map[string]any `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

func TestEveryAlertFiresAndStaysSilentInUnitTests(t *testing.T) {
	var tests ruleTests
	if err := yaml.Unmarshal(readFile(t, alertTestsFile), &tests); err != nil {
		t.Fatal(err)
	}
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, art := range tc.AlertRuleTest {
			if len(art.ExpAlerts) > 0 {
				fires[art.Alertname] = true
			} else {
				silent[art.Alertname] = true
			}
		}
	}
	for _, a := range loadAlerts(t).alerts() {
		if !fires[a.Alert] {
			t.Errorf("%s: no unit test where it fires", a.Alert)
		}
		if !silent[a.Alert] {
			t.Errorf("%s: no unit test where it must not fire", a.Alert)
		}
	}
}

// Mutation check: each alert's unit tests must notice when the alert can no
// longer fire, or fires on anything.
func TestRuleUnitTestsCatchBrokenRules(t *testing.T) {
	promtooltest.Path(t)
	mutations := map[string]string{
		"never fires":          "vector(0) > 1",
		"fires on any finding": `spnaudit_finding_info == 1 or spnaudit_scan_success >= 0 or up >= 0`,
	}
	original := loadAlerts(t)
	for _, a := range original.alerts() {
		for mutation, expr := range mutations {
			t.Run(a.Alert+"/"+mutation, func(t *testing.T) {
				t.Parallel()
				broken := mutate(t, original, a.Alert, expr)
				dir := t.TempDir()
				if err := os.WriteFile(filepath.Join(dir, "alerts.yml"), broken, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "alerts_test.yml"), readFile(t, alertTestsFile), 0o644); err != nil {
					t.Fatal(err)
				}
				if out, err := promtooltest.Run(t, nil, "test", "rules", filepath.Join(dir, "alerts_test.yml")); err == nil {
					t.Errorf("promtool test rules passed with %s's expr replaced by %q:\n%s", a.Alert, expr, out)
				}
			})
		}
	}
}

// mutate returns the rule file with alert's expression replaced.
func mutate(t *testing.T, f ruleFile, alert, expr string) []byte {
	t.Helper()
	out := ruleFile{}
	for _, g := range f.Groups {
		ng := g
		ng.Rules = nil
		for _, r := range g.Rules {
			if r.Alert == alert {
				r.Expr = expr
			}
			ng.Rules = append(ng.Rules, r)
		}
		out.Groups = append(out.Groups, ng)
	}
	data, err := yaml.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
