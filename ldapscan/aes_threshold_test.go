package ldapscan

import (
	"encoding/base64"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// The lab domain's RID-521 group: S-1-5-21-405284591-4254639647-3338420066-521.
const labRODCGroupSID = "AQUAAAAAAAUVAAAA7yYoGB+mmP1iP/zGCQIAAA=="

func TestRODCGroupSID(t *testing.T) {
	group, _ := base64.StdEncoding.DecodeString(labRODCGroupSID)
	domain := append([]byte{}, group[:len(group)-4]...)
	domain[1]--
	other := append([]byte{}, group...)
	other[len(other)-4] = 0x08                                                // RID 520: Group Policy Creator Owners
	builtin, _ := base64.StdEncoding.DecodeString("AQIAAAAAAAUgAAAAIAIAAA==") // S-1-5-32-544
	for _, tc := range []struct {
		name string
		sid  []byte
		want bool
	}{
		{"the RID-521 group", group, true},
		{"the domain itself", domain, false},
		{"RID 520", other, false},
		{"BUILTIN\\Administrators", builtin, false},
		{"empty", nil, false},
	} {
		if got := isRODCGroupSID(tc.sid); got != tc.want {
			t.Errorf("%s: isRODCGroupSID = %v, want %v", tc.name, got, tc.want)
		}
	}
	filter, err := rodcGroupFilter(domain)
	if err != nil {
		t.Fatal(err)
	}
	want := `(objectSid=\01\05\00\00\00\00\00\05\15\00\00\00\ef\26\28\18\1f\a6\98\fd\62\3f\fc\c6\09\02\00\00)`
	if filter != want {
		t.Errorf("filter %s, want %s", filter, want)
	}
	if _, err := rodcGroupFilter([]byte{1, 4, 0}); err == nil {
		t.Error("a truncated SID made a filter")
	}
}

// TestLDIFAESThreshold: an export holding the RID-521 group gives its
// domain's threshold, recognised by objectSid whatever the group is called;
// the domains it lacks are named.
func TestLDIFAESThreshold(t *testing.T) {
	read := func(name string) *LDIFResult {
		raw, err := os.ReadFile("testdata/ldif/" + name)
		if err != nil {
			t.Fatal(err)
		}
		res, err := ReadLDIF(strings.NewReader(string(raw)), name)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := read("ldifde.ldif")
	want := time.Date(2012, 5, 1, 9, 30, 0, 0, time.UTC)
	if got := res.Snapshot.Directory.AESThresholds; len(got) != 1 || !got["corp.example.test"].Equal(want) {
		t.Errorf("thresholds %v, want corp.example.test at %s", got, want)
	}
	if !slices.Equal(res.AESThresholdUnknown, []string{"child.corp.example.test"}) {
		t.Errorf("unknown %q, want the child domain", res.AESThresholdUnknown)
	}
	res = read("ldapsearch.ldif")
	if len(res.Snapshot.Directory.AESThresholds) != 0 || !slices.Equal(res.AESThresholdUnknown, []string{"corp.example.test"}) {
		t.Errorf("without the group: thresholds %v, unknown %q", res.Snapshot.Directory.AESThresholds, res.AESThresholdUnknown)
	}

	renamed := "dn: CN=Schreibgeschützte Domänencontroller,CN=Users,DC=corp,DC=example,DC=test\n" +
		"objectSid:: " + labRODCGroupSID + "\nwhenCreated: 20261127043747.0Z\n\n" +
		"dn: CN=svc,CN=Users,DC=corp,DC=example,DC=test\nservicePrincipalName: HTTP/a\n"
	r, err := ReadLDIF(strings.NewReader(renamed), "renamed")
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Snapshot.Directory.AESThresholds["corp.example.test"]; !got.Equal(time.Date(2026, 11, 27, 4, 37, 47, 0, time.UTC)) ||
		len(r.AESThresholdUnknown) != 0 || len(r.Snapshot.Objects) != 1 {
		t.Errorf("renamed group: threshold %s, unknown %q, %d objects", got, r.AESThresholdUnknown, len(r.Snapshot.Objects))
	}
	// A group without a readable whenCreated gives no threshold.
	r, err = ReadLDIF(strings.NewReader(strings.Replace(renamed, "20261127043747.0Z", "yesterday", 1)), "bad")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Snapshot.Directory.AESThresholds) != 0 || !slices.Equal(r.AESThresholdUnknown, []string{"corp.example.test"}) {
		t.Errorf("unreadable whenCreated: thresholds %v, unknown %q", r.Snapshot.Directory.AESThresholds, r.AESThresholdUnknown)
	}
}

// TestAESThresholdThroughGlobalCatalog: the DC's own domain's RID-521 group
// is read over LDAP, the child domain's through the Global Catalog (the fake
// directory stands in for a second domain, which the lab cannot provide); a
// domain without the group stays unknown and the scan still succeeds.
func TestAESThresholdThroughGlobalCatalog(t *testing.T) {
	const childNC = "DC=child," + fakeDomainNC
	group, _ := base64.StdEncoding.DecodeString(labRODCGroupSID)
	sidOf := func(sub byte) (domain, rodc string) {
		g := append([]byte{}, group...)
		g[12] = sub // another domain: another sub-authority
		d := append([]byte{}, g[:len(g)-4]...)
		d[1]--
		return string(d), string(g)
	}
	withGroup := func(fa *fakeAD, nc string, sub byte, created string) {
		domain, rodc := sidOf(sub)
		fa.modify(nc, func(attrs map[string][]string) { attrs["objectSid"] = []string{domain} })
		fa.put("CN=Read-only Domain Controllers,CN=Users,"+nc, map[string][]string{
			"objectClass": {"top", "group"}, "objectSid": {rodc}, "whenCreated": {created},
		})
		// Another group of the domain must not be taken for it.
		other := []byte(rodc)
		other[len(other)-4] = 0x08
		fa.put("CN=Group Policy Creator Owners,CN=Users,"+nc, map[string][]string{
			"objectClass": {"top", "group"}, "objectSid": {string(other)}, "whenCreated": {"20200101000000.0Z"},
		})
	}
	for _, tc := range []struct {
		name       string
		childGroup bool
		want       map[string]time.Time
	}{
		{"both domains", true, map[string]time.Time{
			"corp.example.test":       time.Date(2009, 3, 2, 10, 0, 0, 0, time.UTC),
			"child.corp.example.test": time.Date(2011, 7, 14, 8, 30, 0, 0, time.UTC),
		}},
		{"child without the group", false, map[string]time.Time{
			"corp.example.test": time.Date(2009, 3, 2, 10, 0, 0, 0, time.UTC),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fa := newFakeAD()
			fa.account("rootsvc", "user", "HTTP/root")
			fa.addDomain("child.corp.example.test", "CHILD", childNC)
			withGroup(fa, fakeDomainNC, 0x11, "20090302100000.0Z")
			gc := newFakeAD()
			gc.put(childNC, map[string][]string{"objectClass": {"domain"}})
			gc.put("CN=Users,"+childNC, map[string][]string{"objectClass": {"container"}})
			if tc.childGroup {
				withGroup(gc, childNC, 0x22, "20110714083000.0Z")
			}
			gc.domainNC = childNC
			gc.account("childsvc", "user", "HTTP/child")
			gcAddr := gc.serve(t, nil, false)
			sc := newTestScanner(t, []string{"ldap://" + fa.serve(t, nil, false)}, nil)
			sc.globalCatalog = func(endpoint) endpoint { ep, _ := parseEndpoint("ldap://" + gcAddr); return ep }

			got := scanOK(t, sc).Snapshot.Directory.AESThresholds
			if len(got) != len(tc.want) {
				t.Fatalf("thresholds %v, want %v", got, tc.want)
			}
			for d, w := range tc.want {
				if !got[d].Equal(w) {
					t.Errorf("%s: threshold %s, want %s", d, got[d], w)
				}
			}
		})
	}
}
