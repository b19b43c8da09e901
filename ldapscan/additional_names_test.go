package ldapscan

import (
	"slices"
	"strings"
	"testing"
)

// TestAdditionalNamesRead: a computer's msDS-AdditionalDnsHostName and
// msDS-AdditionalSamAccountName reach the inventory (the LDIF reader and the
// LDAP scan share objectFromRecord), because host-alias-conflict counts them
// as the machine's HOST names (MS-ADTS 3.1.1.5.3.1.1.4).
func TestAdditionalNamesRead(t *testing.T) {
	const dump = `dn: CN=WEB01,OU=Servers,DC=corp,DC=example,DC=test
objectClass: top
objectClass: computer
sAMAccountName: WEB01$
userAccountControl: 4096
dNSHostName: web01.corp.example.test
msDS-AdditionalDnsHostName: portal.corp.example.test
msDS-AdditionalDnsHostName: portal2.corp.example.test
msDS-AdditionalSamAccountName: PORTAL$
servicePrincipalName: HOST/PORTAL

`
	res, err := ReadLDIF(strings.NewReader(dump), "additional.ldif")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Snapshot.Objects) != 1 {
		t.Fatalf("objects = %d, want 1", len(res.Snapshot.Objects))
	}
	o := res.Snapshot.Objects[0]
	if !slices.Equal(o.AdditionalDNSHostNames(), []string{"portal.corp.example.test", "portal2.corp.example.test"}) ||
		!slices.Equal(o.AdditionalSAMAccountNames(), []string{"PORTAL$"}) {
		t.Errorf("additional names = %+v", o.Additional)
	}
	if !slices.Contains(objectAttributes, "msDS-AdditionalDnsHostName") || !slices.Contains(objectAttributes, "msDS-AdditionalSamAccountName") {
		t.Errorf("the LDAP scan does not request the additional names: %q", objectAttributes)
	}
}
