package audit

import (
	"slices"
	"testing"
)

func TestCheckSPN(t *testing.T) {
	snap := snapshot(
		computer("svexpgg310", nil),
		domainController("dc1", testDomain),
		user("svc_iispool", []string{"HTTP/svnlb301"}),
		user("svc_legacyweb", nil),
	)
	tests := []struct {
		name, spn, account string
		want               []string
	}{
		{"would duplicate", "http/SVNLB301", "svc_legacyweb", []string{"high HTTP/svnlb301 svc_iispool,svc_legacyweb"}},
		{"would take a node's HOST alias", "HTTP/svexpgg310", `CORP\svc_iispool`, []string{"medium HTTP/svexpgg310 svc_iispool,SVEXPGG310"}},
		{"would take a DC's alias", "cifs/dc1.corp.example.test", "svc_legacyweb", []string{"high cifs/dc1.corp.example.test svc_legacyweb,DC1"}},
		{"would be malformed", "HTTP/web\u200b", "svc_legacyweb", []string{"high HTTP/web\u200b svc_legacyweb"}},
		{"new account, existing SPN", "HTTP/svnlb301", "svc_new", []string{"high HTTP/svnlb301 svc_iispool,svc_new"}},
		{"safe: port-qualified", "HTTP/svexpgg310:8080", "svc_iispool", nil},
		{"safe: already on this account", "HTTP/svnlb301", "svc_iispool", nil},
		{"safe: VIP DNS form", "HTTP/svnlb301.corp.example.test", "svc_iispool", nil},
		{"safe: the computer's own class", "HTTP/svexpgg310", "SVEXPGG310$", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summaries(CheckSPN(snap, Config{}, tt.spn, tt.account))
			if !slices.Equal(got, tt.want) {
				t.Errorf("CheckSPN(%q, %q) = %q, want %q", tt.spn, tt.account, got, tt.want)
			}
		})
	}
	if len(snap.Objects[2].SPNs) != 1 {
		t.Errorf("CheckSPN modified the snapshot: %q", snap.Objects[2].SPNs)
	}
}
