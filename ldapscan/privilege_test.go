package ldapscan

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

func TestSIDRoundTrip(t *testing.T) {
	for _, sid := range []string{"S-1-5-32-544", "S-1-5-21-1004336348-1177238915-682003330-512", "S-1-5-18"} {
		raw, err := encodeSID(sid)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := formatSID(raw); err != nil || got != sid {
			t.Errorf("%s: round trip gives %q, %v", sid, got, err)
		}
	}
	// MS-DTYP 2.4.2.2: the bytes of S-1-5-32-544 as AD stores them.
	if raw, _ := encodeSID("S-1-5-32-544"); base64.StdEncoding.EncodeToString(raw) != "AQIAAAAAAAUgAAAAIAIAAA==" {
		t.Errorf("S-1-5-32-544 encodes as %x", raw)
	}
	for _, bad := range [][]byte{nil, {1, 2, 0, 0, 0, 0, 0, 5}, {2, 0, 0, 0, 0, 0, 0, 5}} {
		if _, err := formatSID(bad); err == nil {
			t.Errorf("formatSID(%x) accepted", bad)
		}
	}
}

func TestDomainNC(t *testing.T) {
	for in, want := range map[string]string{
		"OU=Farm,DC=corp,DC=example,DC=test": "DC=corp,DC=example,DC=test",
		"DC=corp,DC=example,DC=test":         "DC=corp,DC=example,DC=test",
		"CN=Configuration,DC=corp,DC=test":   "DC=corp,DC=test",
		"not a dn":                           "",
	} {
		if got := domainNC(in); got != want {
			t.Errorf("domainNC(%q) = %q, want %q", in, got, want)
		}
	}
}

// ldifSID is a base64 objectSid value for an LDIF export.
func ldifSID(sid string) string { return base64.StdEncoding.EncodeToString(mustSID(sid)) }

const (
	ldifDA     = "CN=Domain Admins,CN=Users," + fakeDomainNC
	ldifAdmins = "CN=Administrators,CN=Builtin," + fakeDomainNC
	ldifTier0  = "CN=Tier0 Ops,OU=Groups," + fakeDomainNC
	ldifSvc    = "CN=svc_sql,OU=Svc," + fakeDomainNC
)

var (
	ldifSvcEntry = "dn: " + ldifSvc + "\nobjectClass: user\nsAMAccountName: svc_sql\nservicePrincipalName: MSSQLSvc/db01:1433\n"
	ldifDAEntry  = "dn: " + ldifDA + "\nobjectClass: group\nobjectSid:: " + ldifSID(fakeDomainSID+"-512") + "\n"
	ldifAdmEntry = "dn: " + ldifAdmins + "\nobjectClass: group\nobjectSid:: " + ldifSID("S-1-5-32-544") + "\nmember: " + ldifDA + "\n"
)

// TestLDIFPrivilege: an LDIF export tells privilege from its group entries
// (member) and from the accounts' memberOf, and says when it cannot.
func TestLDIFPrivilege(t *testing.T) {
	for _, tc := range []struct {
		name string
		ldif string
		want string // "unknown", "" (not privileged), or the chain's CNs
	}{
		{
			name: "no groups, no memberOf: unknown",
			ldif: ldifSvcEntry,
			want: "unknown",
		},
		{
			name: "memberOf only: the groups' SIDs are missing, unknown",
			ldif: ldifSvcEntry + "memberOf: " + ldifDA + "\n",
			want: "unknown",
		},
		{
			name: "groups exported, account in none",
			ldif: ldifSvcEntry + "\n" + ldifDAEntry + "\n" + ldifAdmEntry,
			want: "",
		},
		{
			name: "groups exported with member values",
			ldif: ldifSvcEntry + "\n" + ldifDAEntry + "member: " + ldifTier0 + "\n\n" + ldifAdmEntry + "\n" +
				"dn: " + ldifTier0 + "\nobjectClass: group\nobjectSid:: " + ldifSID(fakeDomainSID+"-1105") + "\nmember: " + ldifSvc + "\n",
			want: "Domain Admins: Tier0 Ops>Domain Admins",
		},
		{
			name: "groups without member values, account and nested group with memberOf",
			ldif: ldifSvcEntry + "memberOf: " + ldifTier0 + "\n\n" + ldifDAEntry + "\n" + ldifAdmEntry + "\n" +
				"dn: " + ldifTier0 + "\nobjectClass: group\nobjectSid:: " + ldifSID(fakeDomainSID+"-1105") + "\nmemberOf: " + ldifAdmins + "\n",
			want: `BUILTIN\Administrators: Tier0 Ops>Administrators`,
		},
		{
			name: "primaryGroupID 512, resolved with the domain SID taken from the groups",
			ldif: ldifSvcEntry + "primaryGroupID: 512\n\n" + ldifDAEntry + "\n" + ldifAdmEntry,
			want: "Domain Admins: Domain Admins (primary group)",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ReadLDIF(strings.NewReader(tc.ldif), "test")
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Snapshot.Objects) != 1 {
				t.Fatalf("objects: %+v", res.Snapshot.Objects)
			}
			o := res.Snapshot.Objects[0]
			if got := describePrivilege(o); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if said := res.PrivilegeUnknown == 1 && strings.Contains(res.PrivilegeNote, "export the groups too"); said != o.PrivilegeUnknown {
				t.Errorf("PrivilegeUnknown %d, note %q, object unknown %v", res.PrivilegeUnknown, res.PrivilegeNote, o.PrivilegeUnknown)
			}
		})
	}
}

func describePrivilege(o *inventory.Object) string {
	switch {
	case o.PrivilegeUnknown:
		return "unknown"
	case o.Privilege == nil:
		return ""
	}
	var cns []string
	for _, dn := range o.Privilege.Chain {
		cn, _, _ := strings.Cut(strings.TrimPrefix(dn, "CN="), ",")
		cns = append(cns, cn)
	}
	s := o.Privilege.Group + ": " + strings.Join(cns, ">")
	if o.Privilege.PrimaryGroup {
		s += " (primary group)"
	}
	return s
}

// TestPollSeesMembershipChange: adding an account to a protected group
// bumps the group's uSNChanged, not the account's; a poll still sees the
// account become privileged, and lose it again, without a full scan.
func TestPollSeesMembershipChange(t *testing.T) {
	fa := newFakeAD()
	svc := fa.account("svc_sql", "user", "MSSQLSvc/db01:1433")
	fa.put("CN=Tier0 Ops,CN=Users,"+fakeDomainNC, map[string][]string{"objectClass": {"top", "group"},
		"objectSid": {string(mustSID(fakeDomainSID + "-1105"))}})
	sc := newTestScanner(t, []string{"ldap://" + fa.serve(t, nil, false)}, nil)
	prev := scanOK(t, sc)
	steps := []struct {
		name   string
		change func()
		want   string
	}{
		{"not privileged", func() {}, ""},
		{"Tier0 Ops nested in Administrators, svc in Tier0 Ops", func() {
			fa.modify("CN=Tier0 Ops,CN=Users,"+fakeDomainNC, func(a map[string][]string) { a["member"] = []string{svc} })
			fa.modify(fakeAdministrators, func(a map[string][]string) {
				a["member"] = append(a["member"], "CN=Tier0 Ops,CN=Users,"+fakeDomainNC)
			})
		}, `BUILTIN\Administrators: Tier0 Ops>Administrators`},
		{"Tier0 Ops taken out of Administrators", func() {
			fa.modify(fakeAdministrators, func(a map[string][]string) { a["member"] = []string{fakeDomainAdmins} })
		}, ""},
	}
	for _, step := range steps {
		before := fa.entries[strings.ToLower(svc)].usn
		step.change()
		if fa.entries[strings.ToLower(svc)].usn != before {
			t.Fatalf("%s: the account's uSNChanged moved: the test would not prove anything", step.name)
		}
		res, err := sc.Poll(context.Background(), prev)
		if err != nil {
			t.Fatal(err)
		}
		if res.Stats.Mode != inventory.IncrementalScan {
			t.Fatalf("%s: poll ran %s: %s", step.name, res.Stats.Mode, res.Stats.FullReason)
		}
		if got := describePrivilege(res.Snapshot.Objects[0]); got != step.want {
			t.Errorf("%s: poll says %q, want %q", step.name, got, step.want)
		}
		prev = res
	}
}

// TestPrivilegeThroughGlobalCatalog: a domain read through the Global
// Catalog, which does not publish the members of global and domain-local
// groups, gives privilege when a chain is found and "unknown" otherwise,
// never "not privileged"; the DC's own domain is read whole.
func TestPrivilegeThroughGlobalCatalog(t *testing.T) {
	const (
		childNC  = "DC=child," + fakeDomainNC
		childSID = "S-1-5-21-11-22-33"
	)
	fa := newFakeAD()
	fa.account("rootsvc", "user", "HTTP/root")
	fa.addDomain("child.corp.example.test", "CHILD", childNC)
	gc := newFakeAD()
	gc.put(childNC, map[string][]string{"objectClass": {"domain"}, "objectSid": {string(mustSID(childSID))}})
	gc.put("CN=Users,"+childNC, map[string][]string{"objectClass": {"container"}})
	gc.domainNC = childNC
	gc.account("childsvc", "user", "HTTP/child")
	childDA := gc.account("childda", "user", "HTTP/childda")
	// A universal group nested in the child's Domain Admins: what the GC shows.
	gc.put("CN=Domain Admins,CN=Users,"+childNC, map[string][]string{"objectClass": {"group"},
		"objectSid": {string(mustSID(childSID + "-512"))}, "member": {childDA}})
	gcAddr := gc.serve(t, nil, false)
	sc := newTestScanner(t, []string{"ldap://" + fa.serve(t, nil, false)}, nil)
	sc.globalCatalog = func(endpoint) endpoint { ep, _ := parseEndpoint("ldap://" + gcAddr); return ep }

	res := scanOK(t, sc)
	got := map[string]string{}
	for _, o := range res.Snapshot.Objects {
		got[o.SAMAccountName] = describePrivilege(o)
	}
	want := map[string]string{"rootsvc": "", "childsvc": "unknown", "childda": "Domain Admins: Domain Admins"}
	if !mapsEqual(got, want) {
		t.Fatalf("privilege %q, want %q", got, want)
	}
}

// TestPrivilegeDomainWithoutGroups: a domain whose protected groups cannot
// be read leaves its accounts unknown without losing the other domains'.
func TestPrivilegeDomainWithoutGroups(t *testing.T) {
	const childNC = "DC=child," + fakeDomainNC
	fa := newFakeAD()
	fa.account("rootsvc", "user", "HTTP/root")
	fa.addDomain("child.corp.example.test", "CHILD", childNC)
	gc := newFakeAD()
	gc.put(childNC, map[string][]string{"objectClass": {"domain"}, "objectSid": {string(mustSID("S-1-5-21-11-22-33"))}})
	gc.put("CN=Users,"+childNC, map[string][]string{"objectClass": {"container"}})
	gc.domainNC = childNC
	gc.account("childsvc", "user", "HTTP/child")
	gcAddr := gc.serve(t, nil, false)
	sc := newTestScanner(t, []string{"ldap://" + fa.serve(t, nil, false)}, nil)
	sc.globalCatalog = func(endpoint) endpoint { ep, _ := parseEndpoint("ldap://" + gcAddr); return ep }
	got := map[string]string{}
	for _, o := range scanOK(t, sc).Snapshot.Objects {
		got[o.SAMAccountName] = describePrivilege(o)
	}
	if want := map[string]string{"rootsvc": "", "childsvc": "unknown"}; !mapsEqual(got, want) {
		t.Fatalf("privilege %q, want %q", got, want)
	}
}
