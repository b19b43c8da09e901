package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/internal/labtest"
	"github.com/spnaudit/spnaudit/lab"
)

// TestLabScanPrivilegedByGroups is the end-to-end check of privilege from
// group membership: on the lab DC (Samba never sets adminCount), a Domain
// Admin holding an SPN and an account that is an Administrator through
// nested groups are critical kerberoastable-account findings, each naming
// its chain; an account in an ordinary group stays medium. The scan binds
// as the lab's read-only audit account.
func TestLabScanPrivilegedByGroups(t *testing.T) {
	sc := &lab.Scenario{Name: "cmd-privilege", OU: "CmdPrivilege",
		Groups: []lab.Group{
			{Name: "Cmd Tier0 Ops", MemberOf: []string{"Administrators"}},
			{Name: "Cmd Tier0 Leads", MemberOf: []string{"Cmd Tier0 Ops"}},
			{Name: "Cmd App Owners"},
		},
		Users: []lab.User{
			{Name: "crit_da", SPNs: []string{"MSSQLSvc/crit-da.corp.example.test:1433"}, MemberOf: []string{"Domain Admins"}},
			{Name: "crit_nested", SPNs: []string{"HTTP/crit-nested.corp.example.test"}, MemberOf: []string{"Cmd Tier0 Leads"}},
			{Name: "crit_none", SPNs: []string{"HTTP/crit-none.corp.example.test"}, MemberOf: []string{"Cmd App Owners"}},
		}}
	l := labtest.Scenario(t, sc)
	clearEnv(t)
	config := labConfigFile(t, l, map[string]any{"ldap.base_dn": sc.OUDN()})

	r := spnaudit(t, false, "scan", "--config", config, "--format", "json")
	if r.status == 0 || r.status == 2 || r.stderr != "" {
		t.Fatalf("status %d, stderr %q; want findings and nothing on stderr", r.status, r.stderr)
	}
	var doc struct {
		Findings []struct {
			Rule, Severity, Message string
			Accounts                []string
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range doc.Findings {
		if f.Rule == "kerberoastable-account" {
			got[commonName(f.Accounts[0])] = f.Severity + ": " + f.Message
		}
	}
	for sam, want := range map[string][]string{
		"crit_da":     {"critical: ", "it is privileged: a member of Domain Admins."},
		"crit_nested": {"critical: ", `a member of BUILTIN\Administrators through Cmd Tier0 Leads -> Cmd Tier0 Ops -> Administrators`},
		"crit_none":   {"medium: "},
	} {
		for _, w := range want {
			if !strings.Contains(got[sam], w) {
				t.Errorf("%s: finding %q lacks %q", sam, got[sam], w)
			}
		}
	}

	r = spnaudit(t, false, "inventory", "--config", config, "--format", "json")
	if r.status != 0 {
		t.Fatalf("inventory: status %d, stderr %q", r.status, r.stderr)
	}
	var objects []privilegedObject
	if err := json.Unmarshal([]byte(r.stdout), &objects); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(objects, func(o privilegedObject) bool { return o.SAMAccountName == "crit_nested" })
	if i < 0 || objects[i].PrivilegedVia == nil {
		t.Fatalf("inventory: crit_nested has no privileged_via: %s", r.stdout)
	}
	p := objects[i].PrivilegedVia
	wantChain := []string{sc.GroupDN("Cmd Tier0 Leads"), sc.GroupDN("Cmd Tier0 Ops"), lab.WellKnownGroupDN("Administrators")}
	if p.SID != "S-1-5-32-544" || !slices.EqualFunc(p.Chain, wantChain, strings.EqualFold) {
		t.Errorf("inventory: crit_nested privileged_via %+v, want S-1-5-32-544 via %q", p, wantChain)
	}
}

// privilegedObject is the part of an inventory object this test reads.
type privilegedObject struct {
	SAMAccountName string `json:"sam_account_name"`
	PrivilegedVia  *struct {
		Group string   `json:"group"`
		SID   string   `json:"sid"`
		Chain []string `json:"chain"`
	} `json:"privileged_via"`
	PrivilegeUnknown bool `json:"privilege_unknown"`
}
