package audit

import (
	"slices"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

func TestHostAliasConflict(t *testing.T) {
	node := computer("svexpgg310", nil)
	runRuleCases(t, hostAliasConflict{}, []ruleCase{
		{
			name: "HTTP on the app-pool account for a node's NetBIOS name",
			snap: snapshot(node, user("svc_iispool", []string{"HTTP/svexpgg310"})),
			want: []string{"medium HTTP/svexpgg310 svc_iispool,SVEXPGG310"},
		},
		{
			name: "DNS form on the account, the computer's HOST SPN in NetBIOS form only",
			snap: snapshot(computer("svexpgg310", nil, func(o *inventory.Object) { o.SPNs = []string{"HOST/SVEXPGG310"} }),
				user("svc_iispool", []string{"HTTP/svexpgg310.corp.example.test"})),
			want: []string{"medium HTTP/svexpgg310.corp.example.test svc_iispool,SVEXPGG310"},
		},
		{
			name: "computer without dNSHostName is matched by first label in its domain",
			snap: snapshot(computer("svexpgg310", nil, withoutDNSHostName()), user("svc_iispool", []string{"http/SVEXPGG310.corp.example.test"})),
			want: []string{"medium http/SVEXPGG310.corp.example.test svc_iispool,SVEXPGG310"},
		},
		{
			name: "a domain controller's alias taken is high",
			snap: snapshot(domainController("dc1", testDomain), user("svc_web", []string{"HTTP/dc1.corp.example.test"})),
			want: []string{"high HTTP/dc1.corp.example.test svc_web,DC1"},
		},
		{
			name: "CIFS is aliased too",
			snap: snapshot(node, user("svc_files", []string{"cifs/svexpgg310"})),
			want: []string{"medium cifs/svexpgg310 svc_files,SVEXPGG310"},
		},
		{
			name: "HOST itself on another account claims every alias",
			snap: snapshot(computer("svexpgg310", nil, func(o *inventory.Object) { o.SPNs = []string{"HOST/SVEXPGG310"} }),
				user("svc_x", []string{"HOST/svexpgg310.corp.example.test"})),
			want: []string{"medium HOST/svexpgg310.corp.example.test svc_x,SVEXPGG310"},
		},
		{
			name: "a gMSA holding the alias conflicts as well",
			snap: snapshot(node, gmsa("gmsa_web", []string{"HTTP/svexpgg310"})),
			want: []string{"medium HTTP/svexpgg310 gmsa_web,SVEXPGG310"},
		},
		{
			name: "custom sPNMappings: only the directory's aliases count",
			snap: func() *inventory.Snapshot {
				s := snapshot(node, user("svc_a", []string{"HTTP/svexpgg310", "MYSVC/svexpgg310"}))
				s.Directory.SPNMappings = []string{"host=mysvc,cifs"}
				return s
			}(),
			want: []string{"medium MYSVC/svexpgg310 svc_a,SVEXPGG310"},
		},
		{
			name: "a dns- account for a member server is not Samba's",
			snap: snapshot(node, user("dns-svexpgg310", []string{"DNS/svexpgg310.corp.example.test"})),
			want: []string{"medium DNS/svexpgg310.corp.example.test dns-svexpgg310,SVEXPGG310"},
		},
		{
			name: "must not fire: Samba's dns-<DC> account takes DNS/<dc> on purpose",
			snap: snapshot(domainController("dc1", testDomain), sambaDNSAccount("dc1")),
		},
		{
			name: "must not fire: port-qualified SPN (the fix)",
			snap: snapshot(node, user("svc_iispool", []string{"HTTP/svexpgg310:8080", "HTTP/svexpgg310.corp.example.test:8080"})),
		},
		{
			name: "must not fire: VIP name with no computer account",
			snap: snapshot(node, user("svc_iispool", []string{"HTTP/svnlb301", "HTTP/svnlb301.corp.example.test"})),
		},
		{
			name: "must not fire: class not aliased to HOST (MSSQLSvc, WSMAN)",
			snap: snapshot(node, user("svc_sql", []string{"MSSQLSvc/svexpgg310", "WSMAN/svexpgg310"})),
		},
		{
			name: "must not fire: the computer's own HTTP SPN",
			snap: snapshot(computer("svexpgg310", []string{"HTTP/svexpgg310", "HTTP/svexpgg310.corp.example.test"})),
		},
		{
			name: "must not fire: computer holds no HOST SPN for itself",
			snap: snapshot(computer("svexpgg310", nil, func(o *inventory.Object) { o.SPNs = nil }), user("svc_iispool", []string{"HTTP/svexpgg310"})),
		},
		{
			name: "must not fire: same explicit SPN on both is a duplicate, reported by duplicate-spn",
			snap: snapshot(computer("svexpgg310", []string{"HTTP/svexpgg310"}), user("svc_iispool", []string{"HTTP/svexpgg310"})),
		},
		{
			name: "must not fire: same first label in another domain",
			snap: snapshot(computer("svexpgg310", nil, withoutDNSHostName(), inDomain("child."+testDomain)),
				user("svc_iispool", []string{"HTTP/svexpgg310.corp.example.test"})),
		},
		{
			name: "must not fire: malformed value (malformed-spn reports it)",
			snap: snapshot(node, user("svc_iispool", []string{"HTTP/svexpgg310 "})),
		},
	})
}

func TestHostAliasConflictExplainsAndFixes(t *testing.T) {
	fs := checkRule(hostAliasConflict{}, snapshot(computer("svexpgg310", nil), user("svc_iispool", []string{"HTTP/svexpgg310"})), Config{})
	if len(fs) != 1 {
		t.Fatalf("got %d findings, want 1", len(fs))
	}
	f := fs[0]
	for _, want := range []string{"explicit SPN wins", "WinRM/PowerShell remoting", `CORP\SVEXPGG310$`, `CORP\svc_iispool`} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("message lacks %q: %s", want, f.Message)
		}
	}
	for _, want := range []string{
		`setspn -D HTTP/svexpgg310 CORP\svc_iispool`,
		`setspn -S HTTP/svexpgg310:8080 CORP\svc_iispool`,
		`setspn -S HTTP/svexpgg310:5985 CORP\SVEXPGG310$`,
		"Enter-PSSession -ComputerName svexpgg310 -SessionOption (New-PSSessionOption -IncludePortInSPN)",
	} {
		if !slices.Contains(f.Remediation, want) {
			t.Errorf("remediation lacks %q:\n%s", want, strings.Join(f.Remediation, "\n"))
		}
	}
	if f.Remediation[1] != `setspn -D HTTP/svexpgg310 CORP\svc_iispool` {
		t.Errorf("the removal must come first, got %q", f.Remediation[1])
	}
}
