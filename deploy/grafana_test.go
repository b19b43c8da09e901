package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/spnaudit/spnaudit/internal/promtooltest"
)

const dashboardFile = "grafana/spnaudit.json"

type dashboard struct {
	SchemaVersion int `json:"schemaVersion"`
	UID           string
	Title         string
	Templating    struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Datasource *datasourceRef  `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panel struct {
	ID         int            `json:"id"`
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	Datasource *datasourceRef `json:"datasource"`
	Targets    []struct {
		Expr       string         `json:"expr"`
		Datasource *datasourceRef `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // collapsed rows
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	var d dashboard
	dec := json.NewDecoder(strings.NewReader(string(readFile(t, dashboardFile))))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("%s is not valid JSON: %v", dashboardFile, err)
	}
	return d
}

func (d dashboard) allPanels() []panel {
	var out []panel
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// expressions returns every PromQL expression in the dashboard, with where it
// is, Grafana's own variables replaced so promtool can parse them.
func (d dashboard) expressions(t *testing.T) map[string]string {
	t.Helper()
	exprs := map[string]string{}
	for _, p := range d.allPanels() {
		for i, target := range p.Targets {
			exprs[fmt.Sprintf("panel %q target %d", p.Title, i)] = target.Expr
		}
	}
	labelValues := regexp.MustCompile(`^label_values\((.*),\s*[a-zA-Z_]+\)$`)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Fatalf("variable %s: %v", v.Name, err)
		}
		m := labelValues.FindStringSubmatch(q.Query)
		if m == nil {
			t.Fatalf("variable %s: query %q is not label_values(selector, label)", v.Name, q.Query)
		}
		exprs["variable "+v.Name] = m[1]
	}
	return exprs
}

func TestDashboardStructure(t *testing.T) {
	d := loadDashboard(t)
	if d.SchemaVersion < 36 || d.UID == "" || d.Title == "" {
		t.Errorf("schemaVersion %d, uid %q, title %q", d.SchemaVersion, d.UID, d.Title)
	}
	hasDatasourceVar := false
	for _, v := range d.Templating.List {
		if v.Type == "datasource" && v.Name == "datasource" {
			hasDatasourceVar = true
		}
		if v.Type == "query" && (v.Datasource == nil || v.Datasource.UID != "${datasource}") {
			t.Errorf("variable %s does not use ${datasource}", v.Name)
		}
	}
	if !hasDatasourceVar {
		t.Error("no datasource variable named datasource")
	}
	ids := map[int]bool{}
	for _, p := range d.allPanels() {
		if ids[p.ID] {
			t.Errorf("panel id %d used twice", p.ID)
		}
		ids[p.ID] = true
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" || p.Datasource.Type != "prometheus" {
			t.Errorf("panel %q: datasource %+v, want the ${datasource} variable", p.Title, p.Datasource)
		}
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for i, target := range p.Targets {
			if target.Datasource == nil || target.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q target %d: datasource %+v", p.Title, i, target.Datasource)
			}
		}
	}
	// The panels issue 4 asks for, by the metric they show.
	used := map[string]bool{}
	for _, expr := range d.expressions(t) {
		for _, name := range metricNames(expr) {
			used[name] = true
		}
	}
	for _, name := range []string{
		"spnaudit_findings", "spnaudit_finding_info", "spnaudit_scan_success", "spnaudit_scan_duration_seconds",
		"spnaudit_scan_last_success_timestamp_seconds", "spnaudit_scan_failures_total",
		"spnaudit_kerberos_tgt_expiry_timestamp_seconds",
	} {
		if !used[name] {
			t.Errorf("no panel shows %s", name)
		}
	}
}

func TestDashboardUsesOnlyDocumentedMetrics(t *testing.T) {
	exported, documented := exportedMetrics(t), documentedMetrics(t)
	for where, expr := range loadDashboard(t).expressions(t) {
		checkMetricNames(t, where, expr, exported, documented)
	}
}

// grafanaVariables are replaced by values promtool can parse.
var grafanaVariables = strings.NewReplacer("$__rate_interval", "1m", "$__interval", "1m", "$__range", "1h", "$job", ".+", "$instance", ".+")

// promtool parses every expression: each becomes a recording rule.
func TestDashboardExpressionsParse(t *testing.T) {
	promtooltest.Path(t)
	file := ruleFile{Groups: []ruleGroup{{Name: "dashboard"}}}
	for where, expr := range loadDashboard(t).expressions(t) {
		file.Groups[0].Rules = append(file.Groups[0].Rules, rule{
			Record: "dashboard:" + regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(where), "_"),
			Expr:   grafanaVariables.Replace(expr),
		})
	}
	data, err := yaml.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dashboard-rules.yml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := promtooltest.Run(t, nil, "check", "rules", path); err != nil {
		t.Errorf("promtool cannot parse the dashboard's expressions: %v\n%s", err, out)
	}
}

// docs/metrics.md documents exactly what the collector exports.
func TestMetricsDocMatchesCollector(t *testing.T) {
	exported, documented := exportedMetrics(t), documentedMetrics(t)
	for name := range exported {
		if !documented[name] {
			t.Errorf("%s is exported but has no section in docs/metrics.md", name)
		}
	}
	for name := range documented {
		if !exported[name] {
			t.Errorf("docs/metrics.md documents %s, which the collector does not export", name)
		}
	}
}
