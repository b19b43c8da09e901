package audit

import (
	"slices"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
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
		// CVE-2026-25177: a look-alike Windows would treat as HTTP/svnlb301.
		{"would be a look-alike", "HTTP/svnlb301", "svc_legacyweb", []string{"high HTTP/svnlb301 svc_iispool,svc_legacyweb"}},
		{"look-alike of an existing SPN", "HTTP/svnlb30１", "svc_legacyweb", []string{"critical HTTP/svnlb30１ svc_iispool,svc_legacyweb", "critical HTTP/svnlb30１ svc_legacyweb,svc_iispool"}},
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

// TestCheckSPNAlreadyHeld: checking an SPN the account already holds reports
// what the audit reports for it today, once, not once per copy.
func TestCheckSPNAlreadyHeld(t *testing.T) {
	snap := snapshot(
		computer("svexpgg310", nil),
		user("svc_iispool", []string{"HTTP/svexpgg310", "HTTP/svnlb301"}),
		user("svc_legacyweb", []string{"HTTP/svnlb301"}),
	)
	tests := []struct {
		name, spn, account string
		want               []string
	}{
		{"host alias conflict", "HTTP/svexpgg310", "svc_iispool", []string{"medium HTTP/svexpgg310 svc_iispool,SVEXPGG310"}},
		{"host alias conflict, other case", "http/SVEXPGG310", `CORP\svc_iispool`, []string{"medium HTTP/svexpgg310 svc_iispool,SVEXPGG310"}},
		{"duplicate", "HTTP/svnlb301", "svc_legacyweb", []string{"high HTTP/svnlb301 svc_iispool,svc_legacyweb"}},
		{"safe: port-qualified is another SPN", "HTTP/svnlb301:8080", "svc_iispool", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summaries(CheckSPN(snap, Config{}, tt.spn, tt.account))
			if !slices.Equal(got, tt.want) {
				t.Errorf("CheckSPN(%q, %q) = %q, want %q", tt.spn, tt.account, got, tt.want)
			}
		})
	}
	if len(snap.Objects[1].SPNs) != 2 {
		t.Errorf("CheckSPN modified the snapshot: %q", snap.Objects[1].SPNs)
	}
}

// TestCheckSPNAliasBothDirections: AD's alias uniqueness (MS-ADTS
// 3.1.1.5.1.3) holds whichever side is added: HOST/h while another account
// holds CIFS/h, and CIFS/h while another holds HOST/h. The finding names the
// other holder.
func TestCheckSPNAliasBothDirections(t *testing.T) {
	snap := snapshot(
		computer("web01", nil, func(o *inventory.Object) { o.SPNs = nil }),
		user("svc_app", []string{"HTTP/web01", "CIFS/files.corp.example.test:445"}),
		user("svc_host", []string{"HOST/app.corp.example.test/svc"}),
		user("svc_other", nil),
	)
	tests := []struct {
		name, spn, account string
		want               []string
	}{
		{"HOST side added to the machine", "HOST/web01", "WEB01$", []string{"medium HTTP/web01 svc_app,WEB01"}},
		{"HOST side added, other case", "host/WEB01", `CORP\WEB01$`, []string{"medium HTTP/web01 svc_app,WEB01"}},
		{"HOST side added to a user", "HOST/files.corp.example.test:445", "svc_other", []string{"medium CIFS/files.corp.example.test:445 svc_app,svc_other"}},
		{"alias side added", "cifs/APP.corp.example.test/SVC", "svc_other", []string{"medium cifs/APP.corp.example.test/SVC svc_other,svc_host"}},
		{"HOST side on a new account", "HOST/web01", "svc_new", []string{"medium HTTP/web01 svc_app,svc_new"}},
		{"safe: other port", "HOST/files.corp.example.test", "svc_other", nil},
		{"safe: other service name", "CIFS/app.corp.example.test", "svc_other", nil},
		{"safe: alias beside an alias", "CIFS/web01", "svc_other", nil},
		{"safe: HOST beside its own alias", "HOST/files.corp.example.test:445", "svc_app", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := CheckSPN(snap, Config{}, tt.spn, tt.account)
			got := summaries(fs)
			if !slices.Equal(got, tt.want) {
				t.Errorf("CheckSPN(%q, %q) = %q, want %q", tt.spn, tt.account, got, tt.want)
			}
		})
	}
}
