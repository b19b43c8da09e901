package audit

import (
	"slices"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

func TestDelegationTarget(t *testing.T) {
	front := func(targets ...string) option { return withDelegateTo(targets...) }
	runRuleCases(t, delegationTarget{}, []ruleCase{
		{
			name: "ghost host",
			snap: snapshot(user("svc_web", []string{"HTTP/web"}, protocolTransitionUAC, front("cifs/nowhere."+testDomain))),
			want: []string{"high cifs/nowhere.corp.example.test svc_web"},
		},
		{
			name: "duplicate target",
			snap: snapshot(computer("file1", nil),
				user("svc_a", []string{"MSSQLSvc/file1." + testDomain + ":1433"}),
				user("svc_b", []string{"MSSQLSvc/file1." + testDomain + ":1433"}),
				user("svc_web", []string{"HTTP/web"}, front("MSSQLSvc/file1."+testDomain+":1433"))),
			want: []string{"high MSSQLSvc/file1.corp.example.test:1433 svc_web,svc_a,svc_b"},
		},
		{
			name: "alias-conflicted target",
			snap: snapshot(computer("file1", nil),
				user("svc_files", []string{"cifs/file1." + testDomain}),
				user("svc_web", []string{"HTTP/web"}, front("cifs/file1."+testDomain))),
			want: []string{"medium cifs/file1.corp.example.test svc_web,svc_files,FILE1"},
		},
		{
			name: "alias-conflicted target between two users (HOST/r on one, cifs/r on the other)",
			snap: func() *inventory.Snapshot {
				snap := snapshot(
					user("svc_host", []string{"HOST/files." + testDomain}),
					user("svc_files", []string{"cifs/files." + testDomain}),
					user("svc_web", []string{"HTTP/web"}, front("cifs/files."+testDomain)))
				snap.Directory.DNSNames = []string{"files." + testDomain}
				return snap
			}(),
			want: []string{"medium cifs/files.corp.example.test svc_web,svc_files,svc_host"},
		},
		{
			name: "unregistered target on a known host",
			snap: snapshot(computer("file1", nil),
				user("svc_web", []string{"HTTP/web"}, front("MSSQLSvc/file1."+testDomain+":1433"))),
			want: []string{"medium MSSQLSvc/file1.corp.example.test:1433 svc_web"},
		},
		{
			name: "must not fire: target covered by the machine's HOST SPN, or held once",
			snap: snapshot(computer("file1", nil), user("svc_sql", []string{"MSSQLSvc/file1." + testDomain + ":1433"}),
				user("svc_web", []string{"HTTP/web"}, front("cifs/file1."+testDomain, "cifs/FILE1", "MSSQLSvc/file1."+testDomain+":1433"))),
		},
		{
			name: "must not fire: delegating account disabled",
			snap: snapshot(user("svc_web", []string{"HTTP/web"}, disabled(), front("cifs/nowhere."+testDomain))),
		},
	})
}

func TestDelegationTargetNamesBoth(t *testing.T) {
	fs := checkRule(delegationTarget{}, snapshot(user("svc_web", []string{"HTTP/web"}, protocolTransitionUAC,
		withDelegateTo("cifs/nowhere."+testDomain))), Config{})
	if len(fs) != 1 || !strings.Contains(fs[0].Message, `CORP\svc_web delegates to cifs/nowhere.corp.example.test`) {
		t.Fatalf("finding does not name the delegating account and target: %+v", fs)
	}
	fix := "Set-ADUser -Identity 'CN=svc_web,OU=Service Accounts,DC=corp,DC=example,DC=test' -Remove @{'msDS-AllowedToDelegateTo'='cifs/nowhere.corp.example.test'}"
	if !slices.Contains(fs[0].Remediation, fix) {
		t.Errorf("remediation lacks %q: %q", fix, fs[0].Remediation)
	}
}
