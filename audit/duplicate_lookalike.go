package audit

import (
	"fmt"
	"strings"
)

// lookalikeFinding reports a group of holders whose values are one SPN to
// Windows (looseEqual) but differ by more than case: "cīfs/web" beside
// "cifs/web", full-width or katakana forms. A Windows DC refuses the second
// value when it is written, so it got there past a check that compares by
// case only (Samba's, a replication collision, a DC before KB 3070083) or by
// an attack on that check (CVE-2026-25177). The KDC looks SPNs up with the
// same loose comparison, so a ticket for either value may be encrypted with
// the look-alike holder's key. ok is false when every value is the same up
// to case (a plain duplicate).
func lookalikeFinding(ix *index, refs []spnRef, names, accounts []string) (Finding, bool) {
	first := ix.spns.raw(refs[0])
	differ := false
	for _, r := range refs[1:] {
		if lookalikes(first, ix.spns.raw(r)) {
			differ = true
			break
		}
	}
	if !differ {
		return Finding{}, false
	}
	// The plain-ASCII value is the one services register and clients ask
	// for; every other form is the look-alike to delete. With no ASCII
	// value (e.g. kana in the service name) the admin must choose.
	original := ""
	for _, r := range refs {
		if raw := ix.spns.raw(r); isASCII(raw) {
			original = raw
			break
		}
	}
	var held, fakes []string
	var deletes []string
	lookalike := first
	for i, r := range refs {
		raw := ix.spns.raw(r)
		held = append(held, fmt.Sprintf("%s on %s", quotedSPN(raw), names[i]))
		if original != "" && !isASCII(raw) {
			if len(fakes) == 0 {
				lookalike = raw
			}
			fakes = append(fakes, quotedSPN(raw))
			deletes = append(deletes, ix.setspnDelete(raw, ix.objs[r.obj]))
		}
	}
	msg := fmt.Sprintf("look-alike SPNs: %s are one SPN to Windows, which compares SPNs ignoring case, "+
		"diacritics, kana type, character width and compatibility forms. A Windows DC refuses such a second value, "+
		"so it was written past a case-only check (Samba, replication, or the CVE-2026-25177 bypass); "+
		"the KDC finds several accounts for a ticket request, logs KDC event 11, and clients fail, fall back "+
		"to NTLM or get a ticket under the look-alike holder's key.", listNames(held, 4))
	query := first
	if original != "" {
		query = original // setspn -Q searches as the DC compares: it lists every holder
	}
	lines := []string{"setspn -Q " + psArg(query)}
	if original != "" {
		msg += fmt.Sprintf(" Delete the look-alike %s; keep %s.", strings.Join(fakes, ", "), quotedSPN(original))
		lines = append(lines, fmt.Sprintf("# %s is the registered form; delete the look-alike value(s):", quotedSPN(original)))
		lines = append(lines, deletes...)
	} else {
		msg += " None of them is plain ASCII: keep the value on the account the service runs as and delete the others."
		lines = append(lines, "# Keep the value on the account the service runs as; delete the others:")
		for _, r := range refs {
			lines = append(lines, ix.setspnDelete(ix.spns.raw(r), ix.objs[r.obj]))
		}
	}
	return Finding{
		Rule:        RuleDuplicateSPN,
		Severity:    SeverityCritical,
		SPN:         lookalike,
		Accounts:    accounts,
		Message:     msg,
		Remediation: append(lines, "setspn -X -F"),
		References:  []string{refCVE202625177, refCompareString, refSPNEvent11, refUniqueness},
	}, true
}
