// Package report formats audit findings and inventories for people and
// machines: pure functions writing to an io.Writer. Whether output may be
// coloured or redrawn is decided by the caller (terminal, NO_COLOR, --quiet)
// and passed in.
package report

import (
	"slices"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// Document is the findings report: `spnaudit scan --format json` prints it
// and the daemon serves it on /api/v1/findings. Its JSON is a contract.
type Document struct {
	Scan       Scan            `json:"scan"`
	Findings   []audit.Finding `json:"findings"`
	Suppressed int             `json:"suppressed"`
	// SnapshotAgeSeconds is the time since the scan behind the document
	// finished; only the daemon sets it.
	SnapshotAgeSeconds *float64 `json:"snapshot_age_seconds,omitempty"`
}

// Scan describes the scan behind a Document.
type Scan struct {
	Started         time.Time `json:"started"` // UTC
	DurationSeconds float64   `json:"duration_seconds"`
	Objects         int       `json:"objects"`
	SPNs            int       `json:"spns"`
	Domains         []string  `json:"domains"`
}

// NewDocument builds the document for a snapshot and the findings the audit
// kept (audit.Result.Findings, already sorted most severe first) and the
// number it suppressed. Nil lists become empty ones, so JSON consumers never
// meet null where a list belongs.
func NewDocument(snap *inventory.Snapshot, findings []audit.Finding, suppressed int) *Document {
	out := make([]audit.Finding, len(findings))
	for i, f := range findings {
		f.Accounts = nonNil(f.Accounts)
		f.Remediation = nonNil(f.Remediation)
		f.References = nonNil(f.References)
		out[i] = f
	}
	return &Document{
		Scan: Scan{
			Started:         snap.Started.UTC(),
			DurationSeconds: snap.Duration.Seconds(),
			Objects:         len(snap.Objects),
			SPNs:            snap.SPNCount(),
			Domains:         nonNil(slices.Clone(snap.Directory.Domains)),
		},
		Findings:   out,
		Suppressed: suppressed,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
