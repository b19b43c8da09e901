package audit

import (
	"strings"
	"testing"
)

func TestMalformedSPN(t *testing.T) {
	runRuleCases(t, malformedSPN{}, []ruleCase{
		{
			name: "no slash is a shape error",
			snap: snapshot(user("svc_a", []string{"HTTPweb"})),
			want: []string{"low HTTPweb svc_a"},
		},
		{
			name: "whitespace breaks parsers",
			snap: snapshot(user("svc_a", []string{"HTTP/web app"})),
			want: []string{"medium HTTP/web app svc_a"},
		},
		{
			name: "zero-width character is high",
			snap: snapshot(user("svc_a", []string{"HTTP/web\u200b"})),
			want: []string{"high HTTP/web\u200b svc_a"},
		},
		{
			name: "invisible lookalike of another account's SPN is critical",
			snap: snapshot(user("svc_real", []string{"HTTP/web.corp.example.test"}), user("svc_evil", []string{"HTTP/web.corp.example.test\u200b"})),
			want: []string{"critical HTTP/web.corp.example.test\u200b svc_evil,svc_real"},
		},
		{
			name: "Cyrillic homoglyph lookalike is critical",
			snap: snapshot(user("svc_real", []string{"HTTP/web"}), user("svc_evil", []string{"HTTP/w\u0435b"})),
			want: []string{"critical HTTP/w\u0435b svc_evil,svc_real"},
		},
		{
			name: "trailing-dot lookalike is critical",
			snap: snapshot(user("svc_real", []string{"HTTP/web.corp.example.test"}), user("svc_evil", []string{"HTTP/WEB.corp.example.test."})),
			want: []string{"critical HTTP/WEB.corp.example.test. svc_evil,svc_real"},
		},
		{
			// Windows ignores the macron (NORM_IGNORENONSPACE); duplicate-spn
			// reports the pair too, this names the impersonation.
			name: "diacritic lookalike of another account's SPN is critical",
			snap: snapshot(user("svc_real", []string{"cifs/files"}), user("svc_evil", []string{"cīfs/files"})),
			want: []string{"critical cīfs/files svc_evil,svc_real"},
		},
		{
			name: "must not fire as critical: a non-ASCII host that imitates nothing",
			snap: snapshot(user("svc_real", []string{"cifs/files"}), user("svc_b", []string{"cifs/fīlés2"})),
			want: []string{"high cifs/fīlés2 svc_b"},
		},
		{
			name: "lookalike of its own SPN is not impersonation",
			snap: snapshot(user("svc_a", []string{"HTTP/web", "HTTP/web\u200b"})),
			want: []string{"high HTTP/web\u200b svc_a"},
		},
		{
			name: "must not fire: well-formed values of every shape",
			snap: snapshot(domainController("dc1", testDomain), krbtgt(testDomain),
				user("svc_a", []string{"MSSQLSvc/db:1433", "MSSQLSvc/db:SALES", "HTTP/[fe80::1]:80", "ldap/dc1/CN=x", "HTTP/web/café"})),
		},
		{
			// samba samldb.c count_spn_components; Windows counts every '/'.
			name: "more than three '/'-separated components",
			snap: snapshot(user("svc_a", []string{"ldap/dc1/CN=x/y", "cifs/x/x/x"})),
			want: []string{"low cifs/x/x/x svc_a", "low ldap/dc1/CN=x/y svc_a"},
		},
	})
}

func TestMalformedSPNRemediationRemovesTheExactValue(t *testing.T) {
	fs := checkRule(malformedSPN{}, snapshot(user("svc_a", []string{"HTTP/we'b\u200b"})), Config{})
	if len(fs) != 1 {
		t.Fatalf("got %d findings, want 1", len(fs))
	}
	want := `Set-ADObject -Identity 'CN=svc_a,OU=Service Accounts,DC=corp,DC=example,DC=test' -Remove @{servicePrincipalName=('HTTP/we''b' + [char]0x200B)}`
	if fs[0].Remediation[0] != want {
		t.Errorf("remediation\n  %s\nwant\n  %s", fs[0].Remediation[0], want)
	}
	if !strings.Contains(fs[0].Message, `"HTTP/we'b\u200b"`) {
		t.Errorf("message does not show the invisible character: %s", fs[0].Message)
	}
}

func TestSkeleton(t *testing.T) {
	tests := []struct{ in, want string }{
		{"HTTP/web\u200b", "HTTP/web"},
		{"HTTP/\u202eweb", "HTTP/web"},
		{"HTTP/w\u0435b", "HTTP/web"},
		{"НТТР/web", "HTTP/web"},
		{"HTTP/\uff57eb", "HTTP/web"},
		{"HTTP/web.corp.", "HTTP/web.corp"},
		{"HTTP/web", "HTTP/web"},
	}
	for _, tt := range tests {
		if s := skeleton(tt.in); s != tt.want {
			t.Errorf("skeleton(%q) = %q, want %q", tt.in, s, tt.want)
		}
	}
}
