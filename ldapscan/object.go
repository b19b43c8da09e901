package ldapscan

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spnaudit/spnaudit/inventory"
)

// objectAttributes are the attributes the inventory reads for each object.
var objectAttributes = []string{
	"objectGUID", "sAMAccountName", "objectClass", "userAccountControl",
	"dNSHostName", "msDS-SupportedEncryptionTypes", "pwdLastSet", "adminCount",
	"msDS-AllowedToDelegateTo", "uSNChanged", "servicePrincipalName",
	// privilege through a primary group, which no member value shows
	"primaryGroupID",
	"objectSid", attrAllowedToAct, // delegation.go
	"msDS-AdditionalDnsHostName", "msDS-AdditionalSamAccountName",
	// when and where servicePrincipalName last changed (replmeta.go)
	attrReplMetaXML, attrReplMetaBinary,
}

// objectFromRecord converts a directory entry into an inventory object. It is
// the one conversion shared by the LDAP scan and the LDIF reader.
func objectFromRecord(r *record) (inventory.Object, error) {
	o := inventory.Object{
		DN:                  r.dn,
		Domain:              inventory.DomainFromDN(r.dn),
		SAMAccountName:      r.first("sAMAccountName"),
		Kind:                kindOf(r),
		DNSHostName:         r.first("dNSHostName"),
		AllowedToDelegateTo: r.strings("msDS-AllowedToDelegateTo"),
		SPNs:                r.strings("servicePrincipalName"),
	}
	// A computer's other names count as its HOST names (host-alias-conflict).
	if dns, sam := r.strings("msDS-AdditionalDnsHostName"), r.strings("msDS-AdditionalSamAccountName"); dns != nil || sam != nil {
		o.Additional = &inventory.AdditionalNames{DNSHostNames: dns, SAMAccountNames: sam}
	}
	if g := r.values("objectGUID"); len(g) > 0 {
		guid, err := formatGUID(g[0])
		if err != nil {
			return o, fmt.Errorf("%s: objectGUID: %w", r.dn, err)
		}
		o.GUID = guid
	}
	var err error
	if o.UserAccountControl, _, err = int32Attr(r, "userAccountControl"); err != nil {
		return o, err
	}
	if enc, ok, err := int32Attr(r, "msDS-SupportedEncryptionTypes"); err != nil {
		return o, err
	} else if ok {
		o.SupportedEncryptionTypes = &enc
	}
	pwd, err := intAttr(r, "pwdLastSet")
	if err != nil {
		return o, err
	}
	o.PwdLastSet = fileTime(pwd)
	admin, err := intAttr(r, "adminCount")
	if err != nil {
		return o, err
	}
	o.AdminCount = int(admin)
	if o.USNChanged, err = intAttr(r, "uSNChanged"); err != nil {
		return o, err
	}
	primary, err := intAttr(r, "primaryGroupID")
	if err != nil {
		return o, err
	}
	o.PrimaryGroupID = int(primary)
	if err := readDelegation(r, &o); err != nil {
		return o, err
	}
	if err := readSPNChange(r, &o); err != nil {
		return o, err
	}
	return o, nil
}

// kindOf classifies by objectClass. The checks go from the most derived
// class: a gMSA is also a computer, and a computer is also a user.
func kindOf(r *record) inventory.Kind {
	switch {
	case r.has("objectClass", "msDS-GroupManagedServiceAccount"):
		return inventory.KindGMSA
	case r.has("objectClass", "msDS-ManagedServiceAccount"),
		// A delegated MSA (Windows Server 2025) also has a system-managed password.
		r.has("objectClass", "msDS-DelegatedManagedServiceAccount"):
		return inventory.KindMSA
	case r.has("objectClass", "computer"):
		return inventory.KindComputer
	case r.has("objectClass", "user"):
		return inventory.KindUser
	default:
		return inventory.KindOther
	}
}

// intAttr parses an INTEGER (or Large Integer) attribute; absent is 0.
func intAttr(r *record, name string) (int64, error) {
	v := r.first(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %s: %w", r.dn, name, err)
	}
	return n, nil
}

// int32Attr parses a 32-bit flags attribute. AD stores them as signed
// INTEGER, so bit 31 reads as a negative number; both forms are accepted.
func int32Attr(r *record, name string) (uint32, bool, error) {
	if r.first(name) == "" {
		return 0, false, nil
	}
	n, err := intAttr(r, name)
	if err != nil {
		return 0, false, err
	}
	if n < math.MinInt32 || n > math.MaxUint32 {
		return 0, false, fmt.Errorf("%s: %s: %d out of 32-bit range", r.dn, name, n)
	}
	return uint32(n), true, nil
}

// fileTime converts a FILETIME (100 ns intervals since 1601). 0 means never
// set and 0x7FFFFFFFFFFFFFFF means never expires: both are the zero time.
func fileTime(ft int64) time.Time {
	if ft <= 0 || ft == math.MaxInt64 {
		return time.Time{}
	}
	const (
		unixEpoch = 116444736000000000 // 1970-01-01 as a FILETIME
		perSecond = 10_000_000
	)
	since := ft - unixEpoch
	return time.Unix(since/perSecond, since%perSecond*100).UTC()
}

// formatGUID renders a binary objectGUID in its canonical text form: the
// first three fields are little-endian on the wire.
func formatGUID(b []byte) (string, error) {
	if len(b) != 16 {
		return "", fmt.Errorf("want 16 bytes, got %d", len(b))
	}
	// Hex by hand, not fmt: one GUID per object of a large export (issue 9).
	const hexDigits = "0123456789abcdef"
	var out [36]byte
	j := 0
	for i, k := range [16]int{3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15} {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hexDigits[b[k]>>4], hexDigits[b[k]&0xf]
		j += 2
	}
	return string(out[:]), nil
}
