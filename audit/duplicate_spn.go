package audit

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// duplicateSPN reports an SPN held by two or more objects anywhere in the
// forest, compared as Windows does (looseEqual), look-alikes included. One finding per SPN, however many holders, so
// a group of k holders costs O(k log k).
type duplicateSPN struct{}

func (duplicateSPN) ID() string { return RuleDuplicateSPN }

func (duplicateSPN) Severities() []Severity {
	return []Severity{SeverityCritical, SeverityHigh}
}

func (duplicateSPN) Check(ix *index) []Finding {
	var out []Finding
	ix.spns.eachShared(func(refs []spnRef) {
		if f, ok := duplicateFinding(ix, refs); ok {
			out = append(out, f)
		}
	})
	return out
}

func duplicateFinding(ix *index, shared []spnRef) (Finding, bool) {
	refs := slices.Clone(shared)
	slices.SortFunc(refs, func(a, b spnRef) int { return strings.Compare(ix.objs[a.obj].DN, ix.objs[b.obj].DN) })
	raw := ix.spns.raw(refs[0])
	spn, _ := ParseSPN(raw)

	krbtgtOnly := true
	critical := strings.EqualFold(spn.Class, "host")
	accounts := make([]string, len(refs))
	names := make([]string, len(refs))
	for i, r := range refs {
		o := ix.objs[r.obj]
		if isKrbtgt(o) {
			critical = true
		} else {
			krbtgtOnly = false
		}
		critical = critical || o.IsDC()
		accounts[i] = o.DN
		names[i] = ix.accountName(o)
	}
	// Every domain's krbtgt holds kadmin/changepw; tickets for it are
	// requested per realm, so that is not a collision.
	if krbtgtOnly && strings.EqualFold(raw, "kadmin/changepw") {
		return Finding{}, false
	}
	if f, ok := lookalikeFinding(ix, refs, names, accounts); ok {
		return f, true
	}
	sev := SeverityHigh
	if critical {
		sev = SeverityCritical
	}
	return Finding{
		Rule:     RuleDuplicateSPN,
		Severity: sev,
		SPN:      raw,
		Accounts: accounts,
		Message: fmt.Sprintf("%s is registered on %d accounts (%s): the KDC cannot tell whose key "+
			"to encrypt tickets with, logs KDC event 11 and clients fail or fall back to NTLM.",
			quotedSPN(raw), len(refs), listNames(names, 3)),
		Remediation: duplicateRemediation(ix, raw, spn, refs),
		References:  []string{refSPNEvent11, refSetspn, refUniqueness},
	}, true
}

// duplicateRemediation removes the SPN from every holder but its owner. The
// owner is known when the SPN is HOST/<name> and exactly one holder is the
// computer of that name; otherwise the admin must pick the account the
// service runs as.
func duplicateRemediation(ix *index, raw string, spn SPN, refs []spnRef) []string {
	owner := int32(-1)
	if strings.EqualFold(spn.Class, "host") {
		var found [4]int32
		machines := ix.machines(spn.Host, found[:0])
		for _, r := range refs {
			if !slices.Contains(machines, r.obj) {
				continue
			}
			if owner >= 0 {
				owner = -1
				break
			}
			owner = r.obj
		}
	}
	lines := []string{"setspn -Q " + psArg(raw)}
	if owner >= 0 {
		lines = append(lines, fmt.Sprintf("# %s belongs to the computer %s; remove it from the other accounts:",
			quotedSPN(raw), ix.accountName(ix.objs[owner])))
	} else {
		lines = append(lines, fmt.Sprintf("# Keep %s only on the account the service runs as; delete it from every other one:", quotedSPN(raw)))
	}
	for _, r := range refs {
		if r.obj != owner {
			lines = append(lines, ix.setspnDelete(raw, ix.objs[r.obj]))
		}
	}
	return append(lines, "setspn -X -F")
}

// listNames joins up to max names and says how many more there are.
func listNames(names []string, max int) string {
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:max], ", ") + " and " + strconv.Itoa(len(names)-max) + " more"
}
