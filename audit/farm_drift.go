package audit

import (
	"fmt"
	"slices"
	"strings"
)

// farmDrift compares each configured farm with the directory and reports
// every SPN that is missing, held by the wrong account, or extra.
type farmDrift struct{}

func (farmDrift) ID() string { return RuleFarmDrift }

func (farmDrift) Severities() []Severity {
	return []Severity{SeverityHigh, SeverityMedium, SeverityLow}
}

type driftKind int

const (
	driftMissing      driftKind = iota // nobody holds a desired SPN
	driftWrongAccount                  // another account holds a desired SPN
	driftExtra                         // the farm account holds an undeclared SPN for a farm name
	driftBadFarm                       // the farm's configuration or account is unusable
)

// farmDiff is one difference between a farm and the directory.
type farmDiff struct {
	farm    *Farm
	kind    driftKind
	spn     string
	account int32   // the farm's account, -1 for driftBadFarm
	others  []int32 // other holders, for driftWrongAccount
	onOwner bool    // for driftWrongAccount: the farm's account holds it too
	problem string  // for driftBadFarm
}

// farmDiffs computes every difference, farm by farm, in a stable order.
func farmDiffs(ix *index) []farmDiff {
	var out []farmDiff
	// desired maps each farm account to the folded SPNs all its farms declare,
	// so two farms sharing an account do not call each other's SPNs extra.
	desired := make(map[int32]map[string]bool)
	for i := range ix.farms {
		if acct := ix.farmAccount(i); ix.farms[i].Validate() == nil && len(acct) == 1 {
			if desired[acct[0]] == nil {
				desired[acct[0]] = make(map[string]bool)
			}
			for _, spn := range ix.farms[i].DesiredSPNs() {
				desired[acct[0]][foldKey(spn)] = true
			}
		}
	}
	for i := range ix.farms {
		f := &ix.farms[i]
		if err := f.Validate(); err != nil {
			out = append(out, farmDiff{farm: f, kind: driftBadFarm, account: -1, problem: "invalid configuration: " + err.Error()})
			continue
		}
		acct := ix.farmAccount(i)
		switch len(acct) {
		case 0:
			out = append(out, farmDiff{farm: f, kind: driftBadFarm, account: -1,
				problem: fmt.Sprintf("account %q not found in the directory", f.Account)})
			continue
		case 1:
		default:
			out = append(out, farmDiff{farm: f, kind: driftBadFarm, account: -1,
				problem: fmt.Sprintf("account %q matches %d objects; qualify it as DOMAIN\\name or a DN", f.Account, len(acct))})
			continue
		}
		owner := acct[0]
		for _, spn := range f.DesiredSPNs() {
			d := farmDiff{farm: f, kind: driftMissing, spn: spn, account: owner}
			for _, r := range ix.spns.holders(spn) {
				if r.obj == owner {
					d.onOwner = true
				} else {
					d.others = append(d.others, r.obj)
				}
			}
			switch {
			case len(d.others) > 0:
				d.kind = driftWrongAccount
			case d.onOwner:
				continue
			}
			out = append(out, d)
		}
		for _, raw := range ix.objs[owner].SPNs {
			spn, problems := ParseSPN(raw)
			if problems != nil || desired[owner][foldKey(raw)] || !farmDeclares(f, spn) {
				continue
			}
			out = append(out, farmDiff{farm: f, kind: driftExtra, spn: raw, account: owner})
		}
	}
	return out
}

// farmDeclares reports whether spn's class and host belong to the farm.
func farmDeclares(f *Farm, spn SPN) bool {
	return slices.ContainsFunc(f.Classes, func(c string) bool { return strings.EqualFold(c, spn.Class) }) &&
		slices.ContainsFunc(f.hostNames(), func(h string) bool { return strings.EqualFold(h, spn.Host) })
}

func (farmDrift) Check(ix *index) []Finding {
	diffs := farmDiffs(ix)
	out := make([]Finding, 0, len(diffs))
	for _, d := range diffs {
		out = append(out, driftFinding(ix, d))
	}
	return out
}

func driftFinding(ix *index, d farmDiff) Finding {
	refs := []string{refSetspn, refSPNFormats}
	if d.kind == driftBadFarm {
		return Finding{
			Rule:        RuleFarmDrift,
			Severity:    SeverityHigh,
			Message:     fmt.Sprintf("Farm %s cannot be checked: %s.", d.farm.Name, d.problem),
			Remediation: []string{"# Fix audit.farms in the spnaudit configuration, then run: spnaudit config check"},
			References:  refs,
		}
	}
	owner := ix.objs[d.account]
	f := Finding{Rule: RuleFarmDrift, SPN: d.spn, Accounts: []string{owner.DN}, References: refs}
	switch d.kind {
	case driftMissing:
		f.Severity = SeverityMedium
		f.Message = fmt.Sprintf("Farm %s: %s is missing; it must be on %s, and clients using that name fall back to NTLM.",
			d.farm.Name, d.spn, ix.accountName(owner))
		f.Remediation = []string{ix.setspnAdd(d.spn, owner)}
	case driftWrongAccount:
		f.Severity = SeverityHigh
		names := make([]string, len(d.others))
		for i, o := range d.others {
			other := ix.objs[o]
			f.Accounts = append(f.Accounts, other.DN)
			names[i] = ix.accountName(other)
			f.Remediation = append(f.Remediation, ix.setspnDelete(d.spn, other))
		}
		where := "is on " + listNames(names, 3) + " instead"
		if d.onOwner {
			where = "is also on " + listNames(names, 3)
		} else {
			f.Remediation = append(f.Remediation, ix.setspnAdd(d.spn, owner))
		}
		f.Message = fmt.Sprintf("Farm %s: %s must be on %s only but %s, so tickets for it use the wrong key.",
			d.farm.Name, d.spn, ix.accountName(owner), where)
	case driftExtra:
		f.Severity = SeverityLow
		f.Message = fmt.Sprintf("Farm %s: %s holds %s, which the farm does not declare.",
			d.farm.Name, ix.accountName(owner), d.spn)
		f.Remediation = []string{ix.setspnDelete(d.spn, owner)}
	}
	return f
}
