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
			snap: snapshot(computer("svexpgg310", nil, withoutDNSHostName(), inDomain("child."+testDomain),
				func(o *inventory.Object) {
					o.SPNs = []string{"HOST/SVEXPGG310", "HOST/svexpgg310.child.corp.example.test"}
				}),
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

// TestHostAliasConflictADRule covers AD's alias uniqueness as MS-ADTS
// 3.1.1.5.1.3 states it and Samba's samldb.c implements it
// (samldb_spn_uniqueness_check -> check_spn_alias_collision -> get_spn_dn):
// HOST/r on one object and X/r on another, X an alias of HOST in
// sPNMappings, r the whole remainder after the class compared
// case-insensitively; whatever the two objects are.
func TestHostAliasConflictADRule(t *testing.T) {
	web01 := computer("web01", nil)
	mappings := func(s *inventory.Snapshot, values ...string) *inventory.Snapshot {
		s.Directory.SPNMappings = values
		return s
	}
	withNames := func(dns, sam []string) option {
		return func(o *inventory.Object) {
			o.Additional = &inventory.AdditionalNames{DNSHostNames: dns, SAMAccountNames: sam}
		}
	}
	runRuleCases(t, hostAliasConflict{}, []ruleCase{
		{
			name: "two users: HOST/h on one, CIFS/h on the other",
			snap: snapshot(user("svc_a", []string{"HOST/app.corp.example.test"}), user("svc_b", []string{"CIFS/app.corp.example.test"})),
			want: []string{"medium CIFS/app.corp.example.test svc_b,svc_a"},
		},
		{
			name: "two users, HOST holder listed last, other case",
			snap: snapshot(user("svc_b", []string{"cifs/APP"}), user("svc_a", []string{"host/app"})),
			want: []string{"medium cifs/APP svc_b,svc_a"},
		},
		{
			name: "user and DC: the DC's alias class on a name a user holds HOST for is high",
			snap: snapshot(domainController("dc1", testDomain), user("svc_vip", []string{"HOST/ldapvip.corp.example.test"}),
				func() inventory.Object {
					dc := domainController("dc2", testDomain)
					dc.SPNs = append(dc.SPNs, "HTTP/ldapvip.corp.example.test")
					return dc
				}()),
			want: []string{"high HTTP/ldapvip.corp.example.test DC2,svc_vip"},
		},
		{
			name: "user holds HOST for a machine's name the machine lacks, the machine its own CIFS",
			snap: snapshot(computer("web01", []string{"CIFS/web01.corp.example.test"}, func(o *inventory.Object) { o.SPNs = o.SPNs[2:] }),
				user("svc_x", []string{"HOST/web01.corp.example.test"})),
			want: []string{"medium CIFS/web01.corp.example.test WEB01,svc_x"},
		},
		{
			name: "two computers: one holds CIFS for the other's name",
			snap: snapshot(web01, computer("web02", []string{"CIFS/web01.corp.example.test"})),
			want: []string{"medium CIFS/web01.corp.example.test WEB02,WEB01"},
		},
		{
			name: "two computers: HOST for a shared VIP name on one, HTTP on the other",
			snap: snapshot(computer("web01", []string{"HOST/vip.corp.example.test"}), computer("web02", []string{"HTTP/vip.corp.example.test"})),
			want: []string{"medium HTTP/vip.corp.example.test WEB02,WEB01"},
		},
		{
			name: "computer additional DNS name counts as its HOST name",
			snap: snapshot(computer("web01", []string{"HOST/portal.corp.example.test"}, withNames([]string{"portal.corp.example.test"}, nil)),
				user("svc_portal", []string{"HTTP/portal.corp.example.test", "HTTP/PORTAL"})),
			want: []string{"medium HTTP/portal.corp.example.test svc_portal,WEB01"},
		},
		{
			name: "computer additional sAMAccountName: NetBIOS HOST SPN covers the FQDN form",
			snap: snapshot(computer("web01", []string{"HOST/PORTAL"}, withNames(nil, []string{"PORTAL$"})),
				user("svc_portal", []string{"HTTP/portal.corp.example.test"})),
			want: []string{"medium HTTP/portal.corp.example.test svc_portal,WEB01"},
		},
		{
			name: "port: CIFS/x:445 meets HOST/x:445",
			snap: snapshot(user("svc_a", []string{"HOST/files:445", "HOST/files"}), user("svc_b", []string{"CIFS/files:445"})),
			want: []string{"medium CIFS/files:445 svc_b,svc_a"},
		},
		{
			name: "service name: cifs/h/svc meets HOST/H/SVC (case-insensitive)",
			snap: snapshot(user("svc_a", []string{"HOST/APP/SVC"}), user("svc_b", []string{"cifs/app/svc"})),
			want: []string{"medium cifs/app/svc svc_b,svc_a"},
		},
		{
			name: "first mapping wins: http is HOST's alias when host= comes first",
			snap: mappings(snapshot(user("svc_a", []string{"HOST/app", "LDAP/dir"}), user("svc_b", []string{"HTTP/app", "HTTP/dir"})),
				"host=cifs,http", "ldap=http"),
			want: []string{"medium HTTP/app svc_b,svc_a"},
		},
		{
			name: "first mapping wins: http is LDAP's alias when ldap= comes first",
			snap: mappings(snapshot(user("svc_a", []string{"HOST/app", "LDAP/dir"}), user("svc_b", []string{"HTTP/app", "HTTP/dir"})),
				"ldap=http", "host=cifs,http"),
			want: []string{"medium HTTP/dir svc_b,svc_a"},
		},
		{
			name: "must not fire: CIFS/x:445 against HOST/x (the remainder differs)",
			snap: snapshot(user("svc_a", []string{"HOST/files"}), user("svc_b", []string{"CIFS/files:445"})),
		},
		{
			name: "must not fire: HOST/x:445 against CIFS/x",
			snap: snapshot(user("svc_a", []string{"HOST/files:445"}), user("svc_b", []string{"CIFS/files"})),
		},
		{
			name: "must not fire: service name present on one side only",
			snap: snapshot(user("svc_a", []string{"HOST/app"}), user("svc_b", []string{"CIFS/app/svc"})),
		},
		{
			name: "must not fire: NetBIOS and FQDN forms between two users (no machine names them)",
			snap: snapshot(user("svc_a", []string{"HOST/app"}), user("svc_b", []string{"CIFS/app.corp.example.test"})),
		},
		{
			name: "must not fire: trailing dot is another string for AD",
			snap: snapshot(user("svc_a", []string{"HOST/app.corp.example.test."}), user("svc_b", []string{"CIFS/app.corp.example.test"})),
		},
		{
			name: "must not fire: two aliases (CIFS and HTTP) on two users",
			snap: snapshot(user("svc_a", []string{"CIFS/app"}), user("svc_b", []string{"HTTP/app"})),
		},
		{
			name: "must not fire: HOST and its alias on the same user",
			snap: snapshot(user("svc_a", []string{"HOST/app", "CIFS/app"})),
		},
		{
			name: "must not fire: class outside sPNMappings",
			snap: snapshot(user("svc_a", []string{"HOST/app"}), user("svc_b", []string{"MSSQLSvc/app", "WSMAN/app"})),
		},
		{
			name: "must not fire: the second, unreachable mapping of an alias",
			snap: mappings(snapshot(user("svc_a", []string{"LDAP/dir"}), user("svc_b", []string{"HTTP/dir"})),
				"host=http", "ldap=http"),
		},
	})
}

func TestParseSPNMappingsFirstWins(t *testing.T) {
	got := parseSPNMappings([]string{"host=cifs, HTTP,cifs", "ldap=http,gc", "bad", "=x", "mssqlsvc=mssqlsvc"})
	want := map[string]string{"cifs": "host", "http": "host", "gc": "ldap"}
	if len(got) != len(want) {
		t.Fatalf("parseSPNMappings = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[foldKey(k)] != foldKey(v) {
			t.Errorf("parseSPNMappings[%q] = %q, want %q (all: %v)", k, got[foldKey(k)], v, got)
		}
	}
}

// TestHostAliasConflictExplainsPair: a pair between two service accounts
// names both SPNs, both accounts, what fails on each side and both fixes.
func TestHostAliasConflictExplainsPair(t *testing.T) {
	fs := checkRule(hostAliasConflict{}, snapshot(user("svc_a", []string{"HOST/app.corp.example.test"}),
		user("svc_b", []string{"CIFS/app.corp.example.test"})), Config{})
	if len(fs) != 1 {
		t.Fatalf("got %d findings, want 1", len(fs))
	}
	f := fs[0]
	for _, want := range []string{"CIFS/app.corp.example.test on CORP\\svc_b", "HOST/app.corp.example.test on CORP\\svc_a",
		"alias of HOST", "Kerberos fails for CIFS (SMB file and admin shares)", "for every HOST-aliased class but CIFS", "refuses HOST/app.corp.example.test"} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("message lacks %q: %s", want, f.Message)
		}
	}
	for _, want := range []string{
		`setspn -D CIFS/app.corp.example.test CORP\svc_b`,
		`setspn -D HOST/app.corp.example.test CORP\svc_a`,
		`setspn -S HOST/app.corp.example.test CORP\svc_b`,
	} {
		if !slices.Contains(f.Remediation, want) {
			t.Errorf("remediation lacks %q:\n%s", want, strings.Join(f.Remediation, "\n"))
		}
	}
	if !slices.Contains(f.References, refADTSUniqueness) {
		t.Errorf("references lack MS-ADTS 3.1.1.5.1.3: %v", f.References)
	}
}

// TestHostAliasConflictMachineNameTaken: a user holding HOST/<a machine's
// name> the machine lacks, beside the machine's own CIFS/<name>: the fix
// gives the HOST SPN back to the machine.
func TestHostAliasConflictMachineNameTaken(t *testing.T) {
	web01 := computer("web01", []string{"CIFS/web01.corp.example.test"}, func(o *inventory.Object) { o.SPNs = o.SPNs[2:] })
	fs := checkRule(hostAliasConflict{}, snapshot(web01, user("svc_x", []string{"HOST/web01.corp.example.test"})), Config{})
	if len(fs) != 1 {
		t.Fatalf("got %d findings, want 1", len(fs))
	}
	want := []string{
		`setspn -D HOST/web01.corp.example.test CORP\svc_x`,
		`setspn -S HOST/web01.corp.example.test CORP\WEB01$`,
	}
	for _, w := range want {
		if !slices.Contains(fs[0].Remediation, w) {
			t.Errorf("remediation lacks %q:\n%s", w, strings.Join(fs[0].Remediation, "\n"))
		}
	}
	if slices.Contains(fs[0].Remediation, `setspn -D CIFS/web01.corp.example.test CORP\WEB01$`) {
		t.Errorf("remediation removes the machine's own SPN:\n%s", strings.Join(fs[0].Remediation, "\n"))
	}
}
