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
	return objectFromRecordIn(r, nil)
}

// objectFromRecordIn is objectFromRecord with the object's strings and lists
// cut from slab's (nil: the object's own). The object's strings
// (sAMAccountName, dNSHostName, SPNs, delegation targets) are cut from one
// string, and its two lists from one slice: two allocations where there
// were one per value, or none with a slab, and fewer objects for the
// collector to mark (issue 9).
func objectFromRecordIn(r *record, slab *objectSlab) (inventory.Object, error) {
	ids := &objectAttrIDs
	guid, sam, dns := r.known[ids.guid], r.known[ids.sam], r.known[ids.dns]
	deleg, spns := r.known[ids.deleg], r.known[ids.spns]
	var objectGUID inventory.GUID
	if len(guid) > 0 {
		var err error
		if objectGUID, err = inventory.GUIDFromBytes(guid[0]); err != nil {
			return inventory.Object{DN: r.dn, Domain: inventory.DomainFromDN(r.dn)}, fmt.Errorf("%s: objectGUID: %w", r.dn, err)
		}
	}
	var text objectText
	text.sizeFirst(sam)
	text.sizeFirst(dns)
	text.sizeAll(deleg)
	text.sizeAll(spns)
	text.b, text.base = slab.text(text.n)
	text.writeFirst(sam)
	text.writeFirst(dns)
	text.writeAll(deleg)
	text.writeAll(spns)
	text.s = text.b.String()[text.base:]
	lists := slab.list(len(deleg) + len(spns))
	o := inventory.Object{
		DN:     r.dn,
		Domain: slab.domainOf(r.dn),
		Kind:   kindOf(r),
		GUID:   objectGUID,
	}
	o.SAMAccountName = text.first(sam)
	o.DNSHostName = text.first(dns)
	if len(deleg) > 0 {
		o.SetAllowedToDelegateTo(text.all(deleg, lists[:len(deleg):len(deleg)]))
	}
	o.SPNs = text.all(spns, lists[len(deleg):])
	// A computer's other names count as its HOST names (host-alias-conflict).
	if len(r.known[ids.addDNS]) > 0 || len(r.known[ids.addSAM]) > 0 {
		o.Additional = &inventory.AdditionalNames{DNSHostNames: r.strings("msDS-AdditionalDnsHostName"),
			SAMAccountNames: r.strings("msDS-AdditionalSamAccountName")}
	}
	var err error
	if o.UserAccountControl, _, err = int32Value(r, r.known[ids.uac], "userAccountControl"); err != nil {
		return o, err
	}
	if enc, ok, err := int32Value(r, r.known[ids.enc], "msDS-SupportedEncryptionTypes"); err != nil {
		return o, err
	} else if ok {
		o.SupportedEncryptionTypes = &enc
	}
	pwd, err := intValue(r, r.known[ids.pwd], "pwdLastSet")
	if err != nil {
		return o, err
	}
	o.PwdLastSet = fileTime(pwd)
	// adminCount and primaryGroupID are 32-bit INTEGERs (int32Value
	// refuses a value out of that range).
	admin, _, err := int32Value(r, r.known[ids.admin], "adminCount")
	if err != nil {
		return o, err
	}
	o.AdminCount = int32(admin)
	if o.USNChanged, err = intValue(r, r.known[ids.usn], "uSNChanged"); err != nil {
		return o, err
	}
	primary, _, err := int32Value(r, r.known[ids.primary], "primaryGroupID")
	if err != nil {
		return o, err
	}
	o.PrimaryGroupID = int32(primary)
	if err := readDelegation(r, &o); err != nil {
		return o, err
	}
	if err := readSPNChange(r, &o); err != nil {
		return o, err
	}
	return o, nil
}

// objectText builds the one string an object's strings are cut from: sized
// first, written in the same order, then cut in that order.
type objectText struct {
	n    int
	b    *strings.Builder
	base int // where the object's text starts in b
	s    string
	at   int
}

// objectSlab holds the text and the lists of many objects (those of a chunk
// of an export): one allocation per 64 KiB of strings and per 1,024 list
// entries. A string of a Builder is never written again, so the objects'
// strings may share it.
type objectSlab struct {
	b       strings.Builder
	lists   []string
	domains inventory.DomainCache // the objects' domains, in export order
}

// domainOf is inventory.DomainFromDN(dn), through the slab's cache.
func (sl *objectSlab) domainOf(dn string) string {
	if sl == nil {
		return inventory.DomainFromDN(dn)
	}
	return sl.domains.DomainFromDN(dn)
}

const (
	slabText  = 64 << 10
	slabLists = 1024
)

// text returns a Builder with room for n more bytes, and its length: a new
// one when sl is nil (an objectText that held its own Builder escaped whole
// to the heap, issue 9).
func (sl *objectSlab) text(n int) (*strings.Builder, int) {
	if sl == nil {
		own := new(strings.Builder)
		own.Grow(n)
		return own, 0
	}
	if sl.b.Cap()-sl.b.Len() < n {
		sl.b = strings.Builder{}
		sl.b.Grow(max(slabText, n))
	}
	return &sl.b, sl.b.Len()
}

// str returns b as a string cut from the slab's text.
func (sl *objectSlab) str(b []byte) string {
	sb, at := sl.text(len(b))
	sb.Write(b)
	return sb.String()[at:]
}

// list returns n strings (nil for 0), their capacity n.
func (sl *objectSlab) list(n int) []string {
	switch {
	case n == 0:
		return nil
	case sl == nil:
		return make([]string, n)
	}
	if cap(sl.lists)-len(sl.lists) < n {
		sl.lists = make([]string, 0, max(slabLists, n))
	}
	at := len(sl.lists)
	sl.lists = sl.lists[:at+n]
	return sl.lists[at : at+n : at+n]
}

func (t *objectText) sizeFirst(vs [][]byte) {
	if len(vs) > 0 {
		t.n += len(vs[0])
	}
}

func (t *objectText) sizeAll(vs [][]byte) {
	for _, v := range vs {
		t.n += len(v)
	}
}

func (t *objectText) writeFirst(vs [][]byte) {
	if len(vs) > 0 {
		t.b.Write(vs[0])
	}
}

func (t *objectText) writeAll(vs [][]byte) {
	for _, v := range vs {
		t.b.Write(v)
	}
}

func (t *objectText) next(n int) string {
	s := t.s[t.at : t.at+n]
	t.at += n
	return s
}

// first is record.first: the first value, "" when there is none.
func (t *objectText) first(vs [][]byte) string {
	if len(vs) == 0 {
		return ""
	}
	return t.next(len(vs[0]))
}

// all is record.strings, into out (len(vs) long): nil when there is no value.
func (t *objectText) all(vs [][]byte, out []string) []string {
	if len(vs) == 0 {
		return nil
	}
	for i, v := range vs {
		out[i] = t.next(len(v))
	}
	return out
}

// kindOf classifies by objectClass. The checks go from the most derived
// class: a gMSA is also a computer, and a computer is also a user.
func kindOf(r *record) inventory.Kind {
	c := r.objectClasses() // one pass over the values (issue 9)
	switch {
	case c&classGMSA != 0:
		return inventory.KindGMSA
	case c&classMSA != 0,
		// A delegated MSA (Windows Server 2025) also has a system-managed password.
		c&classDelegatedMSA != 0:
		return inventory.KindMSA
	case c&classComputer != 0:
		return inventory.KindComputer
	case c&classUser != 0:
		return inventory.KindUser
	default:
		return inventory.KindOther
	}
}

var (
	classGMSA         = objectClassBit("msDS-GroupManagedServiceAccount")
	classMSA          = objectClassBit("msDS-ManagedServiceAccount")
	classDelegatedMSA = objectClassBit("msDS-DelegatedManagedServiceAccount")
	classComputer     = objectClassBit("computer")
	classUser         = objectClassBit("user")
)

// objectAttrIDs are the indexes in knownAttrs of the attributes
// objectFromRecordIn reads: found once, not by name for each of the
// 255,000 objects of a large export (issue 9).
var objectAttrIDs = struct {
	guid, sam, dns, deleg, spns, addDNS, addSAM, uac, enc, pwd, admin, usn, primary int
}{
	guid: knownID("objectGUID"), sam: knownID("sAMAccountName"), dns: knownID("dNSHostName"),
	deleg: knownID("msDS-AllowedToDelegateTo"), spns: knownID("servicePrincipalName"),
	addDNS: knownID("msDS-AdditionalDnsHostName"), addSAM: knownID("msDS-AdditionalSamAccountName"),
	uac: knownID("userAccountControl"), enc: knownID("msDS-SupportedEncryptionTypes"),
	pwd: knownID("pwdLastSet"), admin: knownID("adminCount"), usn: knownID("uSNChanged"),
	primary: knownID("primaryGroupID"),
}

// knownID returns the index in knownAttrs of name, which must be one of
// ldifAttributes.
func knownID(name string) int {
	id, ok := knownAttrIDs[name]
	if !ok {
		panic("ldapscan: " + name + " is not in ldifAttributes")
	}
	return id
}

// intAttr parses an INTEGER (or Large Integer) attribute; absent is 0.
func intAttr(r *record, name string) (int64, error) {
	return intValue(r, r.values(name), name)
}

// intValue is intAttr of the values vs of attribute name.
func intValue(r *record, vs [][]byte, name string) (int64, error) {
	if len(vs) == 0 || len(vs[0]) == 0 {
		return 0, nil
	}
	if n, ok := plainInt(vs[0]); ok {
		return n, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(vs[0])), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %s: %w", r.dn, name, err)
	}
	return n, nil
}

// int32Attr parses a 32-bit flags attribute. AD stores them as signed
// INTEGER, so bit 31 reads as a negative number; both forms are accepted.
func int32Attr(r *record, name string) (uint32, bool, error) {
	return int32Value(r, r.values(name), name)
}

// int32Value is int32Attr of the values vs of attribute name.
func int32Value(r *record, vs [][]byte, name string) (uint32, bool, error) {
	if len(vs) == 0 || len(vs[0]) == 0 {
		return 0, false, nil
	}
	n, err := intValue(r, vs, name)
	if err != nil {
		return 0, false, err
	}
	if n < math.MinInt32 || n > math.MaxUint32 {
		return 0, false, fmt.Errorf("%s: %s: %d out of 32-bit range", r.dn, name, n)
	}
	return uint32(n), true, nil
}

// plainInt parses what strconv.ParseInt(v, 10, 64) surely accepts: an
// optional sign and 1 to 18 decimal digits; ok is false for anything else,
// which goes to strconv (issue 9: five integers per object, each copied into
// a string before).
func plainInt(v []byte) (n int64, ok bool) {
	neg := false
	if len(v) > 0 && (v[0] == '-' || v[0] == '+') {
		neg = v[0] == '-'
		v = v[1:]
	}
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
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

// formatGUID renders a binary GUID (objectGUID, an invocation ID) in its
// canonical text form.
func formatGUID(b []byte) (string, error) {
	g, err := inventory.GUIDFromBytes(b)
	if err != nil {
		return "", err
	}
	return g.String(), nil
}
