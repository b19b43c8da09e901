package audit

import (
	"slices"
	"testing"
)

func TestMissingSPNPair(t *testing.T) {
	farm := Farm{Name: "iis", VIP: "svnlb301", Nodes: []string{"svexpgg310"}, DNSSuffix: testDomain, Classes: []string{"HTTP"}, Account: "svc_iispool"}
	runRuleCases(t, missingSPNPair{}, []ruleCase{
		{
			name: "NetBIOS form without the DNS form",
			snap: snapshot(user("svc_app", []string{"HTTP/app"})),
			want: []string{"medium HTTP/app svc_app"},
		},
		{
			name: "SQL with port, NetBIOS only",
			snap: snapshot(user("svc_sql", []string{"MSSQLSvc/db:1433", "MSSQLSvc/db.corp.example.test"})),
			want: []string{"medium MSSQLSvc/db:1433 svc_sql"},
		},
		{
			name: "HTTP DNS form without the NetBIOS form",
			snap: snapshot(user("svc_app", []string{"HTTP/app.corp.example.test"})),
			want: []string{"low HTTP/app.corp.example.test svc_app"},
		},
		{
			name: "managed service accounts are service accounts too",
			snap: snapshot(gmsa("gmsa_app", []string{"HTTP/app"})),
			want: []string{"medium HTTP/app gmsa_app"},
		},
		{
			name: "must not fire: both forms, different case",
			snap: snapshot(user("svc_app", []string{"HTTP/APP", "http/app.corp.example.test"})),
		},
		{
			name: "must not fire: SQL in DNS form only (clients canonicalise)",
			snap: snapshot(user("svc_sql", []string{"MSSQLSvc/db.corp.example.test:1433"})),
		},
		{
			name: "must not fire: DNS name outside the forest has no NetBIOS form",
			snap: snapshot(user("svc_app", []string{"HTTP/www.partner.example"})),
		},
		{
			name: "must not fire: computer accounts keep their own pairs",
			snap: snapshot(computer("app1", []string{"WSMAN/APP1"})),
		},
		{
			name: "must not fire: counterpart held by another account (duplicate-spn and farm-drift judge)",
			snap: snapshot(user("svc_a", []string{"HTTP/app"}), user("svc_b", []string{"HTTP/app.corp.example.test"})),
		},
		{
			name: "must not fire: port variants are separate pairs, both complete",
			snap: snapshot(user("svc_sql", []string{"MSSQLSvc/db:1433", "MSSQLSvc/db.corp.example.test:1433", "MSSQLSvc/db:1434", "MSSQLSvc/db.corp.example.test:1434"})),
		},
		{
			name: "must not fire: krbtgt and domain names",
			snap: snapshot(krbtgt(testDomain), user("svc_a", []string{"ldap/corp", "HOST/corp.example.test"})),
		},
		{
			name: "must not fire: SPNs a farm declares are farm-drift's",
			snap: snapshot(user("svc_iispool", []string{"HTTP/svnlb301"})),
			cfg:  Config{Farms: []Farm{farm}},
		},
	})
}

func TestMissingSPNPairProposesTheComputersDNSName(t *testing.T) {
	fs := checkRule(missingSPNPair{}, snapshot(computer("db1", nil, inDomain("child."+testDomain)), user("svc_sql", []string{"MSSQLSvc/DB1:1433"})), Config{})
	want := []string{`setspn -S MSSQLSvc/db1.child.corp.example.test:1433 CORP\svc_sql`}
	if len(fs) != 1 || !slices.Equal(fs[0].Remediation, want) {
		t.Fatalf("got %v, want one finding with remediation %q", fs, want)
	}
}
