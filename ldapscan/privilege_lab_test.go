package ldapscan

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/internal/labtest"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/lab"
)

// PrivilegeScenario holds accounts with SPNs that are privileged only
// through group membership: Samba never sets adminCount, so none has it.
var privilegeScenario = &lab.Scenario{Name: "ldapscan-privilege", OU: "LdapscanPrivilege",
	Groups: []lab.Group{
		{Name: "Priv Tier0 Ops", MemberOf: []string{"Administrators"}},
		{Name: "Priv Tier0 Leads", MemberOf: []string{"Priv Tier0 Ops"}},
		{Name: "Priv App Owners"},
	},
	Users: []lab.User{
		{Name: "priv_da", SPNs: []string{"HTTP/priv-da.corp.example.test"}, MemberOf: []string{"Domain Admins"}},
		{Name: "priv_nested", SPNs: []string{"HTTP/priv-nested.corp.example.test"}, MemberOf: []string{"Priv Tier0 Leads"}},
		{Name: "priv_primary", SPNs: []string{"HTTP/priv-primary.corp.example.test"}, MemberOf: []string{"Domain Admins"}, PrimaryGroupID: 512},
		{Name: "priv_backup", SPNs: []string{"HTTP/priv-backup.corp.example.test"}, MemberOf: []string{"Backup Operators"}},
		{Name: "priv_none", SPNs: []string{"HTTP/priv-none.corp.example.test"}, MemberOf: []string{"Priv App Owners"}},
	}}

// TestLabPrivilegeFromGroups: against the Samba lab DC, bound as the
// read-only audit account (Domain Users only), a scan finds the protected
// groups by objectSid and the groups nested in them with
// LDAP_MATCHING_RULE_IN_CHAIN, and gives each account its chain, the
// primary group included; an incremental poll sees a membership change that
// only moved the group's uSNChanged.
func TestLabPrivilegeFromGroups(t *testing.T) {
	sc := privilegeScenario
	l := labtest.Scenario(t, sc)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	scanner := labScanner(t, l, lab.LDAPURL(), SASLSeal, false)
	res, err := scanner.Scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"priv_da":      "Domain Admins: Domain Admins",
		"priv_nested":  `BUILTIN\Administrators: Priv Tier0 Leads>Priv Tier0 Ops>Administrators`,
		"priv_primary": "Domain Admins: Domain Admins (primary group)",
		"priv_backup":  `BUILTIN\Backup Operators: Backup Operators`,
		"priv_none":    "",
	}
	check := func(what string, snap *inventory.Snapshot, want map[string]string) {
		t.Helper()
		got := map[string]string{}
		for _, o := range snap.Objects {
			if strings.HasSuffix(strings.ToLower(o.DN), ","+strings.ToLower(sc.OUDN())) {
				got[o.SAMAccountName] = describePrivilege(o)
				if o.AdminCount != 0 {
					t.Errorf("%s: %s has adminCount=%d: the test would not prove that membership alone counts", what, o.SAMAccountName, o.AdminCount)
				}
			}
		}
		for sam, w := range want {
			if got[sam] != w {
				t.Errorf("%s: %s: got %q, want %q", what, sam, got[sam], w)
			}
		}
	}
	check("scan", res.Snapshot, want)
	t.Logf("scan: %d groups of the membership graph read, %d objects", res.Stats.Groups, len(res.Snapshot.Objects))

	// Membership changes bump the group's uSNChanged, not the member's.
	tier0 := sc.GroupDN("Priv Tier0 Ops")
	steps := []struct {
		name   string
		change func() error
		want   map[string]string
	}{
		{"App Owners nested in Tier0 Ops", func() error { return l.AddMember(ctx, tier0, sc.GroupDN("Priv App Owners")) },
			map[string]string{"priv_none": `BUILTIN\Administrators: Priv App Owners>Priv Tier0 Ops>Administrators`}},
		{"Tier0 Ops taken out of Administrators", func() error { return l.RemoveMember(ctx, lab.WellKnownGroupDN("Administrators"), tier0) },
			map[string]string{"priv_none": "", "priv_nested": ""}},
	}
	prev := res
	for _, step := range steps {
		res := pollAfter(ctx, t, scanner, prev, step.name, step.change)
		check(step.name, res.Snapshot, step.want)
		t.Logf("%s: poll fetched %d entries and %d groups in %v", step.name, res.Stats.Entries, res.Stats.Groups, res.Snapshot.Duration)
		prev = res
	}
}
