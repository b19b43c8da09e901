package audit

import (
	"strconv"
	"strings"

	"github.com/spnaudit/spnaudit/inventory"
)

// kerberoastableAccount reports an enabled user account with an SPN: any
// domain user can request a service ticket encrypted with a key derived from
// its (human-chosen) password and crack it offline. Computers and managed
// service accounts have long random passwords (as does the dns-<DC> account a
// Samba domain controller provisions), and krbtgt is not a service.
// Critical when the account is privileged through (transitive) membership in
// a protected group, primaryGroupID included: cracking its password gives
// the domain. High when adminCount=1 (a hint only: SDProp sets it up to an
// hour late, Samba never, and never clears it) or its password is older than
// Config.MaxPasswordAge or was never set; medium otherwise.
type kerberoastableAccount struct{}

func (kerberoastableAccount) ID() string { return RuleKerberoastableAccount }

func (kerberoastableAccount) Severities() []Severity {
	return []Severity{SeverityCritical, SeverityHigh, SeverityMedium}
}

func (kerberoastableAccount) Check(ix *index) []Finding {
	// Counted first: a flood has a finding for every user, and growing the
	// slice by appending copied them all several times (issue 9).
	n := 0
	const want = sumUser | sumEnabled | sumSPNs // kerberoastable's first questions
	for i := range ix.objs {
		if ix.has(i, want) && kerberoastable(ix, ix.objs[i]) {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]Finding, 0, n)
	dns := make([]string, n) // every finding's Accounts, in one allocation
	for i := range ix.objs {
		if o := ix.objs[i]; ix.has(i, want) && kerberoastable(ix, o) {
			k := len(out)
			dns[k] = o.DN
			out = append(out, kerberoastFinding(ix, o, dns[k:k+1:k+1]))
		}
	}
	return out
}

func kerberoastable(ix *index, o *inventory.Object) bool {
	return o.Kind == inventory.KindUser && o.Enabled() && !isKrbtgt(o) && len(o.SPNs) > 0 && !ix.isSambaDNSAccount(o)
}

// kerberoastFinding is the finding for o; accounts holds o.DN.
func kerberoastFinding(ix *index, o *inventory.Object, accounts []string) Finding {
	// Built with one Builder, not fmt.Sprintf: a flood of user SPNs makes
	// hundreds of thousands of these findings (issue 9).
	sev := SeverityMedium
	var adminWhy, ageWhy string
	if o.AdminCount == 1 {
		sev = SeverityHigh
		adminWhy = "it is privileged (adminCount=1)"
	}
	switch age, known := ix.passwordAge(o); {
	case o.PwdLastSet.IsZero():
		sev = SeverityHigh
		ageWhy = "its password was never set (pwdLastSet=0)"
	case known && age > ix.maxPwdAge:
		sev = SeverityHigh
		ageWhy = "its password is " + strconv.Itoa(int(age.Hours()/24)) + " days old (limit " + strconv.Itoa(int(ix.maxPwdAge.Hours()/24)) + ")"
	}
	var privWhy string
	if o.Privilege != nil {
		sev = SeverityCritical
		privWhy = "it is privileged: " + describePrivilege(o.Privilege)
	}
	name := ix.accountName(o)
	const (
		crackable = "): any domain user can request a ticket encrypted with its password and crack it offline"
		unknown   = " (whether it is privileged through group membership is unknown: the source holds no protected groups of its domain)"
	)
	shown := o.SPNs[:min(len(o.SPNs), 2)]
	size := len(name) + len(" is a user account with  SPN(s) (") + 20 + len(crackable) + len(unknown) + 1 +
		len(privWhy) + len(adminWhy) + len(ageWhy) + 2*len(", and ") + len(" and 9999 more")
	for _, spn := range shown {
		size += len(spn) + 2
	}
	var b strings.Builder
	b.Grow(size)
	b.WriteString(name)
	b.WriteString(" is a user account with ")
	b.WriteString(strconv.Itoa(len(o.SPNs)))
	b.WriteString(" SPN(s) (")
	// listNames(o.SPNs, 2), written in place.
	for i, spn := range shown {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(spn)
	}
	if more := len(o.SPNs) - len(shown); more > 0 {
		b.WriteString(" and ")
		b.WriteString(strconv.Itoa(more))
		b.WriteString(" more")
	}
	b.WriteString(crackable)
	sep := ", and "
	for _, why := range [...]string{privWhy, adminWhy, ageWhy} {
		if why != "" {
			b.WriteString(sep)
			b.WriteString(why)
			sep = " and "
		}
	}
	if o.Privilege == nil && o.PrivilegeUnknown {
		b.WriteString(unknown)
	}
	b.WriteByte('.')
	msg := b.String()
	// The three lines naming the account share one string.
	dn, setspnName := psQuote(o.DN), psArg(name)
	const (
		resetPrefix = "Set-ADAccountPassword -Identity "
		resetSuffix = " -Reset"
		aesPrefix   = "Set-ADUser -Identity "
		aesSuffix   = " -KerberosEncryptionType AES128,AES256"
		unusedLine  = "# If the SPNs are no longer used, remove them instead: setspn -L "
	)
	var lines strings.Builder
	lines.Grow(len(resetPrefix) + len(resetSuffix) + len(aesPrefix) + len(aesSuffix) + len(unusedLine) + 2*len(dn) + len(setspnName))
	lines.WriteString(resetPrefix)
	lines.WriteString(dn)
	lines.WriteString(resetSuffix)
	reset := lines.Len()
	lines.WriteString(aesPrefix)
	lines.WriteString(dn)
	lines.WriteString(aesSuffix)
	aes := lines.Len()
	lines.WriteString(unusedLine)
	lines.WriteString(setspnName)
	all := lines.String()
	return Finding{
		Rule:     RuleKerberoastableAccount,
		Severity: sev,
		Accounts: accounts,
		Message:  msg,
		Remediation: []string{
			"# Best: run the service as a group managed service account (New-ADServiceAccount ... " +
				"-KerberosEncryptionType AES128,AES256); AD gives it a random 120-character password and rotates it.",
			"# Otherwise set a long random password (25+ characters) and allow AES only:",
			all[:reset],
			all[reset:aes],
			all[aes:],
		},
		References: kerberoastReferences,
	}
}

// kerberoastReferences is shared by every kerberoastable-account finding:
// nothing writes a finding's lists in place.
var kerberoastReferences = []string{refKerberoasting, refGMSA, refSetADUser}

// describePrivilege names the protected group and the chain of groups that
// leads to it, by their common names: "member of Domain Admins through
// Tier0 Ops -> Domain Admins".
func describePrivilege(p *inventory.Privilege) string {
	names := make([]string, len(p.Chain))
	for i, dn := range p.Chain {
		names[i] = commonNameOf(dn)
	}
	how := "a member of " + p.Group
	if p.PrimaryGroup {
		how += " (primary group " + names[0] + ")"
	}
	if len(names) > 1 {
		how += " through " + strings.Join(names, " -> ")
	}
	return how
}

// commonNameOf returns the value of a DN's first RDN ("CN=Tier0 Ops,OU=x"
// -> "Tier0 Ops"), unescaping "\,"; the DN itself when it has no RDN value.
func commonNameOf(dn string) string {
	var b strings.Builder
	_, rest, ok := strings.Cut(dn, "=")
	if !ok {
		return dn
	}
	for i := 0; i < len(rest); i++ {
		switch c := rest[i]; {
		case c == '\\' && i+1 < len(rest):
			i++
			b.WriteByte(rest[i])
		case c == ',':
			return b.String()
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
