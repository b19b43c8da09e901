package audit

import (
	"slices"
	"testing"
)

func TestDisabledAccountSPN(t *testing.T) {
	runRuleCases(t, disabledAccountSPN{}, []ruleCase{
		{
			name: "disabled service account",
			snap: snapshot(user("svc_old", []string{"HTTP/app", "HTTP/app.corp.example.test"}, disabled())),
			want: []string{"low svc_old"},
		},
		{
			name: "disabled computer",
			snap: snapshot(computer("oldsrv", nil, disabled())),
			want: []string{"low OLDSRV"},
		},
		{
			name: "must not fire: krbtgt of every domain is disabled by design",
			snap: snapshot(krbtgt(testDomain), krbtgt("child."+testDomain)),
		},
		{
			name: "must not fire: enabled accounts, disabled accounts without SPNs",
			snap: snapshot(user("svc_app", []string{"HTTP/app"}), user("bob", nil, disabled())),
		},
	})
}

func TestDisabledAccountSPNFix(t *testing.T) {
	fs := checkRule(disabledAccountSPN{}, snapshot(user("svc_old", []string{"HTTP/app"}, disabled())), Config{})
	want := []string{`setspn -L CORP\svc_old`, "Set-ADObject -Identity 'CN=svc_old,OU=Service Accounts,DC=corp,DC=example,DC=test' -Clear servicePrincipalName"}
	if len(fs) != 1 || !slices.Equal(fs[0].Remediation, want) {
		t.Fatalf("got %v, want remediation %q", fs, want)
	}
}
