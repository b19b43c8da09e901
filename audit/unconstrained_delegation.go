package audit

import (
	"github.com/spnaudit/spnaudit/inventory"
)

// unconstrainedDelegation reports an enabled account other than a domain
// controller that holds SPNs and is trusted for unconstrained delegation:
// every user who authenticates to it leaves a forwardable TGT behind, and a
// DC can be coerced into authenticating to it, which yields the domain.
// Critical for user accounts (their password can be Kerberoasted), high
// otherwise.
type unconstrainedDelegation struct{}

func (unconstrainedDelegation) ID() string { return RuleUnconstrainedDelegation }

func (unconstrainedDelegation) Severities() []Severity {
	return []Severity{SeverityCritical, SeverityHigh}
}

func (unconstrainedDelegation) Check(ix *index) []Finding {
	// Counted first, as kerberoastable-account's: no growing slice to copy.
	n := 0
	const want = sumEnabled | sumSPNs | sumTrustedForDelegation // delegatesUnconstrained's
	for i := range ix.objs {
		if ix.has(i, want) && delegatesUnconstrained(ix.objs[i]) {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]Finding, 0, n)
	dns := make([]string, n) // every finding's Accounts, in one allocation
	for i := range ix.objs {
		if !ix.has(i, want) {
			continue
		}
		o := ix.objs[i]
		if !delegatesUnconstrained(o) {
			continue
		}
		sev := SeverityHigh
		if o.Kind == inventory.KindUser {
			sev = SeverityCritical
		}
		dn := psQuote(o.DN)
		k := len(out)
		dns[k] = o.DN
		out = append(out, Finding{
			Rule:     RuleUnconstrainedDelegation,
			Severity: sev,
			Accounts: dns[k : k+1 : k+1],
			Message: ix.accountName(o) + " is trusted for unconstrained delegation: every user who authenticates to its " +
				"services leaves a reusable TGT there, and a coerced domain controller hands over the domain.",
			Remediation: []string{
				"Set-ADAccountControl -Identity " + dn + " -TrustedForDelegation $false",
				"# If the service must delegate, allow only its back-end SPNs (constrained delegation), e.g.:",
				"# " + setCmdlet(o) + " -Identity " + dn + " -Add @{'msDS-AllowedToDelegateTo'='MSSQLSvc/db." + domainOf(o) + ":1433'}",
				"# And protect privileged users: Set-ADAccountControl -Identity <admin> -AccountNotDelegated $true",
			},
			References: unconstrainedReferences,
		})
	}
	return out
}

func delegatesUnconstrained(o *inventory.Object) bool {
	return !o.IsDC() && o.Enabled() && len(o.SPNs) > 0 && o.UserAccountControl&inventory.UACTrustedForDelegation != 0
}

// unconstrainedReferences is shared by every unconstrained-delegation
// finding: nothing writes a finding's lists in place.
var unconstrainedReferences = []string{refUnconstrained, refKCD, refSetADAccountCtl}
