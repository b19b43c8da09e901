package metrics

import (
	"time"

	"github.com/spnaudit/spnaudit/report"
)

// Status is one consistent read of the Store, for the presenters of the web
// package (landing page, JSON API, readiness). It shares the Store's
// immutable state: callers must not modify its maps, slices or document
// (copy the document before setting its snapshot age).
type Status struct {
	Now              time.Time // the Store's clock when the status was read
	Build            BuildInfo
	MaxFindingSeries int // metrics.max_finding_series
	LastScan         ScanOutcome
	// LDAPUp maps each server of the last scans to whether it answered.
	LDAPUp    map[string]bool
	TGTExpiry time.Time // zero when unknown
	// Published is the last successful scan, nil before the first one.
	Published *Published
}

// Published is what the last successful scan published.
type Published struct {
	// Document is the scan summary and findings as scan --format json
	// prints them, in the audit's order, without SnapshotAgeSeconds.
	Document  *report.Document
	Succeeded time.Time // when the Store received it
	// Truncated says spnaudit_finding_info was capped (MaxFindingSeries).
	Truncated bool
	// AccountNames maps the DNs the findings name to NETBIOS\sAMAccountName
	// (inventory.Directory.AccountName), or to themselves when unknown.
	AccountNames map[string]string
}

// Status returns the Store's current state.
func (s *Store) Status() Status {
	st := s.load()
	status := Status{
		Now:              s.opts.Now(),
		Build:            s.opts.Build,
		MaxFindingSeries: s.opts.MaxFindingSeries,
		LastScan:         st.lastScan,
		LDAPUp:           st.ldapUp,
		TGTExpiry:        st.tgtExpiry,
	}
	if v := st.snapshot; v != nil {
		status.Published = &Published{Document: v.document, Succeeded: v.succeeded, Truncated: v.truncated, AccountNames: v.accountNames.names()}
	}
	return status
}
