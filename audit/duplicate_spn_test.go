package audit

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

func TestDuplicateSPN(t *testing.T) {
	runRuleCases(t, duplicateSPN{}, []ruleCase{
		{
			name: "same SPN on two service accounts",
			snap: snapshot(user("svc_a", []string{"HTTP/web.corp.example.test"}), user("svc_b", []string{"HTTP/web.corp.example.test"})),
			want: []string{"high HTTP/web.corp.example.test svc_a,svc_b"},
		},
		{
			name: "case differs: HTTP/Host vs http/host is a duplicate",
			snap: snapshot(user("svc_a", []string{"HTTP/Web"}), user("svc_b", []string{"http/web"})),
			want: []string{"high HTTP/Web svc_a,svc_b"},
		},
		{
			name: "three holders make one finding",
			snap: snapshot(user("svc_a", []string{"HTTP/x"}), user("svc_b", []string{"HTTP/x"}), user("svc_c", []string{"http/X"})),
			want: []string{"high HTTP/x svc_a,svc_b,svc_c"},
		},
		{
			name: "HOST SPN involved is critical",
			snap: snapshot(computer("app1", nil), user("svc_a", []string{"HOST/app1.corp.example.test"})),
			want: []string{"critical HOST/app1.corp.example.test APP1,svc_a"},
		},
		{
			name: "a domain controller involved is critical",
			snap: snapshot(domainController("dc1", testDomain), user("svc_ldap", []string{"ldap/dc1.corp.example.test"})),
			want: []string{"critical ldap/dc1.corp.example.test DC1,svc_ldap"},
		},
		{
			name: "kadmin/changepw on a non-krbtgt account duplicates krbtgt's",
			snap: snapshot(krbtgt(testDomain), user("svc_evil", []string{"kadmin/changepw"})),
			want: []string{"critical kadmin/changepw krbtgt,svc_evil"},
		},
		{
			name: "must not fire: kadmin/changepw on every domain's krbtgt",
			snap: snapshot(krbtgt(testDomain), krbtgt("child."+testDomain)),
		},
		{
			name: "must not fire: the same SPN twice on one account, in any case",
			snap: snapshot(user("svc_a", []string{"HTTP/web", "http/WEB", "HTTP/web"})),
		},
		{
			name: "must not fire: port variants are different SPNs",
			snap: snapshot(user("svc_a", []string{"MSSQLSvc/db:1433"}), user("svc_b", []string{"MSSQLSvc/db"}), user("svc_c", []string{"MSSQLSvc/db:1434"})),
		},
		{
			name: "must not fire: service name variants are different SPNs",
			snap: snapshot(user("svc_a", []string{"ldap/dc1/corp"}), user("svc_b", []string{"ldap/dc1"})),
		},
		// Look-alikes: one SPN to Windows (CompareString with NORM_IGNORECASE |
		// NORM_IGNORENONSPACE | NORM_IGNOREKANATYPE | NORM_IGNOREWIDTH, see
		// TestLooseEqualAsWindows), accepted by Samba (TestLabADAcceptance),
		// CVE-2026-25177. Always critical; SPN names the look-alike.
		{
			name: "look-alike: diacritic in the service class",
			snap: snapshot(user("svc_a", []string{"cifs/files.corp.example.test"}), user("svc_evil", []string{"cīfs/files.corp.example.test"})),
			want: []string{"critical cīfs/files.corp.example.test svc_a,svc_evil"},
		},
		{
			name: "look-alike: full-width class",
			snap: snapshot(user("svc_a", []string{"HTTP/web"}), user("svc_evil", []string{"ＨＴＴＰ/web"})),
			want: []string{"critical ＨＴＴＰ/web svc_a,svc_evil"},
		},
		{
			name: "look-alike: katakana and hiragana service names",
			snap: snapshot(user("svc_a", []string{"HTTP/web/カナ"}), user("svc_b", []string{"HTTP/web/かな"})),
			want: []string{"critical HTTP/web/カナ svc_a,svc_b"},
		},
		{
			name: "look-alike beside a plain duplicate is one finding",
			snap: snapshot(user("svc_a", []string{"HTTP/web"}), user("svc_b", []string{"http/WEB"}), user("svc_evil", []string{"HTTP/wéb"})),
			want: []string{"critical HTTP/wéb svc_a,svc_b,svc_evil"},
		},
		{
			name: "must not fire: a look-alike on the same account",
			snap: snapshot(user("svc_a", []string{"HTTP/web", "HTTP/wéb"})),
		},
		{
			name: "must not fire: different letters, not marks",
			snap: snapshot(user("svc_a", []string{"HTTP/web/cafe"}), user("svc_b", []string{"HTTP/web/cafés"})),
		},
		{
			name: "must not fire: lookalike with a zero-width space (malformed-spn reports it)",
			snap: snapshot(user("svc_a", []string{"HTTP/web"}), user("svc_b", []string{"HTTP/web\u200b"})),
		},
		{
			name: "must not fire: a healthy DC, farm nodes and krbtgt",
			snap: snapshot(domainController("dc1", testDomain), krbtgt(testDomain), computer("svexpgg310", nil), computer("svexpgg311", nil)),
		},
	})
}

func TestDuplicateSPNRemediation(t *testing.T) {
	t.Run("HOST SPN keeps the computer that owns the name", func(t *testing.T) {
		fs := checkRule(duplicateSPN{}, snapshot(computer("app1", nil), user("svc_a", []string{"HOST/APP1"})), Config{})
		if len(fs) != 1 {
			t.Fatalf("got %d findings, want 1", len(fs))
		}
		want := []string{
			"setspn -Q HOST/APP1",
			`# HOST/APP1 belongs to the computer CORP\APP1$; remove it from the other accounts:`,
			`setspn -D HOST/APP1 CORP\svc_a`,
			"setspn -X -F",
		}
		if !slices.Equal(fs[0].Remediation, want) {
			t.Errorf("remediation:\n%s\nwant:\n%s", strings.Join(fs[0].Remediation, "\n"), strings.Join(want, "\n"))
		}
	})
	t.Run("otherwise every holder is listed", func(t *testing.T) {
		fs := checkRule(duplicateSPN{}, snapshot(user("svc_a", []string{"HTTP/x"}), user("svc_b", []string{"HTTP/x"})), Config{})
		for _, want := range []string{`setspn -D HTTP/x CORP\svc_a`, `setspn -D HTTP/x CORP\svc_b`} {
			if !slices.Contains(fs[0].Remediation, want) {
				t.Errorf("remediation lacks %q: %q", want, fs[0].Remediation)
			}
		}
	})
}

func TestDuplicateSPNLookalikeFinding(t *testing.T) {
	fs := checkRule(duplicateSPN{}, snapshot(user("svc_a", []string{"cifs/files"}), user("svc_evil", []string{"ｃīfs/files"})), Config{})
	if len(fs) != 1 {
		t.Fatalf("got %d findings, want 1", len(fs))
	}
	f := fs[0]
	for _, want := range []string{"look-alike", "one SPN to Windows", "KDC", "Delete the look-alike " + quotedSPN("ｃīfs/files"), "keep cifs/files"} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("message lacks %q: %s", want, f.Message)
		}
	}
	want := []string{
		"setspn -Q cifs/files",
		"# cifs/files is the registered form; delete the look-alike value(s):",
		`setspn -D ([char]0xFF43 + [char]0x012B + 'fs/files') CORP\svc_evil`,
		"setspn -X -F",
	}
	if !slices.Equal(f.Remediation, want) {
		t.Errorf("remediation:\n%s\nwant:\n%s", strings.Join(f.Remediation, "\n"), strings.Join(want, "\n"))
	}
	if !slices.Contains(f.References, refCVE202625177) {
		t.Errorf("references lack the CVE: %q", f.References)
	}
}

// A group of k holders is one finding with k accounts, not k*(k-1)/2 pairs.
func TestDuplicateSPNLargeGroupIsOneFinding(t *testing.T) {
	const k = 2000
	objs := make([]inventory.Object, k)
	for i := range objs {
		objs[i] = user(fmt.Sprintf("svc_%04d", i), []string{"HTTP/shared.corp.example.test"})
	}
	fs := checkRule(duplicateSPN{}, snapshot(objs...), Config{})
	if len(fs) != 1 || len(fs[0].Accounts) != k || len(fs[0].Remediation) != k+3 {
		t.Fatalf("got %d findings, first with %d accounts; want 1 with %d", len(fs), len(fs[0].Accounts), k)
	}
	if !strings.Contains(fs[0].Message, "and 1997 more") {
		t.Errorf("message does not bound the listed names: %s", fs[0].Message)
	}
}
