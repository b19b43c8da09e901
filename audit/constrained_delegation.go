package audit

import (
	"fmt"

	"github.com/spnaudit/spnaudit/inventory"
)

// constrainedDelegation reports an enabled account with
// msDS-AllowedToDelegateTo: whoever controls it obtains tickets to the
// listed services as other users (S4U2Proxy, MS-SFU 3.2.5.2). The KDC does
// not protect the service class of the ticket it returns, so the holder may
// also rewrite it to any other service of the same target account (cifs/x
// becomes host/x, http/x...).
//
// With protocol transition (TRUSTED_TO_AUTH_FOR_DELEGATION) the account
// needs no one to log on to it: S4U2Self gives it a forwardable ticket for
// any user, so its owner is, to the target services, anyone not marked
// sensitive or in Protected Users. High; critical when a target is a domain
// controller (ldap/ on a DC is DCSync). Without protocol transition it can
// only pass on tickets of users who authenticate to it with Kerberos, the
// configuration Microsoft recommends over unconstrained delegation: low,
// medium when a target is a domain controller.
type constrainedDelegation struct{}

func (constrainedDelegation) ID() string { return RuleConstrainedDelegation }

func (constrainedDelegation) Severities() []Severity {
	return []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow}
}

func (constrainedDelegation) Check(ix *index) []Finding {
	var out []Finding
	for i := range ix.objs {
		if !ix.has(i, sumEnabled|sumDelegatesTo) {
			continue // delegates(o) is false
		}
		o := ix.objs[i]
		if !delegates(o) {
			continue
		}
		out = append(out, constrainedDelegationFinding(ix, o))
	}
	return out
}

func constrainedDelegationFinding(ix *index, o *inventory.Object) Finding {
	pt := protocolTransition(o)
	dcTarget := ix.delegatesToDC(o)
	sev := SeverityLow
	switch {
	case pt && dcTarget != "":
		sev = SeverityCritical
	case pt:
		sev = SeverityHigh
	case dcTarget != "":
		sev = SeverityMedium
	}
	name := ix.accountName(o)
	targets := listNames(o.AllowedToDelegateTo(), 3)
	var msg string
	if pt {
		msg = fmt.Sprintf("%s may delegate to %s with protocol transition: whoever controls it obtains tickets "+
			"to those services (and any other service of their accounts) as any user, without their credentials", name, targets)
	} else {
		msg = fmt.Sprintf("%s may delegate to %s: whoever controls it obtains tickets to those services "+
			"(and any other service of their accounts) as every user who authenticates to it", name, targets)
	}
	if dcTarget != "" {
		msg += fmt.Sprintf(", and %s is a domain controller's", dcTarget)
	}
	dn := psQuote(o.DN)
	fix := []string{}
	if pt {
		fix = append(fix, "Set-ADAccountControl -Identity "+dn+" -TrustedToAuthForDelegation $false")
	}
	fix = append(fix,
		"# Keep only the back-end SPNs the service needs, e.g.:",
		setCmdlet(o)+" -Identity "+dn+" -Remove @{'msDS-AllowedToDelegateTo'="+psQuote(o.AllowedToDelegateTo()[0])+"}",
		"# Or stop delegating: "+setCmdlet(o)+" -Identity "+dn+" -Clear 'msDS-AllowedToDelegateTo'",
		"# And protect privileged users: Set-ADAccountControl -Identity <admin> -AccountNotDelegated $true (or add them to Protected Users)",
	)
	return Finding{
		Rule:        RuleConstrainedDelegation,
		Severity:    sev,
		Accounts:    []string{o.DN},
		Message:     msg + ".",
		Remediation: fix,
		References:  []string{refKCD, refSetADAccountCtl, refProtectedUser},
	}
}
