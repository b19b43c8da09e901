package ldapscan

// The conversion of a record into an inventory object as it was before
// issue 9 made it quicker, kept as the reference the LDIF reader's
// reference (ldif_reference_test.go) and TestObjectMatchesReference use.

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

// refObjectFromRecord is objectFromRecord before issue 9 made it read each
// attribute once, into one string per object.
func refObjectFromRecord(r *record) (inventory.Object, error) {
	o := inventory.Object{
		DN:             r.dn,
		Domain:         inventory.DomainFromDN(r.dn),
		SAMAccountName: r.first("sAMAccountName"),
		Kind:           refKindOf(r),
		DNSHostName:    r.first("dNSHostName"),
		SPNs:           r.strings("servicePrincipalName"),
	}
	if deleg := r.strings("msDS-AllowedToDelegateTo"); deleg != nil {
		o.SetAllowedToDelegateTo(deleg)
	}
	// A computer's other names count as its HOST names (host-alias-conflict).
	if dns, sam := r.strings("msDS-AdditionalDnsHostName"), r.strings("msDS-AdditionalSamAccountName"); dns != nil || sam != nil {
		o.Additional = &inventory.AdditionalNames{DNSHostNames: dns, SAMAccountNames: sam}
	}
	if g := r.values("objectGUID"); len(g) > 0 {
		guid, err := inventory.GUIDFromBytes(g[0])
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
	admin, _, err := int32Attr(r, "adminCount")
	if err != nil {
		return o, err
	}
	o.AdminCount = int32(admin)
	if o.USNChanged, err = intAttr(r, "uSNChanged"); err != nil {
		return o, err
	}
	primary, _, err := int32Attr(r, "primaryGroupID")
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

// refKindOf classifies by objectClass. The checks go from the most derived
// class: a gMSA is also a computer, and a computer is also a user.
func refKindOf(r *record) inventory.Kind {
	switch {
	case refHas(r, "objectClass", "msDS-GroupManagedServiceAccount"):
		return inventory.KindGMSA
	case refHas(r, "objectClass", "msDS-ManagedServiceAccount"),
		// A delegated MSA (Windows Server 2025) also has a system-managed password.
		refHas(r, "objectClass", "msDS-DelegatedManagedServiceAccount"):
		return inventory.KindMSA
	case refHas(r, "objectClass", "computer"):
		return inventory.KindComputer
	case refHas(r, "objectClass", "user"):
		return inventory.KindUser
	default:
		return inventory.KindOther
	}
}

// refHas is record.has before issue 9.
func refHas(r *record, name, want string) bool {
	for _, v := range r.values(name) {
		if strings.EqualFold(string(v), want) {
			return true
		}
	}
	return false
}

// TestObjectMatchesReference: objectFromRecord gives the object (or the
// error) refObjectFromRecord gave, values in any case and order, Unicode
// folds included. The LDIF reader's differential tests cover more records.
func TestObjectMatchesReference(t *testing.T) {
	guid := string([]byte{0x3e, 0x1c, 0x2a, 0x6f, 0x4d, 0x0b, 0x5f, 0x4e, 0x8a, 0x9b, 0x1c, 0x2d, 0x3e, 0x4f, 0x5a, 0x6b})
	full := map[string][]string{
		"objectGUID": {guid}, "sAMAccountName": {"web01$", "ignored"}, "dNSHostName": {"web01.corp.example.test"},
		"servicePrincipalName":     {"HOST/web01", "HOST/web01.corp.example.test", ""},
		"msDS-AllowedToDelegateTo": {"cifs/fs01", "http/app"}, "userAccountControl": {"4096"},
		"msDS-SupportedEncryptionTypes": {"24"}, "pwdLastSet": {"133485408001234567"}, "adminCount": {"1"},
		"uSNChanged": {"12345"}, "primaryGroupID": {"515"}, "objectClass": {"top", "user", "computer"},
		"msDS-AdditionalDnsHostName": {"alias.corp.example.test"},
	}
	tests := []map[string][]string{
		nil,
		full,
		{"servicePrincipalName": {"HTTP/a"}},
		{"msDS-AllowedToDelegateTo": {"cifs/fs01"}},
		{"sAMAccountName": {""}, "dNSHostName": {""}, "servicePrincipalName": {"x"}},
		{"objectGUID": {"abc"}, "servicePrincipalName": {"x"}},
		{"objectGUID": {guid + "x"}},
		{"objectClass": {"COMPUTER", "User"}},
		{"objectClass": {"msds-groupmanagedserviceaccount", "computer", "user"}},
		{"objectClass": {"user", "msDS-DelegatedManagedServiceAccount"}},
		{"objectClass": {"MSDS-MANAGEDSERVICEACCOUNT", "msDS-GroupManagedServiceAccount"}},
		{"objectClass": {"user\u212a", "computer\u212a", "us\u017fer"}},
		{"objectClass": {"compu\u212aer", "u\u017fer"}}, // U+212A folds to k, U+017F to s
		{"objectClass": {"top", "container"}},
		{"userAccountControl": {"x"}},
		{"pwdLastSet": {"1"}, "uSNChanged": {"y"}},
	}
	for i, attrs := range tests {
		rec := func() *record {
			r := newRecord("CN=Svc,OU=X,DC=Corp,DC=Example,DC=Test")
			for _, k := range slices.Sorted(maps.Keys(attrs)) {
				for _, v := range attrs[k] {
					_ = r.add(k, [][]byte{[]byte(v)})
				}
			}
			return r
		}
		got, gotErr := objectFromRecord(rec())
		want, wantErr := refObjectFromRecord(rec())
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Errorf("case %d: error %v, reference %v", i, gotErr, wantErr)
			continue
		}
		if gotErr == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("case %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
}

// TestObjectClassesFollowPuts: the memoised object classes follow the values
// put after a question, and a reset.
func TestObjectClassesFollowPuts(t *testing.T) {
	r := newRecord("CN=a,DC=x")
	r.put("objectclass", [][]byte{[]byte("top")})
	if r.has("objectClass", "group") || r.has("objectClass", "computer") {
		t.Fatal("top is neither group nor computer")
	}
	r.put("objectclass", [][]byte{[]byte("GROUP")})
	if !r.has("objectClass", "group") || r.has("objectClass", "computer") {
		t.Fatal("a put after a question is not seen")
	}
	if err := r.add("objectClass", [][]byte{[]byte("u\u017fer")}); err != nil {
		t.Fatal(err)
	}
	if !r.has("objectClass", "user") || kindOf(r) != inventory.KindUser {
		t.Fatal("an add after a question is not seen, or the long s does not fold to s")
	}
	r.reset("CN=b,DC=x")
	if r.has("objectClass", "group") || kindOf(r) != inventory.KindOther {
		t.Fatal("a reset record keeps its classes")
	}
	r.put("objectclass", [][]byte{[]byte("NoneSuch")})
	if !r.has("objectClass", "nonesuch") {
		t.Fatal("a class outside objectClassNames is not found")
	}
}

// TestPlainIntMatchesParseInt: what plainInt accepts, strconv.ParseInt
// accepts with the same value; the rest goes to strconv.
func TestPlainIntMatchesParseInt(t *testing.T) {
	for _, v := range []string{
		"", "-", "+", "0", "-0", "+7", "42", "-2147483136", "4294967296", "133485408001234567",
		"999999999999999999", "-999999999999999999", "9223372036854775807", "-9223372036854775808",
		"99999999999999999999", " 5", "5 ", "1_000", "0x10", "\u0663", "--1", "+-1", "1.0", "1e3",
	} {
		n, ok := plainInt([]byte(v))
		want, err := strconv.ParseInt(v, 10, 64)
		if ok && (err != nil || n != want) {
			t.Errorf("plainInt(%q) = %d, strconv: %d, %v", v, n, want, err)
		}
		if !ok && err == nil && len(v) <= 18 && !strings.ContainsAny(v, " ") {
			t.Errorf("plainInt(%q) refused what strconv reads as %d", v, want)
		}
	}
}

// TestIsDNLine: isDNLine answers as hasKey(line, "dn").
func TestIsDNLine(t *testing.T) {
	for _, l := range []string{"dn: x", "DN:x", "dN::eA==", "dn:", "dn", "d:", "dnx: y", "xdn: y", "dn :x", "d\u0274: x", ":dn", ""} {
		if got, want := isDNLine([]byte(l)), hasKey([]byte(l), "dn"); got != want {
			t.Errorf("isDNLine(%q) = %v, hasKey says %v", l, got, want)
		}
	}
}

// TestObjectClassBit: the switch gives each of objectClassNames its bit,
// and nothing else one.
func TestObjectClassBit(t *testing.T) {
	for i, n := range objectClassNames {
		if got := objectClassBit(n); got != 1<<i {
			t.Errorf("objectClassBit(%q) = %#x, want %#x", n, got, 1<<i)
		}
	}
	for _, n := range []string{"", "Group", "top", "person", "msDS-ManagedServiceAccounts"} {
		if got := objectClassBit(n); got != 0 {
			t.Errorf("objectClassBit(%q) = %#x, want 0", n, got)
		}
	}
}

// TestObjectClassesReusedRecord: a record reused entry after entry, as the
// LDIF reader does, answers from the classes it remembers (classKey) only
// when they are the same values: each entry's bits are those of a fresh
// record of the same values.
func TestObjectClassesReusedRecord(t *testing.T) {
	long := strings.Repeat("x", 300)
	entries := [][]string{
		{"top", "person", "user", "computer"},
		{"top", "person", "user", "computer"},
		{"top", "person", "user"},
		{"top", "person", "user", "computer", "group"},
		{"Top", "Person", "User", "Computer"},
		{},
		{"group"},
		{long, "group"},
		{long},
		{},
		{"", "group"},
		{"groupx"},
		{"grou", "p"},
		{"msDS-GroupManagedServiceAccount"},
		{"u\u017fer"},
		{"u\u017fer"},
		{"group"},
	}
	r := newRecord("")
	for i, classes := range entries {
		r.reset("CN=e,DC=x")
		fresh := newRecord("CN=e,DC=x")
		for _, c := range classes {
			r.putKnown1(objectClassID, []byte(c))
			fresh.putKnown1(objectClassID, []byte(c))
		}
		if got, want := r.objectClasses(), fresh.objectClasses(); got != want {
			t.Errorf("entry %d %q: classes %b, a fresh record's %b", i, classes, got, want)
		}
	}
}

// TestKnownAttrSlotsHoldEveryName: each name of ldifAttributes, as the code
// spells it, has a slot of its own in knownAttrSlots, so asking a record
// for it never goes to the map (issue 9: objectSid, listed twice, had
// lost its slot to itself).
func TestKnownAttrSlotsHoldEveryName(t *testing.T) {
	for _, name := range ldifAttributes() {
		if slot := knownAttrSlots[attrSlot(name)]; slot.name != name || slot.id != knownAttrIDs[name] {
			t.Errorf("%s: slot holds %q (id %d), want itself (id %d)", name, slot.name, slot.id, knownAttrIDs[name])
		}
	}
}
