package report

import (
	"encoding/csv"
	"io"
	"strings"
)

// writeFindingsCSV writes one row per finding; lists are joined with
// newlines inside their cell, which spreadsheets show as lines.
func writeFindingsCSV(w io.Writer, doc *Document) error {
	cw := csv.NewWriter(w)
	rows := [][]string{{"rule", "severity", "spn", "accounts", "message", "remediation", "references"}}
	for _, f := range doc.Findings {
		rows = append(rows, []string{
			f.Rule, string(f.Severity), cell(f.SPN), cell(strings.Join(f.Accounts, "\n")),
			cell(f.Message), cell(strings.Join(f.Remediation, "\n")), cell(strings.Join(f.References, "\n")),
		})
	}
	return cw.WriteAll(rows)
}

// cell defuses values a spreadsheet would run as a formula (CSV injection):
// SPNs and DNs come from the directory, where others may write them.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
