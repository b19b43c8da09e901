package report

import (
	"bytes"
	"encoding/csv"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/audit"
)

// csvByEncodingCSV is the reference: the rows encoding/csv writes for doc.
func csvByEncodingCSV(t testing.TB, doc *Document) string {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	if err := cw.Write([]string{"rule", "severity", "spn", "accounts", "message", "remediation", "references"}); err != nil {
		t.Fatal(err)
	}
	for _, f := range doc.Findings {
		if err := cw.Write([]string{
			f.Rule, string(f.Severity), cell(f.SPN), cell(strings.Join(f.Accounts, "\n")),
			cell(f.Message), cell(strings.Join(f.Remediation, "\n")), cell(strings.Join(f.References, "\n")),
		}); err != nil {
			t.Fatal(err)
		}
	}
	cw.Flush()
	return buf.String()
}

// csvHostile are values encoding/csv quotes, or cell defuses.
var csvHostile = []string{"", "plain", `\.`, "a,b", `say "hi"`, "\"", "line\nbreak", "cr\rlf\r\n", " lead", "\tTab", "\u00a0nbsp",
	"\u2028sep", "=SUM(A1)", "+1", "-1", "@x", "\rx", "\ny", "\xff\xfe", "trail ", "caf\u00e9", "x\u3000", "\v", `\`}

func csvRandom(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(4) {
		b.WriteString(csvHostile[r.IntN(len(csvHostile))])
	}
	return b.String()
}

// TestCSVWriterMatchesEncodingCSV: the CSV of findings full of values that
// need quoting, doubling or defusing is byte for byte encoding/csv's.
func TestCSVWriterMatchesEncodingCSV(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	list := func() []string {
		l := make([]string, r.IntN(4))
		for i := range l {
			l[i] = csvRandom(r)
		}
		return l
	}
	doc := &Document{}
	for range 5000 {
		doc.Findings = append(doc.Findings, audit.Finding{Rule: csvRandom(r), Severity: audit.Severity(csvRandom(r)), SPN: csvRandom(r),
			Accounts: list(), Message: csvRandom(r), Remediation: list(), References: list()})
	}
	for _, s := range csvHostile { // each alone, and first in a list
		doc.Findings = append(doc.Findings, audit.Finding{Rule: s, SPN: s, Accounts: []string{s}, Message: s,
			Remediation: []string{s, s}, References: []string{s, "x"}})
	}
	var got bytes.Buffer
	if err := WriteFindings(&got, doc, FormatCSV, Options{}); err != nil {
		t.Fatal(err)
	}
	want := csvByEncodingCSV(t, doc)
	if got.String() != want {
		g, w := strings.Split(got.String(), "\n"), strings.Split(want, "\n")
		for i := range min(len(g), len(w)) {
			if g[i] != w[i] {
				t.Fatalf("line %d differs:\n got %q\nwant %q", i+1, g[i], w[i])
			}
		}
		t.Fatalf("lengths differ: %d lines, want %d", len(g), len(w))
	}
}
