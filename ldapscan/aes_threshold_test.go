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

func TestDomainNC(t *testing.T) {
	for dn, want := range map[string]string{
		"DC=corp,DC=example,DC=test":                    "DC=corp,DC=example,DC=test",
		"OU=Farm,DC=Corp,DC=example,DC=test":            "DC=corp,DC=example,DC=test",
		"CN=Users,DC=child,DC=corp,DC=example,DC=test":  "DC=child,DC=corp,DC=example,DC=test",
		"CN=Configuration,DC=corp,DC=example,DC=test,X": "",
	} {
		if got := domainNC(dn); got != want {
			t.Errorf("domainNC(%s) = %q, want %q", dn, got, want)
		}
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
