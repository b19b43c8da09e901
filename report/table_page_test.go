package report

import (
	"fmt"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/audit"
)

// TestTablePagesEachRule checks that the table shows at most TablePage
// findings of a rule, with the exact count of the others, unless All is
// set; a rule under the page is shown whole either way.
func TestTablePagesEachRule(t *testing.T) {
	var findings []audit.Finding
	add := func(rule string, n int) {
		for i := range n {
			findings = append(findings, audit.Finding{Rule: rule, Severity: audit.SeverityMedium,
				SPN: fmt.Sprintf("HTTP/%s-%04d", rule, i), Message: "m"})
		}
	}
	add(audit.RuleGhostSPN, TablePage+1234)
	add(audit.RuleDuplicateSPN, 3)
	doc := NewDocument(scenarioSnapshot(), findings, 0)
	cases := []struct {
		all         bool
		ghostsShown int
		more        string
	}{
		{false, TablePage, "  ... and 1,234 more ghost-spn findings (--all shows every one)\n"},
		{true, TablePage + 1234, ""},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("all=%v", c.all), func(t *testing.T) {
			var out strings.Builder
			if err := WriteFindings(&out, doc, FormatTable, Options{All: c.all}); err != nil {
				t.Fatal(err)
			}
			text := out.String()
			if got := strings.Count(text, "HTTP/ghost-spn-"); got != c.ghostsShown {
				t.Errorf("%d ghost-spn findings shown, want %d", got, c.ghostsShown)
			}
			if got := strings.Count(text, "HTTP/duplicate-spn-"); got != 3 {
				t.Errorf("%d duplicate-spn findings shown, want 3", got)
			}
			if !strings.Contains(text, "ghost-spn: 1,284 findings\n") {
				t.Errorf("the ghost-spn header does not give the exact count:\n%.300s", text)
			}
			if c.more != "" && !strings.Contains(text, c.more) {
				t.Errorf("no line %q", c.more)
			}
			if c.more == "" && strings.Contains(text, "--all") {
				t.Errorf("--all suggested with every finding shown")
			}
		})
	}
}
