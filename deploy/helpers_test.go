package deploy

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/metrics"
)

var update = flag.Bool("update", false, "regenerate generated files (kubernetes/prometheusrule.yaml)")

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// exportedMetrics returns the names of the metrics the spnaudit collector
// exports once every kind of state has been reported.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	store := metrics.NewStore(metrics.Options{Rules: []string{"duplicate-spn"}, Stages: []string{"search"}, MaxFindingSeries: 10})
	store.SetLDAPUp("ldap://dc1.example.test", true)
	store.SetTGTExpiry(time.Now().Add(time.Hour))
	seen := time.Now().Add(-time.Hour)
	store.ScanSucceeded(inventory.FullScan,
		&inventory.Snapshot{NamingContexts: []string{"DC=example,DC=test"}},
		audit.Result{Findings: []audit.Finding{{Rule: "duplicate-spn", Severity: audit.SeverityHigh, SPN: "HTTP/a", Accounts: []string{"CN=a"},
			FirstSeen: &seen, ChangedAt: &seen, ChangedOn: "dc1.example.test"}}}, // the date series
	)
	store.ScanFailed(inventory.IncrementalScan, "search", nil)
	families, err := metrics.NewRegistry(store, metrics.NewSPNChanges()).Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range families {
		if strings.HasPrefix(f.GetName(), "spnaudit_") {
			names[f.GetName()] = true
		}
	}
	return names
}

// documentedMetrics returns the metric names that have a "## name" section in
// docs/metrics.md.
func documentedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^## `?([a-z_:][a-z0-9_:]*)`?\\s*$").FindAllSubmatch(readFile(t, filepath.Join("..", "docs", "metrics.md")), -1) {
		names[string(m[1])] = true
	}
	return names
}

// markdownAnchors returns the GitHub anchors of the headings of a markdown file.
func markdownAnchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	anchors := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#{1,6} +(.+?)\s*$`).FindAllSubmatch(readFile(t, path), -1) {
		anchors[githubAnchor(string(m[1]))] = true
	}
	return anchors
}

// githubAnchor mimics GitHub's heading anchors: lower case, punctuation other
// than - and _ removed, spaces as -.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || ('a' <= r && r <= 'z') || ('0' <= r && r <= '9'):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// checkMetricNames reports each metric an expression uses that the collector
// does not export or docs/metrics.md does not document; "up" is Prometheus's.
func checkMetricNames(t *testing.T, where, expr string, exported, documented map[string]bool) {
	t.Helper()
	names := metricNames(expr)
	if len(names) == 0 {
		t.Errorf("%s: %q selects no metric", where, expr)
	}
	for _, name := range names {
		if name == "up" {
			continue
		}
		if !exported[name] {
			t.Errorf("%s: %s is not exported by the spnaudit collector", where, name)
		}
		if !documented[name] {
			t.Errorf("%s: %s is not documented in docs/metrics.md", where, name)
		}
	}
}
