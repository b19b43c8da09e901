package audit

import (
	"slices"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

func TestUnconstrainedDelegation(t *testing.T) {
	trusted := withUAC(inventory.UACTrustedForDelegation)
	runRuleCases(t, unconstrainedDelegation{}, []ruleCase{
		{
			name: "member server trusted for delegation",
			snap: snapshot(computer("app1", nil, trusted)),
			want: []string{"high APP1"},
		},
		{
			name: "user account trusted for delegation is critical",
			snap: snapshot(user("svc_web", []string{"HTTP/web"}, trusted)),
			want: []string{"critical svc_web"},
		},
		{
			name: "must not fire: domain controllers",
			snap: snapshot(domainController("dc1", testDomain)),
		},
		{
			name: "must not fire: constrained delegation (protocol transition)",
			snap: snapshot(computer("app1", nil, withUAC(inventory.UACTrustedToAuthForDelegation))),
		},
		{
			name: "must not fire: no SPN, or disabled",
			snap: snapshot(user("svc_nospn", nil, trusted), computer("app2", nil, trusted, disabled())),
		},
	})
}

func TestUnconstrainedDelegationFix(t *testing.T) {
	fs := checkRule(unconstrainedDelegation{}, snapshot(computer("app1", nil, withUAC(inventory.UACTrustedForDelegation))), Config{})
	want := "Set-ADAccountControl -Identity 'CN=APP1,OU=Servers,DC=corp,DC=example,DC=test' -TrustedForDelegation $false"
	if len(fs) != 1 || !slices.Contains(fs[0].Remediation, want) {
		t.Fatalf("remediation lacks %q: %v", want, fs)
	}
}
