package audit

import (
	"slices"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

const testDomainSID = "S-1-5-21-1000-2000-3000"

func withSID(rid string) option {
	return func(o *inventory.Object) { o.ObjectSID = testDomainSID + "-" + rid }
}

func allowedToAct(ps ...inventory.Principal) option {
	return func(o *inventory.Object) { o.SetAllowedToActOnBehalf(ps) }
}

func TestResourceBasedDelegation(t *testing.T) {
	web := computer("web1", nil, withSID("1101"))
	quota := inventory.Principal{SID: testDomainSID + "-1102", DN: dnIn("EVIL", "CN=Computers", testDomain), Domain: testDomain,
		SAMAccountName: "EVIL$", Kind: inventory.KindComputer, CreatorSID: testDomainSID + "-1103"}
	bob := inventory.Principal{SID: testDomainSID + "-1104", DN: dnIn("bob", "CN=Users", testDomain), Domain: testDomain,
		SAMAccountName: "bob", Kind: inventory.KindUser}
	runRuleCases(t, resourceBasedDelegation{}, []ruleCase{
		{
			name: "computer principal known only to the inventory (LDIF) is medium",
			snap: snapshot(web, computer("file1", nil, allowedToAct(inventory.Principal{SID: web.ObjectSID}))),
			want: []string{"medium FILE1,WEB1"},
		},
		{
			name: "principals any user controls",
			snap: snapshot(computer("file1", nil, allowedToAct(
				inventory.Principal{SID: testDomainSID + "-513"},
				inventory.Principal{SID: "S-1-1-0", WellKnown: "Everyone"},
				quota, bob))),
			want: []string{"critical FILE1", "critical FILE1", "high FILE1,EVIL", "high FILE1,bob"},
		},
		{
			name: "any principal on a domain controller is critical",
			snap: snapshot(func() inventory.Object {
				dc := domainController("dc1", testDomain)
				dc.SetAllowedToActOnBehalf([]inventory.Principal{{SID: web.ObjectSID}})
				return dc
			}(), web),
			want: []string{"critical DC1,WEB1"},
		},
		{
			name: "unresolved SID",
			snap: snapshot(computer("file1", nil, allowedToAct(inventory.Principal{SID: "S-1-5-21-9-9-9-1500"}))),
			want: []string{"medium FILE1"},
		},
		{
			name: "must not fire: no RBCD, or disabled target",
			snap: snapshot(web, computer("file2", nil, disabled(), allowedToAct(bob))),
		},
	})
}

func TestResourceBasedDelegationNamesPrincipals(t *testing.T) {
	quota := inventory.Principal{SID: testDomainSID + "-1102", DN: dnIn("EVIL", "CN=Computers", testDomain), Domain: testDomain,
		SAMAccountName: "EVIL$", Kind: inventory.KindComputer, CreatorSID: testDomainSID + "-1103"}
	fs := checkRule(resourceBasedDelegation{}, snapshot(computer("file1", nil, allowedToAct(quota,
		inventory.Principal{SID: "S-1-5-21-9-9-9-1500"}))), Config{})
	msgs := make([]string, len(fs))
	for i, f := range fs {
		msgs[i] = f.Message
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{
		`CORP\EVIL$ may impersonate any user to every service of CORP\FILE1$`,
		"created through ms-DS-MachineAccountQuota by " + testDomainSID + "-1103",
		"S-1-5-21-9-9-9-1500 may impersonate any user",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("messages lack %q:\n%s", want, all)
		}
	}
	fix := "Set-ADComputer -Identity 'CN=FILE1,OU=Servers,DC=corp,DC=example,DC=test' -PrincipalsAllowedToDelegateToAccount $null"
	if !slices.Contains(fs[0].Remediation, fix) {
		t.Errorf("remediation lacks %q: %q", fix, fs[0].Remediation)
	}
}
