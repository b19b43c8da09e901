package demo

import (
	"iter"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// shownFinding is one finding as the landing page shows it.
type shownFinding struct {
	Rule, SPN, Fix string
}

// shownFindings reads the findings tables of the landing page: one
// table.findings per rule (data-rule), one tbody.finding per finding with its
// SPN in code.spn and its fix in tr.fix.
func shownFindings(t *testing.T, page string) []shownFinding {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatalf("parse landing page: %v", err)
	}
	var out []shownFinding
	for table := range elements(doc, "table", "findings") {
		rule := attr(table, "data-rule")
		for body := range elements(table, "tbody", "finding") {
			f := shownFinding{Rule: rule}
			for code := range elements(body, "code", "spn") {
				f.SPN = text(code)
			}
			for fix := range elements(body, "tr", "fix") {
				f.Fix = text(fix)
			}
			out = append(out, f)
		}
	}
	return out
}

// checkLandingPage asserts that the page shows the farm scenario's duplicate
// SPN with the setspn -D that fixes it, and no duplicate for the SPN that
// only lab/break adds.
func checkLandingPage(t *testing.T, page string) {
	t.Helper()
	findings := shownFindings(t, page)
	if len(findings) == 0 {
		t.Fatalf("landing page shows no findings table:\n%s", page)
	}
	if !hasFinding(findings, "duplicate-spn", farmDuplicate, "setspn -D "+farmDuplicate) {
		t.Errorf("landing page does not show duplicate-spn %s with its setspn -D fix; it shows %+v", farmDuplicate, findings)
	}
	if hasFinding(findings, "duplicate-spn", brokenDuplicate, "") {
		t.Errorf("landing page shows duplicate-spn %s before lab/break duplicate", brokenDuplicate)
	}
	if !hasFinding(findings, "farm-drift", farmDuplicate, "") {
		t.Errorf("landing page does not show the farm-drift of %s (configured farm intranet); it shows %+v", farmDuplicate, findings)
	}
}

// hasFinding reports whether a finding of rule for spn is shown whose fix
// contains fix.
func hasFinding(findings []shownFinding, rule, spn, fix string) bool {
	for _, f := range findings {
		if f.Rule == rule && strings.EqualFold(f.SPN, spn) && strings.Contains(f.Fix, fix) {
			return true
		}
	}
	return false
}

// elements yields the descendants of n named tag that have class class.
func elements(n *html.Node, tag, class string) iter.Seq[*html.Node] {
	return func(yield func(*html.Node) bool) {
		for d := range n.Descendants() {
			if d.Type == html.ElementNode && d.Data == tag && hasClass(d, class) && !yield(d) {
				return
			}
		}
	}
}

func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return strings.TrimSpace(b.String())
}
