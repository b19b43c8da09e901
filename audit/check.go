package audit

import (
	"slices"
	"strings"

	"github.com/spnaudit/spnaudit/inventory"
)

// CheckSPN answers, before spn is added to account, whether it would be
// malformed, duplicate an SPN held elsewhere, or collide with an alias of it
// held elsewhere: what setspn -S checks, plus AD's alias uniqueness in both
// directions (HOST/h added while another account holds CIFS/h, and CIFS/h
// added while another holds HOST/h). account is a DN, sAMAccountName or
// DOMAIN\name; an account not in the snapshot is treated as a new one. It
// returns the findings the audit would report for spn once added (nil when
// adding it is safe); suppressions do not apply.
func CheckSPN(snap *inventory.Snapshot, cfg Config, spn, account string) []Finding {
	after := withSPN(snap, spn, account)
	ix := newIndex(after, cfg)
	var out []Finding
	for _, r := range []rule{malformedSPN{}, duplicateSPN{}, hostAliasConflict{}} {
		for _, f := range r.Check(ix) {
			// A look-alike finding names either value; an alias conflict may sit on the HOST side.
			if looseEqual(f.SPN, spn) || ix.hostSideOf(f, spn, account) {
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
		after.Objects = append(after.Objects, &inventory.Object{
			DN:             account,
			SAMAccountName: account,
			Kind:           inventory.KindUser,
			SPNs:           []string{spn},
		})
		return &after
	}
	for _, t := range targets {
		if o := after.Objects[t]; !slices.ContainsFunc(o.SPNs, func(held string) bool { return strings.EqualFold(held, spn) }) {
			changed := *o // the snapshot's objects are shared, never modified
			changed.SPNs = append(slices.Clip(o.SPNs), spn)
			after.Objects[t] = &changed
		}
	}
	return &after
}

// hostSideOf reports whether f is a host-alias-conflict whose HOST side is
// spn on account: the finding names the alias SPN, the other holder and spn.
func (ix *index) hostSideOf(f Finding, spn, account string) bool {
	if f.Rule != RuleHostAliasConflict || !strings.EqualFold(f.partnerSPN(), spn) {
		return false
	}
	for _, t := range ix.resolveAccount(account) {
		if slices.Contains(f.Accounts, ix.objs[t].DN) {
			return true
		}
	}
	return false
}
