package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/audit"
)

// TestStreamedJSONMatchesWhole checks that the findings document written
// one finding at a time is byte for byte what encoding the whole document
// gives, with no finding, one, and findings whose text JSON escapes.
func TestStreamedJSONMatchesWhole(t *testing.T) {
	escaped := audit.Finding{Rule: audit.RuleMalformedSPN, Severity: audit.SeverityLow, SPN: "HTTP/a<b>&\"c\"\u2028",
		Accounts: []string{"CN=x\\,y,DC=example,DC=test"}, Message: "tab\there", Remediation: []string{}, References: []string{}}
	cases := []struct {
		name     string
		findings []audit.Finding
	}{
		{"none", nil},
		{"one", scenarioFindings()[:1]},
		{"all", scenarioFindings()},
		{"escaped", []audit.Finding{escaped, escaped}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := scenarioDocument()
			doc.Findings = NewDocument(scenarioSnapshot(), c.findings, 0).Findings
			age := 12.5
			doc.SnapshotAgeSeconds = &age
			var whole, streamed bytes.Buffer
			if err := writeJSON(&whole, doc); err != nil {
				t.Fatal(err)
			}
			if err := WriteFindings(&streamed, doc, FormatJSON, Options{}); err != nil {
				t.Fatal(err)
			}
			if whole.String() != streamed.String() {
				t.Fatalf("streamed JSON differs:\n%s\nwant:\n%s", streamed.String(), whole.String())
			}
		})
	}
}

// TestStreamingNeedsItsArray checks that a head without the empty array to
// stream into is an error, not a document without the elements.
func TestStreamingNeedsItsArray(t *testing.T) {
	err := writeJSONStreaming(&bytes.Buffer{}, map[string]any{"other": []int{}}, "findings", 1, 1, func(int) any { return 1 })
	if err == nil || !strings.Contains(err.Error(), "findings") {
		t.Fatalf("err = %v, want one naming the missing array", err)
	}
}
