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
	var out []Finding
	for i := range ix.objs {
		o := &ix.objs[i]
		if o.IsDC() || !o.Enabled() || len(o.SPNs) == 0 || o.UserAccountControl&inventory.UACTrustedForDelegation == 0 {
			continue
		}
		sev := SeverityHigh
		if o.Kind == inventory.KindUser {
			sev = SeverityCritical
		}
		dn := psQuote(o.DN)
		out = append(out, Finding{
			Rule:     RuleUnconstrainedDelegation,
			Severity: sev,
			Accounts: []string{o.DN},
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

// unconstrainedReferences is shared by every unconstrained-delegation
// finding: nothing writes a finding's lists in place.
var unconstrainedReferences = []string{refUnconstrained, refKCD, refSetADAccountCtl}
