package metrics

import (
	"bytes"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// The JSON is a contract shared with `spnaudit scan --format json`.
func TestFindingsDocumentGolden(t *testing.T) {
	tests := []struct {
		golden     string
		snapshot   *inventory.Snapshot
		findings   []audit.Finding
		suppressed int
	}{
		{"findings_farm.json", farmSnapshot(time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)), farmFindings(), 2},
		// Nil lists are emitted as [] and an empty snapshot still has a scan.
		{"findings_empty.json", &inventory.Snapshot{}, nil, 0},
		{"findings_nil_lists.json", &inventory.Snapshot{}, []audit.Finding{
			{Rule: "uniqueness-check-disabled", Severity: audit.SeverityHigh, Message: "dSHeuristics disables SPN uniqueness."},
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			var buf bytes.Buffer
			if err := NewFindingsDocument(tt.snapshot, tt.findings, tt.suppressed).Encode(&buf); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.golden, buf.Bytes())
		})
	}
}

func TestFindingsDocumentOrderAndIsolation(t *testing.T) {
	findings := []audit.Finding{
		{Rule: "weak-encryption", Severity: audit.SeverityLow, SPN: "b"},
		{Rule: "duplicate-spn", Severity: audit.SeverityHigh, SPN: "z"},
		{Rule: "duplicate-spn", Severity: audit.SeverityHigh, SPN: "a"},
		{Rule: "duplicate-spn", Severity: audit.SeverityCritical, SPN: "m"},
		{Rule: "ghost-spn", Severity: audit.SeverityHigh, SPN: "a"},
	}
	doc := NewFindingsDocument(&inventory.Snapshot{}, findings, 0)
	want := []struct{ rule, spn string }{
		{"duplicate-spn", "m"}, {"duplicate-spn", "a"}, {"duplicate-spn", "z"}, {"ghost-spn", "a"}, {"weak-encryption", "b"},
	}
	for i, w := range want {
		if doc.Findings[i].Rule != w.rule || doc.Findings[i].SPN != w.spn {
			t.Errorf("finding %d = %s %s, want %s %s", i, doc.Findings[i].Rule, doc.Findings[i].SPN, w.rule, w.spn)
		}
	}
	if findings[0].Rule != "weak-encryption" || findings[0].Accounts != nil {
		t.Error("NewFindingsDocument modified its input")
	}
}
