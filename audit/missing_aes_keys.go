package audit

import (
	"fmt"

	"github.com/spnaudit/spnaudit/inventory"
)

const (
	refKB5073381 = "https://support.microsoft.com/en-us/topic/how-to-manage-kerberos-kdc-usage-of-rc4-for-service-account-ticket-issuance-changes-related-to-cve-2026-20833-1ebcda33-720a-4da8-93c1-b0496e1910dc"
	refEvent4769 = "https://learn.microsoft.com/en-us/previous-versions/windows/it-pro/windows-10/security/threat-protection/auditing/event-4769"
)

// missingAESKeys reports an account holding SPNs whose password was set
// before its domain could derive AES keys: pwdLastSet older than the
// whenCreated of the domain's Read-only Domain Controllers group (RID 521,
// created when the domain's first Windows Server 2008 domain controller
// arrived; the proxy PingCastle and Microsoft's own RC4 assessment scripts
// use), or 0. Such an account has only RC4 (and DES) keys. Since the
// CVE-2026-20833 updates (KB5073381) the KDC issues AES-only tickets to
// accounts without msDS-SupportedEncryptionTypes, so Kerberos to its services
// fails with KDC_ERR_ETYPE_NOSUPP.
//
// Severity follows what breaks, and when:
//   - high: enabled, and the KDC wants AES for it: msDS-SupportedEncryptionTypes
//     unset (with the default audit.kdc_default_enctypes: aes) or including an
//     AES bit. It fails now on updated domain controllers.
//   - medium: enabled, and it still gets RC4 tickets: an explicit value
//     without AES (an RC4 exception, which weak-encryption reports too) or
//     unset with kdc_default_enctypes: rc4. It works until RC4 goes.
//   - low: disabled; it fails when re-enabled.
//
// Domains whose group the scan could not read are not judged.
type missingAESKeys struct{}

func (missingAESKeys) ID() string { return RuleMissingAESKeys }

func (missingAESKeys) Severities() []Severity {
	return []Severity{SeverityHigh, SeverityMedium, SeverityLow}
}

func (missingAESKeys) Check(ix *index) []Finding {
	var out []Finding
	for i := range ix.objs {
		if !ix.has(i, sumSPNs) {
			continue
		}
		o := ix.objs[i]
		if len(o.SPNs) == 0 {
			continue
		}
		// isKrbtgt last: it reads the name, another cache line per object.
		if lacks, known := ix.lacksAESKeys(o); lacks && known && !isKrbtgt(o) {
			out = append(out, missingAESKeysFinding(ix, o))
		}
	}
	return out
}

// missingAESKeysImpact returns the severity and what breaks for o.
func missingAESKeysImpact(ix *index, o *inventory.Object) (Severity, string) {
	enc, explicit := explicitEncTypes(o)
	switch {
	case !o.Enabled():
		return SeverityLow, "it is disabled; if it is enabled again, Kerberos to its SPNs fails unless RC4 is allowed for it"
	case explicit && enc&encAES != 0:
		return SeverityHigh, fmt.Sprintf("its msDS-SupportedEncryptionTypes (0x%X) asks for AES, so the KDC falls back to RC4 "+
			"(KDCSVC event 207) or, with the 2026 updates enforced, refuses (event 209, KDC_ERR_ETYPE_NOSUPP)", enc)
	case explicit:
		return SeverityMedium, fmt.Sprintf("it works only through its RC4 exception (msDS-SupportedEncryptionTypes 0x%X), "+
			"and Kerberos to its SPNs fails with KDC_ERR_ETYPE_NOSUPP the day that exception or RC4 is removed", enc)
	case ix.issuesRC4ByDefault():
		return SeverityMedium, "it works only while the domain controllers issue RC4 by default (audit.kdc_default_enctypes: rc4), " +
			"and Kerberos to its SPNs fails with KDC_ERR_ETYPE_NOSUPP once they enforce the 2026 AES-only default"
	}
	return SeverityHigh, "msDS-SupportedEncryptionTypes is not set, so domain controllers with the 2026 updates issue it " +
		"AES-only tickets and Kerberos to its SPNs fails with KDC_ERR_ETYPE_NOSUPP (KDCSVC event 204; event 202 in audit mode)"
}

func missingAESKeysFinding(ix *index, o *inventory.Object) Finding {
	threshold, _ := ix.aesThreshold(o)
	when := "was never set or must be changed at next logon (pwdLastSet=0)"
	if !o.PwdLastSet.IsZero() {
		when = "was last set on " + o.PwdLastSet.UTC().Format("2006-01-02")
	}
	sev, impact := missingAESKeysImpact(ix, o)
	return Finding{
		Rule:     RuleMissingAESKeys,
		Severity: sev,
		Accounts: []string{o.DN},
		Message: fmt.Sprintf("%s holds SPNs but its password %s, before %s could make AES keys (its Read-only Domain Controllers "+
			"group, RID 521, was created on %s): it has only RC4 keys, and %s.",
			ix.accountName(o), when, o.Domain, threshold.UTC().Format("2006-01-02"), impact),
		Remediation: missingAESKeysFix(ix, o),
		References:  []string{refKB5073381, refKB5021131, refEvent4769, refEncTypes},
	}
}

// missingAESKeysFix gives the password reset that fits the kind of account,
// then how to confirm the keys exist.
func missingAESKeysFix(ix *index, o *inventory.Object) []string {
	dn := psQuote(o.DN)
	var fix []string
	switch {
	case o.Kind == inventory.KindComputer:
		fix = []string{
			"# A joined Windows computer changes its password every 30 days by itself: one this old means the computer is gone " +
				"(remove the account) or its password changes are disabled. On the computer, reset it once:",
			"Reset-ComputerMachinePassword",
			"# A non-Windows host with a keytab: reset the account's password and export a new AES keytab " +
				"(ktpass /crypto AES256-SHA1, or msktutil --update --enctypes 0x18).",
		}
	case o.Kind == inventory.KindMSA:
		fix = []string{"# On the host that runs the service:", "Reset-ADServiceAccountPassword -Identity " + psArg(o.SAMAccountName)}
	case o.Kind == inventory.KindGMSA:
		fix = []string{"# A gMSA changes its password every msDS-ManagedPasswordInterval days: one this old means the rotation " +
			"is stuck; check the KDS root key (Get-KdsRootKey) and the account:",
			"Get-ADServiceAccount -Identity " + dn + " -Properties PasswordLastSet,msDS-ManagedPasswordInterval"}
	default:
		fix = []string{
			"# Reset the password once (a new long random one) on a domain controller that makes AES keys, then update " +
				"the services and keytabs that use it:",
			"Set-ADAccountPassword -Identity " + dn + " -Reset",
		}
	}
	return append(fix,
		"# Confirm: event 4769 on a domain controller for a ticket to one of its SPNs lists AES256-SHA96 and AES128-SHA96 under Available Keys; KDCSVC events 201-209 in the System log "+
			"(KB5073381) name accounts still tied to RC4.")
}
