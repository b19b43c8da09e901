package report

import (
	"bufio"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// writeFindingsCSV writes one row per finding; lists are joined with
// newlines inside their cell, which spreadsheets show as lines. The bytes
// are encoding/csv's (TestCSVWriterMatchesEncodingCSV), written field by
// field without joining the lists first: a flood writes half a million rows
// (issue 9).
func writeFindingsCSV(w io.Writer, doc *Document) error {
	cw := csvWriter{w: bufio.NewWriterSize(w, 64<<10)}
	// Row by row: a million findings are never held as rows (issue 9).
	cw.row("rule", "severity", "spn", "accounts", "message", "remediation", "references")
	for i := range doc.Findings {
		f := &doc.Findings[i]
		cw.field(f.Rule)
		cw.comma()
		cw.field(string(f.Severity))
		cw.comma()
		cw.field(cell(f.SPN))
		cw.comma()
		cw.listField(f.Accounts)
		cw.comma()
		cw.field(cell(f.Message))
		cw.comma()
		cw.listField(f.Remediation)
		cw.comma()
		cw.listField(f.References)
		cw.w.WriteByte('\n')
	}
	return cw.w.Flush()
}

// cell defuses values a spreadsheet would run as a formula (CSV injection):
// SPNs and DNs come from the directory, where others may write them.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// csvWriter writes what encoding/csv's Writer (comma ',', LF line ends)
// writes. Its bufio.Writer keeps the first error and returns it from Flush.
type csvWriter struct{ w *bufio.Writer }

func (c csvWriter) comma() { c.w.WriteByte(',') }

func (c csvWriter) row(fields ...string) {
	for i, f := range fields {
		if i > 0 {
			c.comma()
		}
		c.field(f)
	}
	c.w.WriteByte('\n')
}

// field writes one field, quoted when encoding/csv would quote it.
func (c csvWriter) field(s string) {
	if !csvNeedsQuotes(s) {
		c.w.WriteString(s)
		return
	}
	c.w.WriteByte('"')
	c.quotedBody(s)
	c.w.WriteByte('"')
}

// listField writes cell(strings.Join(list, "\n")) as field would, without
// building the joined string.
func (c csvWriter) listField(list []string) {
	switch len(list) {
	case 0:
		return
	case 1:
		c.field(cell(list[0]))
		return
	}
	// Two or more lines: the newline between them makes it quoted.
	c.w.WriteByte('"')
	first := list[0]
	if first != "" && strings.ContainsRune("=+-@\t\r", rune(first[0])) {
		c.w.WriteByte('\'')
	}
	for i, s := range list {
		if i > 0 {
			c.w.WriteByte('\n')
		}
		c.quotedBody(s)
	}
	c.w.WriteByte('"')
}

// quotedBody writes s inside quotes: '"' doubled, the rest as is.
func (c csvWriter) quotedBody(s string) {
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			c.w.WriteString(s)
			return
		}
		c.w.WriteString(s[:i+1])
		c.w.WriteByte('"')
		s = s[i+1:]
	}
}

// csvNeedsQuotes is encoding/csv's fieldNeedsQuotes for a ',' comma.
func csvNeedsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s == `\.` {
		return true
	}
	if strings.ContainsAny(s, "\n\r\",") {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}
