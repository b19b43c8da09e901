package audit

import (
	"fmt"

	"github.com/spnaudit/spnaudit/inventory"
)

// resourceBasedDelegation reports each principal that the DACL of an
// account's msDS-AllowedToActOnBehalfOfOtherIdentity allows: resource-based
// constrained delegation (RBCD). Whoever controls that principal uses
// S4U2Self and S4U2Proxy (MS-SFU 3.2.5.1.2, 3.2.5.2) to obtain tickets to
// every service of the account as any user not marked sensitive, with no
// one logging on: administrator on that host.
//
// Severity follows how many people control the principal:
//   - critical: the account is a domain controller, or the principal is
//     Everyone, Authenticated Users, Domain Users, Domain Computers or
//     BUILTIN\Users: every user, directly or through a computer account any
//     user may create (ms-DS-MachineAccountQuota, 10 by default).
//   - high: a computer account an ordinary user created through the quota
//     (mS-DS-CreatorSID is set: its creator controls it), a user account
//     (a password a person chose, Kerberoastable when it holds SPNs), or a
//     group (every current and future member).
//   - medium: a computer or managed service account (random password the
//     system rotates), or a SID nothing in the directory answers for.
type resourceBasedDelegation struct{}

func (resourceBasedDelegation) ID() string { return RuleResourceBasedDelegate }

func (resourceBasedDelegation) Severities() []Severity {
	return []Severity{SeverityCritical, SeverityHigh, SeverityMedium}
}

func (resourceBasedDelegation) Check(ix *index) []Finding {
	var out []Finding
	for i := range ix.objs {
		if !ix.has(i, sumEnabled|sumActOnBehalf) {
			continue
		}
		o := ix.objs[i]
		if !o.Enabled() {
			continue
		}
		for j := range o.AllowedToActOnBehalf() {
			out = append(out, rbcdFinding(ix, o, &o.AllowedToActOnBehalf()[j]))
		}
	}
	return out
}

func rbcdFinding(ix *index, o *inventory.Object, p *inventory.Principal) Finding {
	// The inventory knows principals that hold SPNs even when the scan
	// could not name them (an LDIF export, say).
	kind, group, dn := p.Kind, p.Group, p.DN
	if known := ix.objectBySID(p.SID); known != nil && dn == "" {
		kind, dn = known.Kind, known.DN
	}
	pname, name := ix.principalName(p), ix.accountName(o)
	sev, why := SeverityMedium, ""
	_, broad := broadPrincipal(p.SID)
	switch {
	case broad:
		sev, why = SeverityCritical, "that is every user, directly or through a computer account any user may create"
	case o.IsDC():
		sev, why = SeverityCritical, "a domain controller: that is the domain"
	case p.CreatorSID != "":
		sev, why = SeverityHigh, fmt.Sprintf("%s was created through ms-DS-MachineAccountQuota by %s, who controls it",
			pname, ix.principalName(creatorOf(p)))
	case group:
		sev, why = SeverityHigh, fmt.Sprintf("%s is a group: every current and future member may", pname)
	case kind == inventory.KindUser:
		sev, why = SeverityHigh, fmt.Sprintf("%s is a user account, whose password a person chose", pname)
	case dn == "" && p.WellKnown == "":
		why = "the SID matches nothing in the directory (a deleted account, or one of another forest)"
	}
	msg := fmt.Sprintf("%s may impersonate any user to every service of %s (resource-based constrained delegation)", pname, name)
	if why != "" {
		msg += "; " + why
	}
	accounts := []string{o.DN}
	if dn != "" {
		accounts = append(accounts, dn)
	}
	target := psQuote(o.DN)
	clear := setCmdlet(o) + " -Identity " + target + " -PrincipalsAllowedToDelegateToAccount $null"
	if setCmdlet(o) == "Set-ADObject" {
		clear = "Set-ADObject -Identity " + target + " -Clear 'msDS-AllowedToActOnBehalfOfOtherIdentity'"
	}
	fix := []string{
		clear,
		"# Or keep only the front ends that must delegate: " + setCmdlet(o) + " -Identity " + target +
			" -PrincipalsAllowedToDelegateToAccount (Get-ADComputer <front-end>)",
	}
	if p.CreatorSID != "" || broad {
		fix = append(fix, "# Stop ordinary users creating computer accounts: Set-ADDomain -Identity "+
			psQuote(domainOf(o))+" -Replace @{'ms-DS-MachineAccountQuota'=0}")
	}
	fix = append(fix, "# And protect privileged users: Set-ADAccountControl -Identity <admin> -AccountNotDelegated $true (or add them to Protected Users)")
	refs := []string{refKCD, refSetADComputer, refProtectedUser}
	if p.CreatorSID != "" || broad {
		refs = append(refs, refMachineQuota)
	}
	return Finding{
		Rule:        RuleResourceBasedDelegate,
		Severity:    sev,
		Accounts:    accounts,
		Message:     msg + ".",
		Remediation: fix,
		References:  refs,
	}
}

// creatorOf returns the account that created a quota-made computer, as far
// as the scan named it.
func creatorOf(p *inventory.Principal) *inventory.Principal {
	if p.Creator != nil {
		return p.Creator
	}
	return &inventory.Principal{SID: p.CreatorSID}
}
