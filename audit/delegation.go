package audit

import (
	"strings"

	"github.com/spnaudit/spnaudit/inventory"
)

// Helpers shared by the delegation rules (constrained-delegation,
// delegation-target, resource-based-delegation).

const (
	refSetADComputer = "https://learn.microsoft.com/en-us/powershell/module/activedirectory/set-adcomputer"
	refMachineQuota  = "https://learn.microsoft.com/en-us/troubleshoot/windows-server/active-directory/default-workstation-numbers-join-domain"
	refProtectedUser = "https://learn.microsoft.com/en-us/windows-server/security/credentials-protection-and-management/protected-users-security-group"
)

// delegates reports whether o is an enabled account configured for
// constrained delegation (msDS-AllowedToDelegateTo).
func delegates(o *inventory.Object) bool {
	return o.Enabled() && len(o.AllowedToDelegateTo()) > 0
}

// protocolTransition reports whether o may use S4U2Self to obtain tickets
// for any user without that user's credentials (TRUSTED_TO_AUTH_FOR_DELEGATION).
func protocolTransition(o *inventory.Object) bool {
	return o.UserAccountControl&inventory.UACTrustedToAuthForDelegation != 0
}

// dcHost returns the domain controller a host name refers to, or nil.
func (ix *index) dcHost(host string) *inventory.Object {
	var found [4]int32
	for _, m := range ix.machines(host, found[:0]) {
		if ix.objs[m].IsDC() {
			return ix.objs[m]
		}
	}
	return nil
}

// delegatesToDC returns the first delegation target of o whose host is a
// domain controller ("" when none): tickets to a DC's services as any user
// (ldap/ for DCSync, cifs/ and host/ for its disks) are the domain.
func (ix *index) delegatesToDC(o *inventory.Object) string {
	for _, raw := range o.AllowedToDelegateTo() {
		if spn, problems := ParseSPN(raw); problems == nil && ix.dcHost(spn.Host) != nil {
			return raw
		}
	}
	return ""
}

// broadPrincipals are SIDs that stand for every user or every computer of
// a domain (MS-DTYP 2.4.2.4): any user is one, or can make one through
// ms-DS-MachineAccountQuota.
var broadPrincipals = map[string]string{
	"S-1-1-0":      "Everyone",
	"S-1-5-7":      "Anonymous Logon",
	"S-1-5-11":     "Authenticated Users",
	"S-1-5-32-545": `BUILTIN\Users`,
}

// broadPrincipal returns the name of a SID that every user (or every
// computer) of a domain matches, and false for any other SID.
func broadPrincipal(sid string) (string, bool) {
	if name, ok := broadPrincipals[sid]; ok {
		return name, true
	}
	if strings.HasPrefix(sid, "S-1-5-21-") {
		switch {
		case strings.HasSuffix(sid, "-513"):
			return "Domain Users", true
		case strings.HasSuffix(sid, "-515"):
			return "Domain Computers", true
		}
	}
	return "", false
}

// objectBySID returns the inventory object with the given objectSid, or nil.
func (ix *index) objectBySID(sid string) *inventory.Object {
	if sid == "" {
		return nil
	}
	ix.bySIDOnce.Do(func() {
		ix.bySID = make(map[string]int32)
		for i := range ix.objs {
			if s := ix.objs[i].ObjectSID; s != "" {
				ix.bySID[s] = int32(i)
			}
		}
	})
	if i, ok := ix.bySID[sid]; ok {
		return ix.objs[i]
	}
	return nil
}

// principalName names a principal the way findings name accounts
// (DOMAIN\sam), falling back to the inventory, well-known names and, when
// nothing names it, the SID itself.
func (ix *index) principalName(p *inventory.Principal) string {
	switch {
	case p.SAMAccountName != "":
		return ix.accountName(&inventory.Object{DN: p.DN, Domain: p.Domain, SAMAccountName: p.SAMAccountName})
	case ix.objectBySID(p.SID) != nil:
		return ix.accountName(ix.objectBySID(p.SID))
	case p.WellKnown != "":
		return p.WellKnown
	}
	if name, ok := broadPrincipal(p.SID); ok {
		return name + " (" + p.SID + ")"
	}
	if p.DN != "" {
		return p.DN
	}
	return p.SID
}
