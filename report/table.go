package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spnaudit/spnaudit/audit"
)

// The findings table: one block per rule, in the order the rules first
// appear (findings come most severe first), one entry per finding:
//
//	duplicate-spn: 2 findings
//	  CRITICAL  HOST/web01.example.test
//	            The SPN is registered on 2 objects; ...
//	  accounts  CN=WEB01,OU=Servers,DC=example,DC=test
//	  fix       setspn -D HOST/web01.example.test EXAMPLE\svc-iis
//
// Labels take 10 columns after a 2-column indent; values wrap in the rest.
const (
	labelIndent = "  "
	labelWidth  = 10
	valueWidth  = width - len(labelIndent) - labelWidth
)

// TablePage is how many findings of one rule the table shows without
// Options.All: past it a flood of one rule (a million ghost SPNs) would bury
// every other rule's findings, and a person reads no further (issue 9).
const TablePage = 50

func writeFindingsTable(w io.Writer, doc *Document, color, all bool) error {
	bw := bufio.NewWriter(w)
	p := painter(color)
	for i, group := range groupIndexesByRule(doc.Findings) {
		if i > 0 {
			bw.WriteString("\n")
		}
		rule := doc.Findings[group[0]].Rule
		fmt.Fprintf(bw, "%s: %s\n", p.paint(styleBold, rule), count(len(group), "finding"))
		shown := len(group)
		if !all {
			shown = min(shown, TablePage)
		}
		for j := range shown {
			if j > 0 {
				bw.WriteString("\n")
			}
			writeFinding(bw, &doc.Findings[group[j]], p)
		}
		if hidden := len(group) - shown; hidden > 0 {
			fmt.Fprintf(bw, "\n%s... and %s (--all shows every one)\n", labelIndent, count(hidden, "more "+rule+" finding"))
		}
	}
	if len(doc.Findings) > 0 {
		bw.WriteString("\n")
	}
	fmt.Fprintln(bw, summary(doc))
	return bw.Flush()
}

// GroupByRule groups findings by rule, keeping the audit's order (most severe
// first): groups come in the order of their most severe finding.
func GroupByRule(findings []audit.Finding) [][]audit.Finding {
	var groups [][]audit.Finding
	index := map[string]int{}
	for _, f := range findings {
		i, ok := index[f.Rule]
		if !ok {
			i = len(groups)
			index[f.Rule] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], f)
	}
	return groups
}

// groupIndexesByRule is GroupByRule by index: the table of a million
// findings does not copy them.
func groupIndexesByRule(findings []audit.Finding) [][]int {
	var groups [][]int
	index := map[string]int{}
	for j := range findings {
		i, ok := index[findings[j].Rule]
		if !ok {
			i = len(groups)
			index[findings[j].Rule] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], j)
	}
	return groups
}

func writeFinding(w *bufio.Writer, f *audit.Finding, p painter) {
	sev := strings.ToUpper(string(f.Severity))
	label := p.paint(severityStyle[f.Severity], sev) + strings.Repeat(" ", max(1, labelWidth-len(sev)))
	message := wrap(Sanitize(f.Message), valueWidth, false)
	first := message
	if f.SPN != "" {
		first = wrap(Sanitize(f.SPN), valueWidth-2, false)
		for i := range first[1:] {
			first[i+1] = "  " + first[i+1]
		}
		first = append(first, message...)
	}
	writeLines(w, label, first)
	var accounts, fixes []string
	for _, dn := range f.Accounts {
		wrapped := wrap(Sanitize(dn), valueWidth-2, true)
		accounts = append(accounts, wrapped[0])
		for _, l := range wrapped[1:] {
			accounts = append(accounts, "  "+l) // continuation: the next DN starts further left
		}
	}
	// Commands are never wrapped: a line break pasted into a shell runs
	// half a command. The terminal folds them, and copying keeps one line.
	for _, cmd := range f.Remediation {
		fixes = append(fixes, Sanitize(cmd))
	}
	writeLines(w, "accounts  ", accounts)
	writeLines(w, "fix       ", fixes)
}

// writeLines writes lines in the value column, the first after label.
func writeLines(w *bufio.Writer, label string, lines []string) {
	blank := strings.Repeat(" ", labelWidth)
	for i, l := range lines {
		if i == 0 {
			w.WriteString(labelIndent + label + l + "\n")
		} else {
			w.WriteString(labelIndent + blank + l + "\n")
		}
	}
}

// summary is the table's last line, never wrapped, e.g. "7 findings: 1 critical, 3 high,
// 3 medium (2 suppressed) in 1.2s, 412 objects, 1,873 SPNs, 1 domain".
func summary(doc *Document) string {
	var b strings.Builder
	if len(doc.Findings) == 0 {
		b.WriteString("no findings")
	} else {
		perSeverity := map[audit.Severity]int{}
		for _, f := range doc.Findings {
			perSeverity[f.Severity]++
		}
		var parts []string
		for _, s := range audit.Severities {
			if n := perSeverity[s]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %s", thousands(n), s))
			}
		}
		fmt.Fprintf(&b, "%s: %s", count(len(doc.Findings), "finding"), strings.Join(parts, ", "))
	}
	if doc.Suppressed > 0 {
		fmt.Fprintf(&b, " (%s suppressed)", thousands(doc.Suppressed))
	}
	s := doc.Scan
	fmt.Fprintf(&b, " in %s, %s, %s, %s", seconds(time.Duration(s.DurationSeconds*float64(time.Second))),
		count(s.Objects, "object"), count(s.SPNs, "SPN"), count(len(s.Domains), "domain"))
	return b.String()
}
