package audit

import (
	"slices"
	"strings"

	"github.com/spnaudit/spnaudit/inventory"
)

// CheckSPN answers, before spn is added to account, whether it would be
// malformed, duplicate an SPN held elsewhere, or take a class from a
// computer's HOST alias: what setspn -S checks, plus the alias trap. account
// is a DN, sAMAccountName or DOMAIN\name; an account not in the snapshot is
// treated as a new one. It returns the findings the audit would report for
// spn once added (nil when adding it is safe); suppressions do not apply.
func CheckSPN(snap *inventory.Snapshot, cfg Config, spn, account string) []Finding {
	after := withSPN(snap, spn, account)
	ix := newIndex(after, cfg)
	var out []Finding
	for _, r := range []rule{malformedSPN{}, duplicateSPN{}, hostAliasConflict{}} {
		for _, f := range r.Check(ix) {
			if looseEqual(f.SPN, spn) { // a look-alike finding names either value
				out = append(out, f)
			}
		}
	}
	normalize(out)
	sortFindings(out)
	return out
}

// withSPN returns a copy of snap in which account also holds spn, unless it
// holds it already (compared as AD does, so the audit does not see a second
// copy and report it twice). Objects other than the account are shared, not
// copied.
func withSPN(snap *inventory.Snapshot, spn, account string) *inventory.Snapshot {
	after := *snap
	after.Objects = slices.Clone(snap.Objects)
	targets := (&index{snap: snap, objs: snap.Objects}).resolveAccount(account)
	if len(targets) == 0 {
		after.Objects = append(after.Objects, inventory.Object{
			DN:             account,
			SAMAccountName: account,
			Kind:           inventory.KindUser,
			SPNs:           []string{spn},
		})
		return &after
	}
	for _, t := range targets {
		o := &after.Objects[t]
		if !slices.ContainsFunc(o.SPNs, func(held string) bool { return strings.EqualFold(held, spn) }) {
			o.SPNs = append(slices.Clip(o.SPNs), spn)
		}
	}
	return &after
}
