package ldapscan

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/inventory"
)

func TestParseAttrDesc(t *testing.T) {
	tests := []struct {
		desc     string
		name     string
		rng      *valueRange
		wantFail bool
	}{
		{desc: "servicePrincipalName", name: "servicePrincipalName"},
		{desc: "servicePrincipalName;range=0-1499", name: "servicePrincipalName", rng: &valueRange{low: 0, high: 1499}},
		{desc: "member;Range=1500-*", name: "member", rng: &valueRange{low: 1500, high: 1499, last: true}},
		{desc: "userCertificate;binary", name: "userCertificate"},
		{desc: "x;binary;range=3-4", name: "x", rng: &valueRange{low: 3, high: 4}},
		{desc: ";range=0-1", wantFail: true},
		{desc: "x;range=4-3", wantFail: true},
		{desc: "x;range=-1-3", wantFail: true},
		{desc: "x;range=a-*", wantFail: true},
		{desc: "x;range=0", wantFail: true},
	}
	for _, tc := range tests {
		name, rng, err := parseAttrDesc(tc.desc)
		if (err != nil) != tc.wantFail {
			t.Errorf("%q: error %v, want failure %v", tc.desc, err, tc.wantFail)
			continue
		}
		if tc.wantFail {
			continue
		}
		if name != tc.name || (rng == nil) != (tc.rng == nil) || (rng != nil && *rng != *tc.rng) {
			t.Errorf("%q: got %q %+v, want %q %+v", tc.desc, name, rng, tc.name, tc.rng)
		}
	}
}

func TestRecordRanges(t *testing.T) {
	type add struct {
		desc   string
		values []string
	}
	tests := []struct {
		name       string
		adds       []add
		want       []string
		incomplete []string
		fail       bool
	}{
		{"plain", []add{{"member", []string{"a", "b"}}}, []string{"a", "b"}, nil, false},
		{"two ranges", []add{{"member;range=0-1", []string{"a", "b"}}, {"member;range=2-*", []string{"c"}}}, []string{"a", "b", "c"}, nil, false},
		{"value by value", []add{{"member;range=0-1", []string{"a"}}, {"member;range=0-1", []string{"b"}}, {"member;range=2-*", []string{"c"}}}, []string{"a", "b", "c"}, nil, false},
		{"truncated", []add{{"member;range=0-1", []string{"a", "b"}}}, []string{"a", "b"}, []string{"member"}, false},
		{"empty last range", []add{{"member;range=0-1", []string{"a", "b"}}, {"member;range=2-*", nil}}, []string{"a", "b"}, nil, false},
		{"case-insensitive name", []add{{"Member;range=0-0", []string{"a"}}, {"MEMBER;range=1-*", []string{"b"}}}, []string{"a", "b"}, nil, false},
		{"gap", []add{{"member;range=0-1", []string{"a", "b"}}, {"member;range=5-*", []string{"c"}}}, nil, nil, true},
		{"repeat of an earlier range", []add{{"member;range=0-0", []string{"a"}}, {"member;range=1-1", []string{"b"}}, {"member;range=0-0", []string{"a"}}}, nil, nil, true},
		{"not from zero", []add{{"member;range=1-*", []string{"a"}}}, nil, nil, true},
		{"range after plain values", []add{{"member", []string{"a"}}, {"member;range=0-*", []string{"b"}}}, nil, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRecord("CN=x")
			var err error
			for _, a := range tc.adds {
				var vals [][]byte
				for _, v := range a.values {
					vals = append(vals, []byte(v))
				}
				if err = r.add(a.desc, vals); err != nil {
					break
				}
			}
			if (err != nil) != tc.fail {
				t.Fatalf("error %v, want failure %v", err, tc.fail)
			}
			if tc.fail {
				return
			}
			if got := r.strings("member"); !slices.Equal(got, tc.want) {
				t.Errorf("values %q, want %q", got, tc.want)
			}
			if got := r.incomplete(); !slices.Equal(got, tc.incomplete) {
				t.Errorf("incomplete %q, want %q", got, tc.incomplete)
			}
		})
	}
}

func TestObjectFromRecord(t *testing.T) {
	guid := []byte{0x3e, 0x1c, 0x2a, 0x6f, 0x4d, 0x0b, 0x5f, 0x4e, 0x8a, 0x9b, 0x1c, 0x2d, 0x3e, 0x4f, 0x5a, 0x6b}
	rec := func(attrs map[string][]string) *record {
		r := newRecord("CN=Svc,OU=X,DC=Corp,DC=Example,DC=Test")
		for k, vs := range attrs {
			for _, v := range vs {
				_ = r.add(k, [][]byte{[]byte(v)})
			}
		}
		return r
	}
	tests := []struct {
		name  string
		attrs map[string][]string
		check func(t *testing.T, o inventory.Object)
		fail  string
	}{
		{"GUID and domain", map[string][]string{"objectGUID": {string(guid)}}, func(t *testing.T, o inventory.Object) {
			if o.GUID.String() != "6f2a1c3e-0b4d-4e5f-8a9b-1c2d3e4f5a6b" || o.Domain != "corp.example.test" {
				t.Errorf("GUID %s domain %s", o.GUID, o.Domain)
			}
		}, ""},
		{"kinds: gMSA before computer", map[string][]string{"objectClass": {"top", "user", "computer", "msDS-GroupManagedServiceAccount"}}, kindIs(inventory.KindGMSA), ""},
		{"kinds: MSA", map[string][]string{"objectClass": {"user", "computer", "msDS-ManagedServiceAccount"}}, kindIs(inventory.KindMSA), ""},
		{"kinds: computer before user", map[string][]string{"objectClass": {"user", "COMPUTER"}}, kindIs(inventory.KindComputer), ""},
		{"kinds: user", map[string][]string{"objectClass": {"top", "person", "user"}}, kindIs(inventory.KindUser), ""},
		{"kinds: other", map[string][]string{"objectClass": {"top", "container"}}, kindIs(inventory.KindOther), ""},
		{"kinds: none", nil, kindIs(inventory.KindOther), ""},
		{"pwdLastSet never", map[string][]string{"pwdLastSet": {"0"}}, pwdIs(time.Time{}), ""},
		{"pwdLastSet max", map[string][]string{"pwdLastSet": {"9223372036854775807"}}, pwdIs(time.Time{}), ""},
		{"pwdLastSet FILETIME", map[string][]string{"pwdLastSet": {"133485408001234567"}}, pwdIs(time.Date(2024, 1, 1, 0, 0, 0, 123456700, time.UTC)), ""},
		{"pwdLastSet epoch", map[string][]string{"pwdLastSet": {"116444736000000000"}}, pwdIs(time.Unix(0, 0).UTC()), ""},
		{"encryption types absent", nil, func(t *testing.T, o inventory.Object) {
			if o.SupportedEncryptionTypes != nil {
				t.Errorf("got %d", *o.SupportedEncryptionTypes)
			}
		}, ""},
		{"encryption types zero is set", map[string][]string{"msDS-SupportedEncryptionTypes": {"0"}}, func(t *testing.T, o inventory.Object) {
			if o.SupportedEncryptionTypes == nil || *o.SupportedEncryptionTypes != 0 {
				t.Errorf("got %v", o.SupportedEncryptionTypes)
			}
		}, ""},
		{"signed 32-bit flags", map[string][]string{"userAccountControl": {"-2147483136"}}, func(t *testing.T, o inventory.Object) {
			if o.UserAccountControl != 0x80000200 {
				t.Errorf("UAC %#x", o.UserAccountControl)
			}
		}, ""},
		{"SPN values as stored", map[string][]string{"servicePrincipalName": {"HTTP/Web01 ", "http/web01"}}, func(t *testing.T, o inventory.Object) {
			if !slices.Equal(o.SPNs, []string{"HTTP/Web01 ", "http/web01"}) {
				t.Errorf("SPNs %q", o.SPNs)
			}
		}, ""},
		{"GUID wrong size", map[string][]string{"objectGUID": {"abc"}}, nil, "objectGUID"},
		{"UAC out of range", map[string][]string{"userAccountControl": {"4294967296"}}, nil, "out of 32-bit range"},
		{"USN not a number", map[string][]string{"uSNChanged": {"x"}}, nil, "uSNChanged"},
		{"adminCount not a number", map[string][]string{"adminCount": {"yes"}}, nil, "adminCount"},
		// adminCount and primaryGroupID are held in 32 bits (inventory.Object's
		// int32s), as AD's INTEGER syntax: a wider value is refused, not cut.
		{"adminCount out of range", map[string][]string{"adminCount": {"4294967296"}}, nil, "adminCount: 4294967296 out of 32-bit range"},
		{"primaryGroupID out of range", map[string][]string{"primaryGroupID": {"-2147483649"}}, nil, "primaryGroupID: -2147483649 out of 32-bit range"},
		{"primaryGroupID and adminCount", map[string][]string{"primaryGroupID": {"513"}, "adminCount": {"1"}}, func(t *testing.T, o inventory.Object) {
			if o.PrimaryGroupID != 513 || o.AdminCount != 1 {
				t.Errorf("primaryGroupID %d adminCount %d", o.PrimaryGroupID, o.AdminCount)
			}
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := objectFromRecord(rec(tc.attrs))
			if tc.fail != "" {
				if err == nil || !strings.Contains(err.Error(), tc.fail) {
					t.Fatalf("error %v, want one mentioning %q", err, tc.fail)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, o)
		})
	}
}

func kindIs(k inventory.Kind) func(*testing.T, inventory.Object) {
	return func(t *testing.T, o inventory.Object) {
		if o.Kind != k {
			t.Errorf("kind %s, want %s", o.Kind, k)
		}
	}
}

func pwdIs(want time.Time) func(*testing.T, inventory.Object) {
	return func(t *testing.T, o inventory.Object) {
		if !o.PwdLastSet.Equal(want) {
			t.Errorf("pwdLastSet %v, want %v", o.PwdLastSet, want)
		}
	}
}

func TestDNSOwnerName(t *testing.T) {
	const zoneDN = ",DC=corp.example.test,CN=MicrosoftDNS,DC=DomainDnsZones,DC=corp,DC=example,DC=test"
	tests := []struct {
		dn, name   string
		tombstoned bool
		want       string
	}{
		{"DC=web01" + zoneDN, "web01", false, "web01.corp.example.test"},
		{"DC=Web01" + zoneDN, "", false, "web01.corp.example.test"},
		{"DC=www.sub" + zoneDN, "www.sub", false, "www.sub.corp.example.test"},
		{"DC=*" + zoneDN, "*", false, "*.corp.example.test"},
		{"DC=@" + zoneDN, "@", false, ""},
		{"DC=_ldap._tcp" + zoneDN, "_ldap._tcp", false, ""},
		{"DC=gone" + zoneDN, "gone", true, ""},
		{"DC=dc1,DC=_msdcs.corp.example.test,CN=MicrosoftDNS,DC=ForestDnsZones,DC=corp,DC=example,DC=test", "dc1", false, ""},
		{"DC=a.root-servers.net,DC=RootDNSServers,CN=MicrosoftDNS,DC=DomainDnsZones,DC=corp,DC=test", "a.root-servers.net", false, ""},
		{"DC=10,DC=1.168.192.in-addr.arpa,CN=MicrosoftDNS,DC=DomainDnsZones,DC=corp,DC=test", "10", false, ""},
		{"DC=x,DC=..TrustAnchors,CN=MicrosoftDNS,DC=ForestDnsZones,DC=corp,DC=test", "x", false, ""},
		{"DC=web01", "web01", false, ""},
	}
	for _, tc := range tests {
		if got := dnsOwnerName(tc.dn, tc.name, tc.tombstoned); got != tc.want {
			t.Errorf("dnsOwnerName(%q, %q, %v) = %q, want %q", tc.dn, tc.name, tc.tombstoned, got, tc.want)
		}
	}
}

func TestChangeSetApply(t *testing.T) {
	obj := func(guid int, dn string, spns ...string) inventory.Object {
		return inventory.Object{GUID: testGUID(guid), DN: dn, SPNs: spns}
	}
	prev := []*inventory.Object{new(obj(1, "CN=a")), new(obj(2, "CN=c")), new(obj(3, "CN=e"))}
	frozen := []inventory.Object{*prev[0], *prev[1], *prev[2]}
	c := newChangeSet()
	for _, r := range []struct {
		o       inventory.Object
		deleted bool
	}{
		{obj(4, "CN=b", "HTTP/b"), false},  // new, sorts between a and c
		{obj(2, "CN=C2", "HTTP/c"), false}, // renamed and changed
		{obj(3, "CN=e"), false},            // lost its SPNs
		{obj(1, "CN=a\\0ADEL"), true},      // deleted
		{obj(9, "CN=z", "HTTP/z"), false},  // new, last
	} {
		c.touched[objectKey(&r.o)] = struct{}{}
		if !r.deleted && len(r.o.SPNs) > 0 {
			c.updated = append(c.updated, new(r.o))
		}
	}
	// Without a memo (a walk of prev) and with one (binary searches).
	memo := (&Scanner{}).memoFor(prev)
	// A memo that places an object wrong (it never should) makes apply walk.
	stale := maps.Clone(memo.dns)
	stale[testGUID(2)] = "CN=d"
	for _, dnsOf := range []map[inventory.GUID]string{nil, memo.dns, stale} {
		m := c.apply(prev, dnsOf)
		var dns []string
		for _, o := range m.objects {
			dns = append(dns, o.DN)
		}
		if want := []string{"CN=b", "CN=C2", "CN=z"}; !slices.Equal(dns, want) || m.gone != 2 {
			t.Fatalf("apply = %q removed %d; want %q removed 2", dns, m.gone, want)
		}
		if !slices.Equal(m.removed, []int32{0, 1, 2}) || !slices.Equal(m.added, []int32{0, 1, 2}) {
			t.Fatalf("apply's change: removed %v added %v; want all", m.removed, m.added)
		}
		if !slices.EqualFunc(prev, frozen, func(a *inventory.Object, b inventory.Object) bool { return a.DN == b.DN && a.GUID == b.GUID }) {
			t.Fatal("apply modified its input")
		}
	}
	if same := newChangeSet().apply(prev, memo.dns); same.objects[0] != prev[0] || same.gone != 0 || same.removed != nil || same.added != nil {
		t.Fatal("an empty change set should share the previous objects")
	}
}
