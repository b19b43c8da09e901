package audit

import (
	"fmt"

	"github.com/spnaudit/spnaudit/inventory"
)

// weakEncryption reports an enabled account with an SPN whose service
// tickets are RC4 or DES by choice:
//   - msDS-SupportedEncryptionTypes set without any AES bit: a deliberate RC4
//     exception, crackable offline, which breaks when RC4 is removed;
//   - DES bits in msDS-SupportedEncryptionTypes, or USE_DES_KEY_ONLY in
//     userAccountControl (0x200000): DES is broken and off by default since
//     Windows Server 2008 R2.
//
// Both are high. An unset (or 0) value is no finding: domain controllers with
// the CVE-2026-20833 updates (KB5073381, enforced from April 2026) issue
// AES-only tickets to it; an account that lacks AES keys is
// missing-aes-keys' concern. With Config.KDCDefaultEncTypes = rc4 (DCs that
// still issue RC4 by default) an unset value is reported as before: high for
// user accounts (human passwords), medium otherwise (computers, managed
// service accounts, Samba's dns-<DC> account: random passwords).
type weakEncryption struct{}

func (weakEncryption) ID() string { return RuleWeakEncryption }

func (weakEncryption) Severities() []Severity {
	return []Severity{SeverityHigh, SeverityMedium}
}

func (weakEncryption) Check(ix *index) []Finding {
	var out []Finding
	for i := range ix.objs {
		if !ix.has(i, sumEnabled|sumSPNs) {
			continue
		}
		o := ix.objs[i]
		if !o.Enabled() || len(o.SPNs) == 0 {
			continue
		}
		enc, explicit := explicitEncTypes(o)
		weak := o.UserAccountControl&inventory.UACUseDESKeyOnly != 0 || explicit && (enc&encDES != 0 || enc&encAES == 0)
		// isKrbtgt only for an account to report: it reads the name,
		// another cache line per object (issue 9).
		switch {
		case !weak && (explicit || !ix.issuesRC4ByDefault()), isKrbtgt(o):
		case weak:
			out = append(out, weakEncryptionFinding(ix, o, SeverityHigh))
		case !explicit && ix.issuesRC4ByDefault():
			sev := SeverityMedium
			if o.Kind == inventory.KindUser && !ix.isSambaDNSAccount(o) {
				sev = SeverityHigh
			}
			out = append(out, weakEncryptionFinding(ix, o, sev))
		}
	}
	return out
}

// weakEncryptionState describes why o's tickets are weak, for the message.
func weakEncryptionState(ix *index, o *inventory.Object) string {
	enc, explicit := explicitEncTypes(o)
	var state string
	switch {
	case !explicit && !ix.issuesRC4ByDefault():
		state = "msDS-SupportedEncryptionTypes is not set"
	case !explicit:
		state = "msDS-SupportedEncryptionTypes is not set and the domain controllers still issue RC4 by default " +
			"(audit.kdc_default_enctypes: rc4), so its service tickets use RC4"
	case enc&encAES == 0:
		state = fmt.Sprintf("msDS-SupportedEncryptionTypes is 0x%X, which allows no AES type: an explicit RC4 exception, "+
			"so its service tickets use RC4, and Kerberos to it breaks when RC4 is removed", enc)
	default:
		state = fmt.Sprintf("msDS-SupportedEncryptionTypes is 0x%X", enc)
	}
	if explicit && enc&encDES != 0 {
		state += ", and it enables DES"
	}
	if o.UserAccountControl&inventory.UACUseDESKeyOnly != 0 {
		state += ", and userAccountControl has USE_DES_KEY_ONLY (0x200000)"
	}
	return state
}

func weakEncryptionFinding(ix *index, o *inventory.Object, sev Severity) Finding {
	dn := psQuote(o.DN)
	fix := setCmdlet(o) + " -Identity " + dn + " -KerberosEncryptionType AES128,AES256"
	if setCmdlet(o) == "Set-ADObject" {
		fix = "Set-ADObject -Identity " + dn + " -Replace @{'msDS-SupportedEncryptionTypes'=24}"
	}
	remediation := []string{fix}
	if o.UserAccountControl&inventory.UACUseDESKeyOnly != 0 {
		remediation = append(remediation, "Set-ADAccountControl -Identity "+dn+" -UseDESKeyOnly $false")
	}
	remediation = append(remediation,
		"# Before removing RC4, make sure the account has AES keys (see missing-aes-keys): the domain controllers' "+
			"event 4769 for its SPNs lists them under Available Keys; if only RC4 is listed, reset the password once.")
	return Finding{
		Rule:     RuleWeakEncryption,
		Severity: sev,
		Accounts: []string{o.DN},
		Message: fmt.Sprintf("%s holds SPNs but its %s; RC4 and DES tickets are fast to crack offline.",
			ix.accountName(o), weakEncryptionState(ix, o)),
		Remediation: remediation,
		References:  []string{refEncTypes, refKB5021131, refKB5073381, refSetADUser},
	}
}
