package audit

import (
	"fmt"

	"github.com/spnaudit/spnaudit/inventory"
)

// weakEncryption reports an enabled account with an SPN whose
// msDS-SupportedEncryptionTypes allows no AES type: its service tickets are
// RC4 (or DES), which is fast to crack offline and is being removed from
// Windows. An unset or zero attribute leaves the choice to the KDC's
// DefaultDomainSupportedEncTypes, which is RC4 on domain controllers without
// the 2026 hardening, so it is reported too. High for user accounts (human
// passwords) and when DES is enabled, medium otherwise (computers, managed
// service accounts, Samba's dns-<DC> account: random passwords).
type weakEncryption struct{}

func (weakEncryption) ID() string { return RuleWeakEncryption }

func (weakEncryption) Severities() []Severity {
	return []Severity{SeverityHigh, SeverityMedium}
}

const encAES = inventory.EncAES128 | inventory.EncAES256

func (weakEncryption) Check(ix *index) []Finding {
	var out []Finding
	for i := range ix.objs {
		o := &ix.objs[i]
		if !o.Enabled() || isKrbtgt(o) || len(o.SPNs) == 0 {
			continue
		}
		if enc := o.SupportedEncryptionTypes; enc == nil || *enc&encAES == 0 {
			out = append(out, weakEncryptionFinding(ix, o, o.Kind == inventory.KindUser && !ix.isSambaDNSAccount(o)))
		}
	}
	return out
}

// weakEncryptionFinding reports o; humanPassword says a person chose its
// password, which RC4 makes fast to crack.
func weakEncryptionFinding(ix *index, o *inventory.Object, humanPassword bool) Finding {
	sev := SeverityMedium
	if humanPassword {
		sev = SeverityHigh
	}
	state := "is not set, so the KDC's default applies (RC4 unless the domain controllers are hardened)"
	if enc := o.SupportedEncryptionTypes; enc != nil && *enc != 0 {
		state = fmt.Sprintf("is 0x%X, which allows no AES type", *enc)
		if *enc&(inventory.EncDESCBCCRC|inventory.EncDESCBCMD5) != 0 {
			sev = SeverityHigh
			state += " and enables DES"
		}
	}
	dn := psQuote(o.DN)
	fix := setCmdlet(o) + " -Identity " + dn + " -KerberosEncryptionType AES128,AES256"
	if setCmdlet(o) == "Set-ADObject" {
		fix = "Set-ADObject -Identity " + dn + " -Replace @{'msDS-SupportedEncryptionTypes'=24}"
	}
	remediation := []string{fix}
	if o.Kind == inventory.KindUser {
		remediation = append(remediation,
			"# A password set before the domain supported AES has no AES keys; reset it once:",
			"Set-ADAccountPassword -Identity "+dn+" -Reset")
	}
	return Finding{
		Rule:     RuleWeakEncryption,
		Severity: sev,
		Accounts: []string{o.DN},
		Message: fmt.Sprintf("%s holds SPNs but its msDS-SupportedEncryptionTypes %s: its service tickets "+
			"use RC4, which is fast to crack offline and being removed from Windows.", ix.accountName(o), state),
		Remediation: remediation,
		References:  []string{refEncTypes, refKB5021131, refSetADUser},
	}
}
