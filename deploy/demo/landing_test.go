package demo

import (
	"iter"
	"net/url"
	"slices"
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

// filteredView is the landing page showing the high findings about the
// farm's duplicate only.
var filteredView = "/?severity=high&spn=" + url.QueryEscape(farmDuplicate)

// checkSummary asserts the summary above the findings: counts by severity and
// by rule, each a link to the filtered view, and the scan's health.
func checkSummary(t *testing.T, page string) {
	t.Helper()
	doc := parse(t, page)
	var severities, rules []string
	for table := range elements(doc, "table", "by-severity") {
		for tr := range elements(table, "tr", "") {
			if s := attr(tr, "data-severity"); s != "" {
				severities = append(severities, s)
			}
		}
	}
	for table := range elements(doc, "table", "by-rule") {
		for tr := range elements(table, "tr", "") {
			if r := attr(tr, "data-rule"); r != "" {
				rules = append(rules, r)
			}
		}
	}
	if !slices.Contains(severities, "high") || !slices.Contains(rules, "duplicate-spn") || !slices.Contains(rules, "farm-drift") {
		t.Errorf("summary: severities %q, rules %q", severities, rules)
	}
	if status := byID(doc, "scan-status"); status == nil || !strings.Contains(text(status), "succeeded") {
		t.Errorf("summary has no successful scan status")
	}
}

// checkFarmPicture asserts the picture of the farm imported from lab/iis:
// the VIP, the three nodes, the farm's account and the machine that also
// holds the duplicate, and the duplicate drawn in red on both.
func checkFarmPicture(t *testing.T, page string) {
	t.Helper()
	doc := parse(t, page)
	var svg *html.Node
	for n := range elements(doc, "svg", "farm") {
		if attr(n, "data-farm") == "intranet" {
			svg = n
		}
	}
	if svg == nil {
		t.Fatalf("no picture of farm intranet")
	}
	count := func(class string) (texts []string) {
		for g := range elements(svg, "g", class) {
			texts = append(texts, text(g))
		}
		return texts
	}
	if vip := count("vip"); len(vip) != 1 || !strings.Contains(vip[0], "svnlb301") {
		t.Errorf("VIP %q", vip)
	}
	if nodes := count("node"); len(nodes) != 3 {
		t.Errorf("nodes %q", nodes)
	}
	accounts := strings.Join(count("account"), "\n")
	for _, want := range []string{`CORP\svc_iispool`, `CORP\SVEXPGG311$`} {
		if !strings.Contains(accounts, want) {
			t.Errorf("no account %s in %q", want, accounts)
		}
	}
	red := 0
	for g := range elements(svg, "g", "spn-conflict") {
		if !strings.Contains(text(g), farmDuplicate) {
			continue
		}
		for rect := range elements(g, "rect", "") {
			if attr(rect, "stroke") == "#c92a2a" {
				red++
			}
		}
	}
	if red != 2 {
		t.Errorf("%s drawn in red %d times, want 2 (on svc_iispool and on SVEXPGG311$)", farmDuplicate, red)
	}
}

// checkFilteredView asserts that filteredView shows the duplicate-spn and
// farm-drift findings of the farm's duplicate and nothing else.
func checkFilteredView(t *testing.T, page string) {
	t.Helper()
	var got []string
	for _, f := range shownFindings(t, page) {
		got = append(got, f.Rule+" "+f.SPN)
	}
	slices.Sort(got)
	if want := []string{"duplicate-spn " + farmDuplicate, "farm-drift " + farmDuplicate}; !slices.Equal(got, want) {
		t.Errorf("%s shows %q, want %q", filteredView, got, want)
	}
	if !strings.Contains(page, "match the filter") {
		t.Errorf("%s does not say the findings are filtered", filteredView)
	}
}

func parse(t *testing.T, page string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatalf("parse landing page: %v", err)
	}
	return doc
}

func byID(doc *html.Node, id string) *html.Node {
	for d := range doc.Descendants() {
		if d.Type == html.ElementNode && attr(d, "id") == id {
			return d
		}
	}
	return nil
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

// elements yields the descendants of n named tag that have class class
// (any, when class is "").
func elements(n *html.Node, tag, class string) iter.Seq[*html.Node] {
	return func(yield func(*html.Node) bool) {
		for d := range n.Descendants() {
			if d.Type == html.ElementNode && d.Data == tag && (class == "" || hasClass(d, class)) && !yield(d) {
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
