package audit

import (
	"fmt"
	"strings"

	"github.com/spnaudit/spnaudit/inventory"
)

// delegationTarget checks every SPN in msDS-AllowedToDelegateTo of an
// enabled account. The KDC issues the delegated ticket (S4U2Proxy) to
// whichever account holds the target SPN when it is asked, so a target that
// no one legitimately owns is a place to collect other users' tickets:
//
//   - ghost (high): its host matches no computer account, AD DNS record or
//     farm, as ghost-spn judges hosts. Whoever registers the name (any user
//     may add a record to AD-integrated DNS) and the SPN (any user may, on
//     a computer account made through ms-DS-MachineAccountQuota) stands in
//     for the back end and receives its users' requests and tickets.
//   - duplicate (high): two accounts hold it; the KDC cannot tell which key
//     the delegated ticket is for (KDC event 11) and delegation fails or
//     lands on the wrong service.
//   - alias-conflicted (medium, high for a DC): an account holds it
//     explicitly while the computer it names covers it through HOST in
//     sPNMappings; the explicit holder, not the machine, receives the
//     delegated tickets.
//   - unregistered (medium): the host exists but no account holds the SPN
//     or covers it through HOST; delegation fails today, and the first to
//     register it receives the tickets.
type delegationTarget struct{}

func (delegationTarget) ID() string { return RuleDelegationTarget }

func (delegationTarget) Severities() []Severity {
	return []Severity{SeverityHigh, SeverityMedium}
}

func (delegationTarget) Check(ix *index) []Finding {
	var out []Finding
	for i := range ix.objs {
		if !ix.has(i, sumEnabled|sumDelegatesTo) {
			continue // delegates(o) is false
		}
		o := ix.objs[i]
		if !delegates(o) {
			continue
		}
		for _, raw := range o.AllowedToDelegateTo() {
			if f, ok := delegationTargetFinding(ix, o, raw); ok {
				out = append(out, f)
			}
		}
	}
	return out
}

func delegationTargetFinding(ix *index, o *inventory.Object, raw string) (Finding, bool) {
	spn, problems := ParseSPN(raw)
	if problems != nil {
		return Finding{}, false // a malformed value matches no SPN; malformed-spn covers SPN syntax
	}
	name := ix.accountName(o)
	dn := psQuote(o.DN)
	f := Finding{
		Rule:       RuleDelegationTarget,
		Severity:   SeverityMedium,
		SPN:        raw,
		Accounts:   []string{o.DN},
		References: []string{refKCD, refSPNFormats},
	}
	stale := []string{"# If " + quotedSPN(raw) + " is no longer a back end of " + name + ":",
		setCmdlet(o) + " -Identity " + dn + " -Remove @{'msDS-AllowedToDelegateTo'=" + psQuote(raw) + "}"}
	holders := ix.spns.holders(raw)
	switch {
	case !ix.notAHostName(spn) && !ix.knownHost(spn.Host):
		f.Severity = SeverityHigh
		f.Message = fmt.Sprintf("%s delegates to %s, whose host %s matches no computer account, AD DNS record or farm: "+
			"whoever registers that name and SPN receives the tickets %s obtains on behalf of its users.",
			name, quotedSPN(raw), spn.Host, name)
		f.Remediation = append(stale,
			fmt.Sprintf("# If %s is a real back end outside AD DNS, declare it as a farm VIP in audit.farms or enable audit.resolve_dns.", spn.Host))
	case len(holders) > 1:
		f.Severity = SeverityHigh
		names := make([]string, len(holders))
		for i, h := range holders {
			names[i] = ix.accountName(ix.objs[h.obj])
			f.Accounts = append(f.Accounts, ix.objs[h.obj].DN)
		}
		f.Message = fmt.Sprintf("%s delegates to %s, which is registered on %d accounts (%s): the KDC cannot tell "+
			"which of them the delegated tickets are for.", name, quotedSPN(raw), len(holders), listNames(names, 3))
		f.Remediation = append([]string{"setspn -Q " + psArg(raw),
			fmt.Sprintf("# Keep %s only on the account the back-end service runs as (see duplicate-spn).", quotedSPN(raw))}, stale...)
		f.References = append(f.References, refSPNEvent11)
	default:
		if holder, machine, ok := delegationTargetAliasConflict(ix, raw, spn); ok {
			h, m := ix.objs[holder], ix.objs[machine]
			if m.IsDC() {
				f.Severity = SeverityHigh
			}
			f.Accounts = append(f.Accounts, h.DN, m.DN)
			f.Message = fmt.Sprintf("%s delegates to %s, which %s holds explicitly while the computer %s covers it "+
				"through HOST: the delegated tickets go to %s, not to the machine.",
				name, quotedSPN(raw), ix.accountName(h), ix.accountName(m), ix.accountName(h))
			f.Remediation = append([]string{"# If the back-end service runs as the machine:", ix.setspnDelete(raw, h)}, stale...)
			f.References = append(f.References, refSPNMappings)
			return f, true
		}
		if len(holders) == 1 || ix.coveredByHost(spn) {
			return Finding{}, false
		}
		f.Message = fmt.Sprintf("%s delegates to %s, which no account holds: delegation to it fails, and whoever "+
			"registers it first receives the tickets %s obtains on behalf of its users.", name, quotedSPN(raw), name)
		f.Remediation = append([]string{
			fmt.Sprintf("# Register it on the account the back-end service runs as: setspn -S %s <DOMAIN\\account>", psArg(raw))},
			stale...)
		f.References = append(f.References, refSetspn)
	}
	return f, true
}

// delegationTargetAliasConflict is the one predicate delegation-target uses
// for "alias-conflicted", with host-alias-conflict's two cases (see its
// Check): spn's class is an alias of HOST through sPNMappings, holder holds
// spn explicitly, and another object holds HOST with the same remainder, or
// a computer that spn's host names covers it through its own HOST SPN. It
// returns the first such pair in object order.
func delegationTargetAliasConflict(ix *index, raw string, spn SPN) (holder, other int32, ok bool) {
	target, isHost := ix.hostAliasTarget(spn.Class)
	if !isHost || strings.EqualFold(spn.Class, target) {
		return 0, 0, false
	}
	hostForm := target + raw[strings.IndexByte(raw, '/'):]
	var found [4]int32
	machines := ix.machines(spn.Host, found[:0])
	for _, h := range ix.spns.holders(raw) {
		for _, o := range ix.spns.holders(hostForm) {
			if o.obj != h.obj && !holdsExactly(ix, o.obj, raw) {
				return h.obj, o.obj, true
			}
		}
		for _, m := range machines {
			if m != h.obj && !holdsExactly(ix, m, raw) && coversByAlias(ix.objs[m], target, spn) != "" {
				return h.obj, m, true
			}
		}
	}
	return 0, 0, false
}

// coveredByHost reports whether a computer that spn's host names covers spn
// through HOST (its class is HOST or an alias of it).
func (ix *index) coveredByHost(spn SPN) bool {
	target, isAlias := ix.hostAliasTarget(spn.Class)
	if !isAlias {
		return false
	}
	var found [4]int32
	for _, m := range ix.machines(spn.Host, found[:0]) {
		if coversByAlias(ix.objs[m], target, spn) != "" {
			return true
		}
	}
	return false
}
