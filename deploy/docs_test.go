package deploy

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// docs/metrics.md lists every label value of rule, severity and kind.
func TestMetricsDocListsLabelValues(t *testing.T) {
	doc := string(readFile(t, filepath.Join("..", "docs", "metrics.md")))
	var values []string
	values = append(values, audit.RuleIDs...)
	for _, s := range audit.Severities {
		values = append(values, string(s))
	}
	for _, k := range inventory.Kinds {
		values = append(values, string(k))
	}
	for _, v := range values {
		if !strings.Contains(doc, "`"+v+"`") {
			t.Errorf("docs/metrics.md does not list `%s`", v)
		}
	}
}
