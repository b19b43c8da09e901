package audit

import (
	"slices"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

func withDelegateTo(spns ...string) option {
	return func(o *inventory.Object) { o.SetAllowedToDelegateTo(spns) }
}

var protocolTransitionUAC = withUAC(inventory.UACTrustedToAuthForDelegation)

func TestConstrainedDelegation(t *testing.T) {
	dc := domainController("dc1", testDomain)
	runRuleCases(t, constrainedDelegation{}, []ruleCase{
		{
			name: "protocol transition is high",
			snap: snapshot(computer("file1", nil), user("svc_web", []string{"HTTP/web"}, protocolTransitionUAC, withDelegateTo("cifs/file1."+testDomain))),
			want: []string{"high svc_web"},
		},
		{
			name: "protocol transition to a DC service is critical",
			snap: snapshot(dc, computer("app1", nil, protocolTransitionUAC, withDelegateTo("ldap/dc1."+testDomain))),
			want: []string{"critical APP1"},
		},
		{
			name: "Kerberos-only delegation is low, medium to a DC",
			snap: snapshot(dc, computer("file1", nil),
				computer("app1", nil, withDelegateTo("cifs/file1."+testDomain)),
				computer("app2", nil, withDelegateTo("cifs/FILE1", "cifs/dc1."+testDomain))),
			want: []string{"medium APP2", "low APP1"},
		},
		{
			name: "must not fire: protocol transition without targets, or disabled",
			snap: snapshot(computer("app1", nil, protocolTransitionUAC),
				computer("app2", nil, protocolTransitionUAC, withDelegateTo("cifs/x"), disabled())),
		},
	})
}

func TestConstrainedDelegationFix(t *testing.T) {
	fs := checkRule(constrainedDelegation{}, snapshot(user("svc_web", []string{"HTTP/web"}, protocolTransitionUAC,
		withDelegateTo("cifs/ghost."+testDomain))), Config{})
	if len(fs) != 1 {
		t.Fatalf("want one finding, got %v", summaries(fs))
	}
	for _, want := range []string{
		"Set-ADAccountControl -Identity 'CN=svc_web,OU=Service Accounts,DC=corp,DC=example,DC=test' -TrustedToAuthForDelegation $false",
		"Set-ADUser -Identity 'CN=svc_web,OU=Service Accounts,DC=corp,DC=example,DC=test' -Remove @{'msDS-AllowedToDelegateTo'='cifs/ghost.corp.example.test'}",
	} {
		if !slices.Contains(fs[0].Remediation, want) {
			t.Errorf("remediation lacks %q: %q", want, fs[0].Remediation)
		}
	}
	if !strings.Contains(fs[0].Message, `CORP\svc_web may delegate to cifs/ghost.corp.example.test with protocol transition`) {
		t.Errorf("message %q", fs[0].Message)
	}
}
