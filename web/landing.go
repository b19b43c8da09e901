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

// html/template escapes every value by context: SPNs, DNs and error texts
// come from the directory and may hold markup.
var landingTemplate = template.Must(template.New("landing").Parse(landingSource))

// maxRowsPerRule caps the findings the landing page shows per rule: a large
// directory has tens of thousands, which would make a page of many megabytes.
// The rest are counted and served by /api/v1/findings.
const maxRowsPerRule = 50

// landingCSP forbids scripts, plugins, frames and remote loads outright, a
// second line of defence should a hostile string ever get through escaping.
const landingCSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

type landingPage struct {
	Build       metrics.BuildInfo
	Now         string
	Health      healthView
	Scan        *report.Scan // nil before the first successful scan
	Suppressed  int
	Truncated   bool
	MaxSeries   int
	Groups      []ruleGroup
	NumFindings int
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

type ruleGroup struct {
	Rule     string
	Severity audit.Severity // the most severe of the group
	Total    int            // findings of the rule
	Findings []findingRow   // the first maxRowsPerRule of them
	More     int            // findings not shown
}

type findingRow struct {
	Severity    audit.Severity
	SPN         string
	Accounts    []accountView
	Message     string
	Remediation string
	References  []string
	// Dates says since when the finding exists and when its SPNs last
	// changed (dates.go); "" when neither is known.
	Dates string
}

type accountView struct {
	Name string // NETBIOS\sAMAccountName, or the DN when unknown
	DN   string
}

func serveLanding(w http.ResponseWriter, st metrics.Status, logger *slog.Logger) {
	page := newLandingPage(st)
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

func newLandingPage(st metrics.Status) landingPage {
	now := st.Now
	page := landingPage{
		Build:     st.Build,
		Now:       formatTime(now),
		MaxSeries: st.MaxFindingSeries,
		Health: healthView{
			Ready:     st.Published != nil,
			Attempted: st.LastScan.Attempted,
			OK:        st.LastScan.OK,
			Mode:      st.LastScan.Mode,
			At:        formatTime(st.LastScan.At),
			Ago:       formatAge(now.Sub(st.LastScan.At)),
			Stage:     st.LastScan.Stage,
			Err:       st.LastScan.Err,
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
	page.NumFindings = len(v.Document.Findings)
	page.Groups = groupByRule(v.Document.Findings, v.AccountNames, now)
	return page
}

// groupByRule shows each rule's most severe findings, at most
// maxRowsPerRule, with the exact total.
func groupByRule(findings []audit.Finding, names map[string]string, now time.Time) []ruleGroup {
	var groups []ruleGroup
	for _, fs := range report.GroupByRule(findings) {
		g := ruleGroup{Rule: fs[0].Rule, Severity: fs[0].Severity, Total: len(fs), More: max(0, len(fs)-maxRowsPerRule)}
		for _, f := range fs[:min(len(fs), maxRowsPerRule)] {
			row := findingRow{
				Severity:    f.Severity,
				SPN:         f.SPN,
				Message:     f.Message,
				Remediation: strings.Join(f.Remediation, "\n"),
				References:  f.References,
				Dates:       findingDates(f, now),
			}
			for _, dn := range f.Accounts {
				row.Accounts = append(row.Accounts, accountView{Name: names[dn], DN: dn})
			}
			g.Findings = append(g.Findings, row)
		}
		groups = append(groups, g)
	}
	return groups
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// formatAge renders a duration to the second.
func formatAge(d time.Duration) string { return d.Round(time.Second).String() }
