package audit

import (
	"fmt"
	"time"

	"github.com/spnaudit/spnaudit/inventory"
)

// KDCDefaultEncTypes says which ticket encryption the domain controllers
// choose for an account whose msDS-SupportedEncryptionTypes is unset or 0.
type KDCDefaultEncTypes string

const (
	// KDCDefaultAES (the zero value means the same) is a domain controller
	// with the CVE-2026-20833 updates (KB5073381: audit events from January
	// 2026, AES-only default enforced from April 2026, rollback removed in
	// July 2026) and no DefaultDomainSupportedEncTypes allowing RC4: it
	// issues AES-only (0x18) service tickets to such accounts.
	KDCDefaultAES KDCDefaultEncTypes = "aes"
	// KDCDefaultRC4 is a domain controller that still issues RC4 tickets by
	// default: without the 2026 updates, or with DefaultDomainSupportedEncTypes
	// including RC4.
	KDCDefaultRC4 KDCDefaultEncTypes = "rc4"
)

// Validate reports a value other than "aes", "rc4" or empty.
func (k KDCDefaultEncTypes) Validate() error {
	switch k {
	case "", KDCDefaultAES, KDCDefaultRC4:
		return nil
	}
	return fmt.Errorf("%q is neither aes nor rc4; use aes (domain controllers with the 2026 RC4 updates) or rc4 (DefaultDomainSupportedEncTypes includes RC4, or the updates are not installed)", string(k))
}

const (
	encAES = inventory.EncAES128 | inventory.EncAES256
	encDES = inventory.EncDESCBCCRC | inventory.EncDESCBCMD5
)

// explicitEncTypes returns msDS-SupportedEncryptionTypes when it is set to a
// non-zero value; unset and 0 both leave the choice to the KDC's default.
func explicitEncTypes(o *inventory.Object) (uint32, bool) {
	if enc := o.SupportedEncryptionTypes; enc != nil && *enc != 0 {
		return *enc, true
	}
	return 0, false
}

// issuesRC4ByDefault reports whether the KDC gives RC4 tickets to an
// account without explicit encryption types.
func (ix *index) issuesRC4ByDefault() bool { return ix.kdcDefault == KDCDefaultRC4 }

// aesThreshold returns the time from which passwords of o's domain have AES
// keys, and false when the scan could not tell.
func (ix *index) aesThreshold(o *inventory.Object) (time.Time, bool) {
	t, ok := ix.snap.Directory.AESThresholds[o.Domain]
	return t, ok && !t.IsZero()
}

// lacksAESKeys reports whether o's password was set before its domain could
// derive AES keys (or never set, pwdLastSet=0), and whether that is known.
func (ix *index) lacksAESKeys(o *inventory.Object) (lacks, known bool) {
	threshold, ok := ix.aesThreshold(o)
	if !ok {
		return false, false
	}
	return o.PwdLastSet.IsZero() || o.PwdLastSet.Before(threshold), true
}
