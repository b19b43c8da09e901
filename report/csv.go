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
	// Row by row: a million findings are never held as rows (issue 9).
	if err := cw.Write([]string{"rule", "severity", "spn", "accounts", "message", "remediation", "references"}); err != nil {
		return err
	}
	for _, f := range doc.Findings {
		if err := cw.Write([]string{
			f.Rule, string(f.Severity), cell(f.SPN), cell(strings.Join(f.Accounts, "\n")),
			cell(f.Message), cell(strings.Join(f.Remediation, "\n")), cell(strings.Join(f.References, "\n")),
		}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// cell defuses values a spreadsheet would run as a formula (CSV injection):
// SPNs and DNs come from the directory, where others may write them.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
