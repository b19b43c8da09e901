package audit

import (
	"strings"

	"github.com/spnaudit/spnaudit/inventory"
)

// dateFindings sets each finding's ChangedAt and ChangedOn from the
// replication metadata of servicePrincipalName on the accounts it names:
// the latest change among them. For a duplicate that is the write that
// made the second copy (unless a holder's SPNs changed again since), the
// moment the admin's outage began. Accounts the snapshot does not hold
// (a delegation target that does not exist) have no date.
func dateFindings(snap *inventory.Snapshot, fs []Finding) {
	// The map is made at the first dated object: an export without
	// replication metadata (ldifde's) dates none, and a map sized for every
	// object cost more than the rest of the function (issue 9).
	var byDN map[string]*inventory.Object
	for i := range snap.Objects {
		o := snap.Objects[i]
		if !o.SPNChanged.IsZero() {
			if byDN == nil {
				byDN = make(map[string]*inventory.Object, len(snap.Objects)-i)
			}
			byDN[strings.ToLower(o.DN)] = o
		}
	}
	if len(byDN) == 0 {
		return
	}
	for i := range fs {
		var latest *inventory.Object
		for _, dn := range fs[i].Accounts {
			if o := byDN[strings.ToLower(dn)]; o != nil && (latest == nil || o.SPNChanged.After(latest.SPNChanged)) {
				latest = o
			}
		}
		if latest == nil {
			continue
		}
		at := latest.SPNChanged
		fs[i].ChangedAt = &at
		fs[i].ChangedOn = snap.Directory.DCName(latest.SPNChangedBy)
	}
}
