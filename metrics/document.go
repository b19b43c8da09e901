package metrics

import (
	"cmp"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// FindingsDocument is the JSON contract shared by `spnaudit scan --format
// json` and GET /api/v1/findings (which adds SnapshotAgeSeconds).
type FindingsDocument struct {
	Scan       ScanSummary     `json:"scan"`
	Findings   []audit.Finding `json:"findings"`
	Suppressed int             `json:"suppressed"`
	// SnapshotAgeSeconds is the time since the scan that produced the snapshot
	// finished; only the daemon sets it.
	SnapshotAgeSeconds *float64 `json:"snapshot_age_seconds,omitempty"`
}

// ScanSummary describes the scan behind a FindingsDocument.
type ScanSummary struct {
	Started         time.Time `json:"started"` // UTC
	DurationSeconds float64   `json:"duration_seconds"`
	Objects         int       `json:"objects"`
	SPNs            int       `json:"spns"`
	Domains         []string  `json:"domains"`
}

// NewFindingsDocument builds the document for a snapshot and the findings the
// audit produced from it (after suppressions). Findings are ordered most
// severe first, then by rule, SPN and first account, so output is stable; nil
// lists are emitted as [] so consumers can iterate without null checks.
func NewFindingsDocument(snap *inventory.Snapshot, findings []audit.Finding, suppressed int) FindingsDocument {
	sorted := make([]audit.Finding, len(findings))
	for i, f := range findings {
		f.Accounts = nonNil(f.Accounts)
		f.Remediation = nonNil(f.Remediation)
		f.References = nonNil(f.References)
		sorted[i] = f
	}
	slices.SortStableFunc(sorted, compareFindings)
	return FindingsDocument{
		Scan: ScanSummary{
			Started:         snap.Started.UTC(),
			DurationSeconds: snap.Duration.Seconds(),
			Objects:         len(snap.Objects),
			SPNs:            snap.SPNCount(),
			Domains:         nonNil(slices.Clone(snap.Directory.Domains)),
		},
		Findings:   sorted,
		Suppressed: suppressed,
	}
}

// Encode writes the document as indented JSON followed by a newline.
func (d FindingsDocument) Encode(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

func compareFindings(a, b audit.Finding) int {
	return cmp.Or(
		cmp.Compare(b.Severity.Rank(), a.Severity.Rank()),
		strings.Compare(a.Rule, b.Rule),
		strings.Compare(a.SPN, b.SPN),
		strings.Compare(firstOrEmpty(a.Accounts), firstOrEmpty(b.Accounts)),
	)
}

func firstOrEmpty(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
