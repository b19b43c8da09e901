package audit

import (
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/inventory"
)

func TestKerberoastableAccount(t *testing.T) {
	old := withPwdLastSet(testNow.AddDate(-2, 0, 0))
	runRuleCases(t, kerberoastableAccount{}, []ruleCase{
		{
			name: "user with an SPN and a recent password",
			snap: snapshot(user("svc_app", []string{"HTTP/app"})),
			want: []string{"medium svc_app"},
		},
		{
			name: "privileged user (adminCount=1)",
			snap: snapshot(user("svc_admin", []string{"HTTP/app"}, withAdminCount())),
			want: []string{"high svc_admin"},
		},
		{
			name: "Domain Admin without adminCount (SDProp not run yet, or Samba): critical",
			snap: snapshot(user("svc_da", []string{"HTTP/app"}, withPrivilege(false, "Domain Admins", "CN=Domain Admins,CN=Users,DC=corp,DC=example,DC=test"))),
			want: []string{"critical svc_da"},
		},
		{
			name: "Administrator through a nested group: critical",
			snap: snapshot(user("svc_nested", []string{"HTTP/app"}, withAdminCount(),
				withPrivilege(false, `BUILTIN\Administrators`, "CN=Tier0 Ops,OU=Groups,DC=corp,DC=example,DC=test", "CN=Administrators,CN=Builtin,DC=corp,DC=example,DC=test"))),
			want: []string{"critical svc_nested"},
		},
		{
			name: "privileged but disabled: not reported (disabled-account-spn is)",
			snap: snapshot(user("svc_off", []string{"HTTP/app"}, disabled(), withPrivilege(true, "Domain Admins", "CN=Domain Admins,CN=Users,DC=corp,DC=example,DC=test"))),
		},
		{
			name: "privilege unknown is not privileged: medium, said in the message",
			snap: snapshot(user("svc_unknown", []string{"HTTP/app"}, func(o *inventory.Object) { o.PrivilegeUnknown = true })),
			want: []string{"medium svc_unknown"},
		},
		{
			name: "password older than the default 365 days",
			snap: snapshot(user("svc_old", []string{"HTTP/app"}, old)),
			want: []string{"high svc_old"},
		},
		{
			name: "password never set",
			snap: snapshot(user("svc_never", []string{"HTTP/app"}, withPwdLastSet(time.Time{}))),
			want: []string{"high svc_never"},
		},
		{
			name: "configured maximum age",
			snap: snapshot(user("svc_app", []string{"HTTP/app"}, withPwdLastSet(testNow.AddDate(0, 0, -40)))),
			cfg:  Config{MaxPasswordAge: 30 * 24 * time.Hour},
			want: []string{"high svc_app"},
		},
		{
			name: "Config.Now overrides the scan time",
			snap: snapshot(user("svc_app", []string{"HTTP/app"})),
			cfg:  Config{Now: testNow.AddDate(2, 0, 0)},
			want: []string{"high svc_app"},
		},
		{
			name: "must not fire: Samba's dns-<DC> account (random password)",
			snap: snapshot(domainController("dc1", testDomain), sambaDNSAccount("dc1")),
		},
		{
			name: "a dns- account that is not a DC's is a user like any other",
			snap: snapshot(sambaDNSAccount("nodc")),
			want: []string{"medium dns-nodc"},
		},
		{
			name: "must not fire: computers, gMSAs, krbtgt, disabled users, users without SPNs",
			snap: snapshot(computer("app1", nil), gmsa("gmsa_app", []string{"HTTP/app"}), krbtgt(testDomain),
				user("svc_off", []string{"HTTP/app"}, disabled()), user("alice", nil)),
		},
		{
			name: "must not fire as high: old password unknown without a reference time",
			snap: func() *inventory.Snapshot {
				s := snapshot(user("svc_app", []string{"HTTP/app"}, old))
				s.Started = time.Time{}
				return s
			}(),
			want: []string{"medium svc_app"},
		},
	})
}

func TestKerberoastableAccountSaysWhy(t *testing.T) {
	fs := checkRule(kerberoastableAccount{}, snapshot(user("svc_sql", []string{"MSSQLSvc/db:1433"}, withAdminCount(), withPwdLastSet(testNow.AddDate(0, 0, -800)))), Config{})
	for _, want := range []string{"adminCount=1", "800 days old (limit 365)", "MSSQLSvc/db:1433", `CORP\svc_sql`} {
		if !strings.Contains(fs[0].Message, want) {
			t.Errorf("message lacks %q: %s", want, fs[0].Message)
		}
	}
	if want := "Set-ADUser -Identity 'CN=svc_sql,OU=Service Accounts,DC=corp,DC=example,DC=test' -KerberosEncryptionType AES128,AES256"; !strings.Contains(strings.Join(fs[0].Remediation, "\n"), want) {
		t.Errorf("remediation lacks %q", want)
	}
}

func withPrivilege(primary bool, group string, chain ...string) option {
	return func(o *inventory.Object) {
		o.Privilege = &inventory.Privilege{Group: group, SID: "S-1-5-21-1-2-3-512", Chain: chain, PrimaryGroup: primary}
	}
}

func TestKerberoastableAccountNamesTheChain(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    []option
		want    []string
		wantNot []string
	}{
		{
			name: "nested chain by common names",
			opts: []option{withPrivilege(false, `BUILTIN\Administrators`, `CN=Tier0 Ops\, Europe,OU=Groups,DC=corp,DC=example,DC=test`, "CN=Administrators,CN=Builtin,DC=corp,DC=example,DC=test")},
			want: []string{`it is privileged: a member of BUILTIN\Administrators through Tier0 Ops, Europe -> Administrators`},
		},
		{
			name:    "direct member",
			opts:    []option{withPrivilege(false, "Domain Admins", "CN=Domain Admins,CN=Users,DC=corp,DC=example,DC=test")},
			want:    []string{"it is privileged: a member of Domain Admins."},
			wantNot: []string{"through", "unknown"},
		},
		{
			name: "primary group",
			opts: []option{withPrivilege(true, "Domain Admins", "CN=Domain Admins,CN=Users,DC=corp,DC=example,DC=test")},
			want: []string{"a member of Domain Admins (primary group Domain Admins)"},
		},
		{
			name: "unknown",
			opts: []option{func(o *inventory.Object) { o.PrivilegeUnknown = true }},
			want: []string{"whether it is privileged through group membership is unknown"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := checkRule(kerberoastableAccount{}, snapshot(user("svc", []string{"HTTP/app"}, tc.opts...)), Config{})
			for _, w := range tc.want {
				if !strings.Contains(fs[0].Message, w) {
					t.Errorf("message lacks %q: %s", w, fs[0].Message)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(fs[0].Message, w) {
					t.Errorf("message has %q: %s", w, fs[0].Message)
				}
			}
		})
	}
}
