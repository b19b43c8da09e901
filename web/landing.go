package web

import (
	"bytes"
	_ "embed"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/metrics"
	"github.com/spnaudit/spnaudit/report"
)

//go:embed landing.html.tmpl
var landingSource string

//go:embed farm.svg.tmpl
var farmSource string

// html/template escapes every value by context: SPNs, DNs and error texts
// come from the directory and may hold markup.
var landingTemplate = template.Must(template.Must(template.New("landing").Parse(landingSource)).Parse(farmSource))

// maxRowsPerRule caps the findings the landing page shows per rule: a large
// directory has tens of thousands, which would make a page of many megabytes.
// The rest are counted and served by /api/v1/findings.
const maxRowsPerRule = 50

// landingCSP forbids scripts, plugins, frames and remote loads outright, a
// second line of defence should a hostile string ever get through escaping;
// forms (the filters) may only submit to the page itself.
const landingCSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

type landingPage struct {
	Build       metrics.BuildInfo
	Now         string
	Health      healthView
	Scan        *report.Scan // nil before the first successful scan
	Suppressed  int
	Truncated   bool
	MaxSeries   int
	NumFindings int // every finding of the scan
	Summary     summaryView
	Filter      landingFilter
	FilterForm  filterForm
	Shown       int // findings the filter keeps
	// Groups are the shown findings by rule, or by account with view=account.
	Groups     []ruleGroup
	MoreGroups int // account view: accounts not shown
	Farms      []farmPicture
}

type healthView struct {
	Ready bool
	// Last scan, successful or not.
	Attempted bool
	OK        bool
	Mode      inventory.ScanMode
	At, Ago   string
	Stage     string
	Err       string
	// Last successful scan.
	SuccessAt, SuccessAgo string
	Servers               []serverView
	TGTExpiry, TGTIn      string
}

type serverView struct {
	Name string
	Up   bool
}

// summaryView counts every finding of the scan, whatever the filter, each
// count a link to the filtered view.
type summaryView struct {
	BySeverity []countView
	ByRule     []countView
}

type countView struct {
	Name     string
	Severity audit.Severity // the rule's most severe finding, for ByRule
	Count    int
	Link     string
}

// filterForm holds the choices of the filter form's selects.
type filterForm struct {
	Rules      []string
	Severities []audit.Severity
	ClearLink  string
}

// ruleGroup is one heading of findings: a rule's, or with view=account an
// account's.
type ruleGroup struct {
	Rule     string       // the rule, in the rule view
	Account  *accountView // the account, in the account view (nil: findings without one)
	ID       string       // the heading's anchor
	Severity audit.Severity
	Total    int          // findings of the group
	Findings []findingRow // the first maxRowsPerRule of them
	More     int          // findings not shown
}

// findingRow is one finding on the page. A column added to the findings
// tables is one more field here and one more cell in the "finding" template.
type findingRow struct {
	// ID is the finding's stable anchor (see anchors); Permalink a link to
	// it that survives re-scans and the row cap.
	ID, Permalink string
	FirstShowing  bool // false when the finding is shown again under another account
	Severity      audit.Severity
	Rule          string
	ShowRule      bool // the account view names each finding's rule
	SPN           string
	Accounts      []accountView
	Message       string
	Remediation   string
	References    []string
	// Dates says since when the finding exists and when its SPNs last
	// changed (dates.go); "" when neither is known.
	Dates string
}

type accountView struct {
	Name string // NETBIOS\sAMAccountName, or the DN when unknown
	DN   string
	Link string // the findings of this account
}

func serveLanding(w http.ResponseWriter, r *http.Request, st metrics.Status, farms []audit.Farm, logger *slog.Logger) {
	page := newLandingPage(st, parseFilter(r.URL.Query()), farms)
	var buf bytes.Buffer
	if err := landingTemplate.Execute(&buf, page); err != nil {
		logger.Error("rendering landing page", "err", err)
		http.Error(w, "rendering page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", landingCSP)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(buf.Bytes())
}

func newLandingPage(st metrics.Status, filter landingFilter, farms []audit.Farm) landingPage {
	now := st.Now
	page := landingPage{
		Build:     st.Build,
		Now:       formatTime(now),
		MaxSeries: st.MaxFindingSeries,
		Filter:    filter,
		FilterForm: filterForm{
			Rules:      audit.RuleIDs,
			Severities: audit.Severities,
			ClearLink:  landingFilter{View: filter.View}.query(nil),
		},
		Health: healthView{
			Ready:     st.Published != nil,
			Attempted: st.LastScan.Attempted,
			OK:        st.LastScan.OK,
			Mode:      st.LastScan.Mode,
			At:        formatTime(st.LastScan.At),
			Ago:       formatAge(now.Sub(st.LastScan.At)),
			Stage:     st.LastScan.Stage,
			Err:       displayText(st.LastScan.Err),
		},
	}
	for name, up := range st.LDAPUp {
		page.Health.Servers = append(page.Health.Servers, serverView{name, up})
	}
	slices.SortFunc(page.Health.Servers, func(a, b serverView) int { return strings.Compare(a.Name, b.Name) })
	if !st.TGTExpiry.IsZero() {
		page.Health.TGTExpiry = formatTime(st.TGTExpiry)
		page.Health.TGTIn = formatAge(st.TGTExpiry.Sub(now))
	}
	v := st.Published
	if v == nil {
		return page
	}
	page.Health.SuccessAt = formatTime(v.Succeeded)
	page.Health.SuccessAgo = formatAge(now.Sub(v.Succeeded))
	page.Scan = &v.Document.Scan
	page.Suppressed = v.Document.Suppressed
	page.Truncated = v.Truncated
	all := v.Document.Findings
	page.NumFindings = len(all)
	page.Summary = summarize(all, filter)
	shown := filter.apply(all, v.AccountNames)
	page.Shown = len(shown)
	ids := newAnchors()
	if filter.View == "account" {
		page.Groups, page.MoreGroups = groupByAccount(shown, v.AccountNames, filter, ids, now)
	} else {
		page.Groups = groupByRule(shown, v.AccountNames, filter, ids, now)
	}
	page.Farms = farmPictures(farms, all, v.AccountNames)
	return page
}

// summarize counts the findings by severity and by rule, most severe first.
func summarize(findings []audit.Finding, filter landingFilter) summaryView {
	var sum summaryView
	bySeverity := make(map[audit.Severity]int)
	ruleIndex := make(map[string]int)
	for i := range findings {
		f := &findings[i]
		bySeverity[f.Severity]++
		j, ok := ruleIndex[f.Rule]
		if !ok {
			j = len(sum.ByRule)
			ruleIndex[f.Rule] = j
			sum.ByRule = append(sum.ByRule, countView{Name: f.Rule, Severity: f.Severity,
				Link: landingFilter{Rule: f.Rule, View: filter.View}.query(nil)})
		}
		sum.ByRule[j].Count++
		if f.Severity.Rank() > sum.ByRule[j].Severity.Rank() {
			sum.ByRule[j].Severity = f.Severity
		}
	}
	for _, s := range audit.Severities {
		if n := bySeverity[s]; n > 0 {
			sum.BySeverity = append(sum.BySeverity, countView{Name: string(s), Severity: s, Count: n,
				Link: landingFilter{Severity: string(s), View: filter.View}.query(nil)})
		}
	}
	slices.SortStableFunc(sum.ByRule, func(a, b countView) int { return b.Severity.Rank() - a.Severity.Rank() })
	return sum
}

// groupByRule shows each rule's most severe findings, at most
// maxRowsPerRule, with the exact total.
func groupByRule(findings []*audit.Finding, names map[string]string, filter landingFilter, ids *anchors, now time.Time) []ruleGroup {
	var groups []ruleGroup
	index := make(map[string]int)
	for _, f := range findings {
		j, ok := index[f.Rule]
		if !ok {
			j = len(groups)
			index[f.Rule] = j
			groups = append(groups, ruleGroup{Rule: f.Rule, ID: "rule-" + f.Rule, Severity: f.Severity})
		}
		g := &groups[j]
		g.Total++
		if len(g.Findings) < maxRowsPerRule {
			g.Findings = append(g.Findings, newFindingRow(f, names, filter, ids, now))
		} else {
			g.More++
		}
	}
	return groups
}

// maxAccountGroups caps the accounts of the account view: a forest's
// Kerberoastable accounts alone may number thousands.
const maxAccountGroups = 100

// groupByAccount shows the findings under each account they name, accounts
// in the order of their most severe finding; a finding naming two accounts
// is under both.
func groupByAccount(findings []*audit.Finding, names map[string]string, filter landingFilter, ids *anchors, now time.Time) ([]ruleGroup, int) {
	var groups []ruleGroup
	index := make(map[string]int)
	add := func(dn string, f *audit.Finding) {
		j, ok := index[dn]
		if !ok {
			j = len(groups)
			index[dn] = j
			g := ruleGroup{Severity: f.Severity, ID: "account-" + anchorHash(dn)}
			if dn != "" {
				g.Account = &accountView{Name: displayText(nameOf(dn, names)), DN: displayText(dn),
					Link: filter.query(map[string]string{"account": dn})}
			}
			groups = append(groups, g)
		}
		g := &groups[j]
		g.Total++
		if j >= maxAccountGroups {
			return
		}
		if len(g.Findings) < maxRowsPerRule {
			g.Findings = append(g.Findings, newFindingRow(f, names, filter, ids, now))
		} else {
			g.More++
		}
	}
	for _, f := range findings {
		if len(f.Accounts) == 0 {
			add("", f)
		}
		for _, dn := range f.Accounts {
			add(dn, f)
		}
	}
	if len(groups) > maxAccountGroups {
		return groups[:maxAccountGroups], len(groups) - maxAccountGroups
	}
	return groups, 0
}

// permalink is a link to the finding that survives re-scans and the row
// cap: the page filtered to its rule and SPN (or, without an SPN, its first
// account), at its anchor.
func permalink(f *audit.Finding, view, id string) string {
	q := landingFilter{Rule: f.Rule, SPN: f.SPN, View: view}
	if f.SPN == "" && len(f.Accounts) > 0 {
		q.Account = f.Accounts[0]
	}
	return q.query(nil) + "#" + id
}

func newFindingRow(f *audit.Finding, names map[string]string, filter landingFilter, ids *anchors, now time.Time) findingRow {
	id, first := ids.id(f)
	row := findingRow{
		ID:           id,
		FirstShowing: first,
		Permalink:    permalink(f, filter.View, id),
		Severity:     f.Severity,
		Rule:         f.Rule,
		ShowRule:     filter.View == "account",
		SPN:          displayText(f.SPN),
		Message:      displayText(f.Message),
		Remediation:  displayText(strings.Join(f.Remediation, "\n")),
		References:   f.References,
		Dates:        findingDates(*f, now),
	}
	for _, dn := range f.Accounts {
		row.Accounts = append(row.Accounts, accountView{Name: displayText(nameOf(dn, names)), DN: displayText(dn),
			Link: filter.query(map[string]string{"account": dn})})
	}
	return row
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// formatAge renders a duration to the second.
func formatAge(d time.Duration) string { return d.Round(time.Second).String() }
