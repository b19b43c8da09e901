// Package audit turns an inventory snapshot into findings. It is pure code:
// no I/O, no clock reads, no logging, so every rule is testable from tables.
package audit

import "time"

// Severity of a finding, from most to least severe.
type Severity string

const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
	SeverityInfo     Severity = "info"
)

// Severities lists every severity, most severe first.
var Severities = []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityInfo}

// Rank orders severities: critical is 4, info is 0, unknown is -1.
func (s Severity) Rank() int {
	for i, v := range Severities {
		if v == s {
			return len(Severities) - 1 - i
		}
	}
	return -1
}

// Finding is one problem the audit found. The JSON field names are a contract
// (scan --format json, /api/v1/findings).
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	// SPN is the service principal name concerned, empty when the finding is
	// about an account or a directory setting as a whole.
	SPN string `json:"spn,omitempty"`
	// Accounts are the distinguished names of the objects involved.
	Accounts    []string `json:"accounts"`
	Message     string   `json:"message"`
	Remediation []string `json:"remediation"`
	References  []string `json:"references"`
	// partner is, for a host-alias-conflict, the other side's SPN (the HOST
	// SPN the alias collides with), so that check can report the pair
	// whichever side is being added. Not part of the JSON contract. A
	// pointer (nil for every other rule): 8 bytes a finding, not 16, in the
	// lists the daemon holds (50,000 findings at 100,000 objects, issue 9).
	partner *string

	// FirstSeen is when spnaudit first saw this finding, kept across
	// restarts by the state store; nil without one (scan, the audit alone).
	FirstSeen *time.Time `json:"first_seen,omitempty"`
	// ChangedAt is the last change of servicePrincipalName on the accounts
	// involved, from AD's replication metadata: for a duplicate, the latest
	// of the holders, which is when the second copy appeared if nothing
	// changed since. nil when the metadata was not read.
	ChangedAt *time.Time `json:"changed_at,omitempty"`
	// ChangedOn names the DC where that change was made ("" when unknown).
	ChangedOn string `json:"changed_on,omitempty"`
}

// partnerSPN is partner, "" when unset.
func (f *Finding) partnerSPN() string {
	if f.partner == nil {
		return ""
	}
	return *f.partner
}
