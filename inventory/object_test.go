package inventory

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// TestObjectSize pins Object's size: the daemon holds one per object of
// the forest (issue 9: 312 bytes before the layout for size; 100,000
// objects, 5.6 MB less). A field added, or one that breaks the packing of
// the small ones, fails it: update the figure knowingly.
func TestObjectSize(t *testing.T) {
	if got, want := unsafe.Sizeof(Object{}), uintptr(256); got != want {
		t.Errorf("unsafe.Sizeof(Object{}) = %d, want %d", got, want)
	}
	if got, want := unsafe.Sizeof(GUID{}), uintptr(16); got != want {
		t.Errorf("unsafe.Sizeof(GUID{}) = %d, want %d", got, want)
	}
}

// fullObject sets every field of an Object, and of the types in it, to a
// value that is not the zero value, with strings encoding/json escapes.
func fullObject() Object {
	enc := uint32(0x18)
	creator := Principal{SID: "S-1-5-21-1-2-3-1105", DN: "CN=bob,DC=x", Domain: "x", SAMAccountName: "bob",
		WellKnown: "w", Kind: KindUser, Group: true, CreatorSID: "S-1-5-21-1-2-3-1", Creator: &Principal{SID: "S-1-5-21-1-2-3-500"}}
	return Object{
		GUID: MustParseGUID("0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d"), DN: "CN=a<b>&c,DC=x", Domain: "x",
		SAMAccountName: "svc\u2028", Kind: KindComputer, UserAccountControl: 0x80001000, AdminCount: -1,
		PrimaryGroupID: 515, PrivilegeUnknown: true, DNSHostName: "web.x",
		Additional:               &AdditionalNames{DNSHostNames: []string{"a.x"}, SAMAccountNames: []string{"a$"}},
		SupportedEncryptionTypes: &enc,
		PwdLastSet:               time.Date(2020, 1, 2, 3, 4, 5, 6, time.FixedZone("X", 3600)),
		Delegation: &Delegation{AllowedToDelegateTo: []string{"HTTP/web.x"},
			AllowedToActOnBehalf: []Principal{creator, {SID: "S-1-1-0", WellKnown: "Everyone"}}},
		USNChanged: 1 << 40, SPNs: []string{"HTTP/web", "HOST/web.x"},
		Privilege: &Privilege{Group: "Domain Admins", SID: "S-1-5-21-1-2-3-512", Chain: []string{"CN=g,DC=x"}, PrimaryGroup: true},
		ObjectSID: "S-1-5-21-1-2-3-1104", SPNChanged: time.Date(2021, 5, 6, 7, 8, 9, 0, time.UTC), SPNChangedBy: "dc1",
	}
}

// assertNoZeroField fails for a field of v (recursively through pointers,
// slices and structs but time.Time, each struct type once) left at its
// zero value.
func assertNoZeroField(t *testing.T, v reflect.Value, path string, seen map[reflect.Type]bool) {
	t.Helper()
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			t.Errorf("%s is nil", path)
			return
		}
		assertNoZeroField(t, v.Elem(), path, seen)
	case reflect.Slice:
		if v.Len() == 0 {
			t.Errorf("%s is empty", path)
			return
		}
		assertNoZeroField(t, v.Index(0), path+"[0]", seen)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			if v.IsZero() {
				t.Errorf("%s is zero", path)
			}
			return
		}
		if seen[v.Type()] {
			return
		}
		seen[v.Type()] = true
		for i := range v.NumField() {
			assertNoZeroField(t, v.Field(i), path+"."+v.Type().Field(i).Name, seen)
		}
	default:
		if v.IsZero() {
			t.Errorf("%s is zero", path)
		}
	}
}

// TestObjectJSONRoundTrip: an object with every field set survives
// encoding/json (MarshalJSON through objectJSON and back), so a field
// added to Object but not to objectJSON fails it (fullObject must set
// the new field: the first check says so).
func TestObjectJSONRoundTrip(t *testing.T) {
	o := fullObject()
	assertNoZeroField(t, reflect.ValueOf(o), "Object", map[reflect.Type]bool{})
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	var back Object
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.PwdLastSet.Equal(o.PwdLastSet) {
		t.Fatalf("PwdLastSet %v, want %v", back.PwdLastSet, o.PwdLastSet)
	}
	back.PwdLastSet = o.PwdLastSet // the zone's name does not survive RFC 3339
	if !reflect.DeepEqual(back, o) {
		t.Errorf("round trip:\n got %+v\nwant %+v\njson %s", back, o, b)
	}
	// Every key of objectJSON is written: none is missing from the
	// conversion.
	rt := reflect.TypeFor[objectJSON]()
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		if !bytes.Contains(b, []byte(`"`+name+`":`)) {
			t.Errorf("objectJSON.%s (%q) is not written: %s", rt.Field(i).Name, name, b)
		}
	}
}

// objectJSONBefore is Object as it was before its layout for size (Go's
// field order was the JSON's; GUID was a string), for the differential
// test below.
type objectJSONBefore struct {
	GUID                     string           `json:"guid,omitempty"`
	DN                       string           `json:"dn"`
	Domain                   string           `json:"domain"`
	SAMAccountName           string           `json:"sam_account_name"`
	Kind                     Kind             `json:"kind"`
	UserAccountControl       uint32           `json:"user_account_control"`
	DNSHostName              string           `json:"dns_host_name,omitempty"`
	Additional               *AdditionalNames `json:"additional_names,omitempty"`
	SupportedEncryptionTypes *uint32          `json:"supported_encryption_types,omitempty"`
	PwdLastSet               time.Time        `json:"pwd_last_set,omitempty"`
	AdminCount               int              `json:"admin_count,omitempty"`
	AllowedToDelegateTo      []string         `json:"allowed_to_delegate_to,omitempty"`
	USNChanged               int64            `json:"usn_changed"`
	SPNs                     []string         `json:"spns"`
	PrimaryGroupID           int              `json:"primary_group_id,omitempty"`
	Privilege                *Privilege       `json:"privileged_via,omitempty"`
	PrivilegeUnknown         bool             `json:"privilege_unknown,omitempty"`
	ObjectSID                string           `json:"object_sid,omitempty"`
	AllowedToActOnBehalf     []Principal      `json:"allowed_to_act_on_behalf,omitempty"`
	SPNChanged               time.Time        `json:"spn_changed,omitzero"`
	SPNChangedBy             string           `json:"spn_changed_by,omitempty"`
}

func before(o Object) objectJSONBefore {
	b := objectJSONBefore{DN: o.DN, Domain: o.Domain, SAMAccountName: o.SAMAccountName, Kind: o.Kind,
		UserAccountControl: o.UserAccountControl, DNSHostName: o.DNSHostName, Additional: o.Additional,
		SupportedEncryptionTypes: o.SupportedEncryptionTypes, PwdLastSet: o.PwdLastSet, AdminCount: int(o.AdminCount),
		AllowedToDelegateTo: o.AllowedToDelegateTo(), USNChanged: o.USNChanged, SPNs: o.SPNs,
		PrimaryGroupID: int(o.PrimaryGroupID), Privilege: o.Privilege, PrivilegeUnknown: o.PrivilegeUnknown,
		ObjectSID: o.ObjectSID, AllowedToActOnBehalf: o.AllowedToActOnBehalf(), SPNChanged: o.SPNChanged,
		SPNChangedBy: o.SPNChangedBy}
	if !o.GUID.IsZero() {
		b.GUID = o.GUID.String()
	}
	return b
}

// TestObjectJSONAsBefore: encoding/json writes an Object byte for byte as
// it wrote the Object of before, compact and indented, HTML escaping on
// and off, for the full object and for objects with each optional part
// left out (zero GUID, nil and empty lists, no delegation).
func TestObjectJSONAsBefore(t *testing.T) {
	full := fullObject()
	variants := map[string]Object{"full": full, "zero": {}}
	o := full
	o.GUID, o.Delegation, o.SPNs, o.Additional, o.Privilege = GUID{}, nil, nil, nil, nil
	variants["sparse"] = o
	o = full
	o.Delegation = &Delegation{AllowedToDelegateTo: []string{}}
	o.SPNs = []string{}
	variants["empty lists"] = o
	o = full
	o.Delegation = &Delegation{AllowedToActOnBehalf: full.AllowedToActOnBehalf()}
	variants["rbcd only"] = o
	encode := func(v any, indent, escape bool) string {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(escape)
		if indent {
			enc.SetIndent("", "  ")
		}
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	for name, o := range variants {
		for _, indent := range []bool{false, true} {
			for _, escape := range []bool{false, true} {
				got, want := encode(o, indent, escape), encode(before(o), indent, escape)
				if got != want {
					t.Errorf("%s (indent %v, escape HTML %v):\n got %s\nwant %s", name, indent, escape, got, want)
				}
				if got := encode(&o, indent, escape); got != want {
					t.Errorf("%s through a pointer (indent %v, escape HTML %v):\n got %s\nwant %s", name, indent, escape, got, want)
				}
			}
		}
	}
}

// TestSetDelegationCopies: the setters give the object a Delegation of its
// own, so a copy of the object (a snapshot's, shared by a poll) keeps
// its values.
func TestSetDelegationCopies(t *testing.T) {
	a := fullObject()
	b := a
	b.SetAllowedToDelegateTo([]string{"cifs/fs.x"})
	if got := a.AllowedToDelegateTo(); !reflect.DeepEqual(got, []string{"HTTP/web.x"}) {
		t.Errorf("the copy's setter changed the original: %v", got)
	}
	if got := b.AllowedToActOnBehalf(); len(got) != 2 {
		t.Errorf("SetAllowedToDelegateTo dropped AllowedToActOnBehalf: %v", got)
	}
	b.SetAllowedToDelegateTo(nil)
	b.SetAllowedToActOnBehalf(nil)
	if b.Delegation != nil || b.AllowedToDelegateTo() != nil || b.AllowedToActOnBehalf() != nil {
		t.Errorf("both lists cleared: Delegation = %+v, want nil", b.Delegation)
	}
	if a.Delegation == nil {
		t.Error("clearing the copy's delegation cleared the original's")
	}
}
