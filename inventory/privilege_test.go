package inventory

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

const (
	testDomain = "corp.example.test"
	testBase   = "DC=corp,DC=example,DC=test"
	testSID    = "S-1-5-21-1-2-3"
	childSID   = "S-1-5-21-4-5-6"
)

func groupDN(cn string) string     { return "CN=" + cn + ",CN=Users," + testBase }
func builtinDN(cn string) string   { return "CN=" + cn + ",CN=Builtin," + testBase }
func userDN(cn string) string      { return "CN=" + cn + ",OU=Svc," + testBase }
func rid(sid string, r int) string { return fmt.Sprintf("%s-%d", sid, r) }
func grp(dn, sid string, members ...string) Group {
	return Group{DN: dn, SID: sid, Domain: testDomain, Members: members}
}

// baseGroups are the two groups a complete read always holds.
func baseGroups(extra ...Group) []Group {
	return append([]Group{
		grp(groupDN("Domain Admins"), rid(testSID, 512)),
		grp(builtinDN("Administrators"), "S-1-5-32-544", groupDN("Domain Admins")),
	}, extra...)
}

func TestApplyPrivileges(t *testing.T) {
	for _, tc := range []struct {
		name    string
		groups  []Group
		partial []string
		object  Object
		// want is "Group: chain CNs joined by >", "" for not privileged,
		// "unknown" for unknown.
		want string
	}{
		{
			name:   "direct member of Domain Admins",
			groups: baseGroups(grp(groupDN("Domain Admins"), rid(testSID, 512), userDN("svc"))),
			object: Object{DN: userDN("svc")},
			want:   "Domain Admins: Domain Admins",
		},
		{
			name: "nested: Tier0 Ops in Domain Admins",
			groups: []Group{
				grp(groupDN("Domain Admins"), rid(testSID, 512), groupDN("Tier0 Ops")),
				grp(builtinDN("Administrators"), "S-1-5-32-544", groupDN("Domain Admins")),
				grp(groupDN("Tier0 Ops"), rid(testSID, 1105), userDN("svc")),
			},
			object: Object{DN: userDN("svc")},
			want:   "Domain Admins: Tier0 Ops>Domain Admins",
		},
		{
			name: "two levels into builtin Administrators, not by name",
			groups: baseGroups(
				grp(builtinDN("Administratoren"), "S-1-5-32-544", groupDN("Ops")),
				grp(groupDN("Ops"), rid(testSID, 1200), groupDN("Ops Leads")),
				grp(groupDN("Ops Leads"), rid(testSID, 1201), userDN("svc")),
			),
			object: Object{DN: userDN("svc")},
			want:   `BUILTIN\Administrators: Ops Leads>Ops>Administratoren`,
		},
		{
			name: "a group named Domain Admins with another RID grants nothing",
			groups: baseGroups(
				grp("CN=Domain Admins,OU=Fake,"+testBase, rid(testSID, 3000), userDN("svc")),
			),
			object: Object{DN: userDN("svc")},
			want:   "",
		},
		{
			name:   "builtin RID in a domain SID is not builtin (S-1-5-21-...-544 is an ordinary group)",
			groups: baseGroups(grp(groupDN("Local"), rid(testSID, 544), userDN("svc"))),
			object: Object{DN: userDN("svc")},
			want:   "",
		},
		{
			name:   "domain RID under BUILTIN is not Domain Admins",
			groups: baseGroups(grp(builtinDN("Odd"), "S-1-5-32-512", userDN("svc"))),
			object: Object{DN: userDN("svc")},
			want:   "",
		},
		{
			name:   "Backup Operators",
			groups: baseGroups(grp(builtinDN("Backup Operators"), "S-1-5-32-551", userDN("svc"))),
			object: Object{DN: userDN("svc")},
			want:   `BUILTIN\Backup Operators: Backup Operators`,
		},
		{
			name:   "Key Admins (RID 526)",
			groups: baseGroups(grp(groupDN("Key Admins"), rid(testSID, 526), userDN("svc"))),
			object: Object{DN: userDN("svc")},
			want:   "Key Admins: Key Admins",
		},
		{
			name:   "primaryGroupID 512",
			groups: baseGroups(),
			object: Object{DN: userDN("svc"), Domain: testDomain, PrimaryGroupID: 512},
			want:   "Domain Admins: Domain Admins (primary group)",
		},
		{
			name:   "primaryGroupID of a group nested in Administrators",
			groups: baseGroups(grp(builtinDN("Administrators"), "S-1-5-32-544", groupDN("Tier0 Ops")), grp(groupDN("Tier0 Ops"), rid(testSID, 1105))),
			object: Object{DN: userDN("svc"), Domain: testDomain, PrimaryGroupID: 1105},
			want:   `BUILTIN\Administrators: Tier0 Ops>Administrators (primary group)`,
		},
		{
			name:   "primaryGroupID 513 (Domain Users)",
			groups: baseGroups(),
			object: Object{DN: userDN("svc"), Domain: testDomain, PrimaryGroupID: 513},
			want:   "",
		},
		{
			name:   "primaryGroupID resolves in the account's own domain only",
			groups: baseGroups(),
			object: Object{DN: "CN=svc,DC=child," + testBase, Domain: "child." + testDomain, PrimaryGroupID: 512},
			want:   "unknown",
		},
		{
			name: "cycle of nested groups ends",
			groups: baseGroups(
				grp(groupDN("Domain Admins"), rid(testSID, 512), groupDN("A")),
				grp(groupDN("A"), rid(testSID, 2001), groupDN("B")),
				grp(groupDN("B"), rid(testSID, 2002), groupDN("A"), userDN("svc")),
			),
			object: Object{DN: userDN("svc")},
			want:   "Domain Admins: B>A>Domain Admins",
		},
		{
			name: "cycle not reaching a protected group",
			groups: baseGroups(
				grp(groupDN("A"), rid(testSID, 2001), groupDN("B")),
				grp(groupDN("B"), rid(testSID, 2002), groupDN("A"), userDN("svc")),
			),
			object: Object{DN: userDN("svc")},
			want:   "",
		},
		{
			name: "shortest chain wins",
			groups: baseGroups(
				grp(groupDN("Domain Admins"), rid(testSID, 512), groupDN("A")),
				grp(groupDN("A"), rid(testSID, 2001), groupDN("B")),
				grp(groupDN("B"), rid(testSID, 2002), userDN("svc")),
				grp(builtinDN("Server Operators"), "S-1-5-32-549", userDN("svc")),
			),
			object: Object{DN: userDN("svc")},
			want:   `BUILTIN\Server Operators: Server Operators`,
		},
		{
			name: "equal length: the more powerful group wins",
			groups: baseGroups(
				grp(builtinDN("Print Operators"), "S-1-5-32-550", userDN("svc")),
				grp(groupDN("Domain Admins"), rid(testSID, 512), userDN("svc")),
			),
			object: Object{DN: userDN("svc")},
			want:   "Domain Admins: Domain Admins",
		},
		{
			name:   "DNs compare case-insensitively",
			groups: baseGroups(grp(groupDN("Domain Admins"), rid(testSID, 512), strings.ToLower(userDN("svc")))),
			object: Object{DN: userDN("svc")},
			want:   "Domain Admins: Domain Admins",
		},
		{
			name:   "not a member of anything: not privileged",
			groups: baseGroups(),
			object: Object{DN: userDN("svc"), Domain: testDomain},
			want:   "",
		},
		{
			name:   "no groups read: unknown",
			object: Object{DN: userDN("svc"), Domain: testDomain},
			want:   "unknown",
		},
		{
			name:   "Domain Admins without BUILTIN Administrators: unknown",
			groups: []Group{grp(groupDN("Domain Admins"), rid(testSID, 512))},
			object: Object{DN: userDN("svc"), Domain: testDomain},
			want:   "unknown",
		},
		{
			name:    "domain read through the Global Catalog: unknown unless a chain is found",
			groups:  baseGroups(),
			partial: []string{testDomain},
			object:  Object{DN: userDN("svc"), Domain: testDomain},
			want:    "unknown",
		},
		{
			name:    "partial domain, but a chain is found",
			groups:  baseGroups(grp(groupDN("Domain Admins"), rid(testSID, 512), userDN("svc"))),
			partial: []string{testDomain},
			object:  Object{DN: userDN("svc"), Domain: testDomain},
			want:    "Domain Admins: Domain Admins",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := Membership{Groups: mergeGroups(tc.groups), DomainSIDs: map[string]string{testDomain: testSID}, PartialDomains: tc.partial}
			if tc.object.Domain == "" {
				tc.object.Domain = testDomain
			}
			in := []*Object{&tc.object}
			out := ApplyPrivileges(in, m)
			if got := describePrivilege(out[0]); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if in[0].Privilege != nil || in[0].PrivilegeUnknown {
				t.Error("ApplyPrivileges modified its input")
			}
		})
	}
}

// mergeGroups merges entries of the same DN so that tables can add members
// to the base groups.
func mergeGroups(gs []Group) []Group {
	var out []Group
	for _, g := range gs {
		i := slices.IndexFunc(out, func(o Group) bool { return o.DN == g.DN })
		if i < 0 {
			out = append(out, g)
			continue
		}
		out[i].Members = append(out[i].Members, g.Members...)
	}
	return out
}

func describePrivilege(o *Object) string {
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

func TestApplyPrivilegesSharesUnchanged(t *testing.T) {
	m := Membership{Groups: baseGroups(), DomainSIDs: map[string]string{testDomain: testSID}}
	in := []*Object{{DN: userDN("a"), Domain: testDomain}, {DN: userDN("b"), Domain: testDomain}}
	if out := ApplyPrivileges(in, m); &out[0] != &in[0] {
		t.Error("nothing changed, yet the objects were copied")
	}
	m.Groups[0].Members = []string{userDN("b")}
	out := ApplyPrivileges(in, m)
	if &out[0] == &in[0] || out[1].Privilege == nil || out[0].Privilege != nil {
		t.Errorf("want a new slice with b privileged: %+v", out)
	}
	if in[1].Privilege != nil || out[0] != in[0] {
		t.Error("want b changed in a copy, a shared: the objects before are another snapshot's")
	}
	// Dropped from the group: the privilege goes (a poll recomputes every object).
	m.Groups[0].Members = nil
	if again := ApplyPrivileges(out, m); again[1].Privilege != nil {
		t.Error("privilege kept after the membership was removed")
	}
}

func TestProtectedGroupSID(t *testing.T) {
	for _, p := range ProtectedGroups {
		sid := p.SID(testSID)
		rank, ok := protectedRank(sid)
		if !ok || ProtectedGroups[rank] != p {
			t.Errorf("%s: %s not recognised", p.Name, sid)
		}
		if _, ok := protectedRank(rid(testSID, 513)); ok {
			t.Error("Domain Users recognised as protected")
		}
	}
}

// BenchmarkApplyPrivileges: a poll recomputes every object's privilege;
// 250,000 accounts (the README's memory figure for 1,000,000 SPNs).
func BenchmarkApplyPrivileges(b *testing.B) {
	objects := make([]*Object, 250_000)
	for i := range objects {
		objects[i] = &Object{DN: userDN(fmt.Sprint("svc", i)), Domain: testDomain, PrimaryGroupID: 513}
	}
	groups := baseGroups(grp(groupDN("Tier0 Ops"), rid(testSID, 1105), userDN("svc7"), userDN("svc9")))
	groups[1].Members = append(groups[1].Members, groupDN("Tier0 Ops"))
	m := Membership{Groups: groups, DomainSIDs: map[string]string{testDomain: testSID}}
	objects = ApplyPrivileges(objects, m)
	b.ReportAllocs()
	for b.Loop() {
		ApplyPrivileges(objects, m)
	}
}
