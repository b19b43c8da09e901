package audit

import (
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

func TestIISExtendedProtectionSPN(t *testing.T) {
	dir := snapshot(computer("svexpgg310", nil), computer("svexpgg312", nil), farmPool(), user("svc_intranet", []string{"HTTP/intranet"}))
	allow := inventory.IISTokenCheckingAllow
	runRuleCases(t, iisExtendedProtectionSPN{}, []ruleCase{
		{name: "no IIS data: nothing", snap: dir},
		{name: "listed SPNs on the pool identity: nothing", snap: dir,
			cfg: iisCfg(iisSite("svexpgg310", extProt(allow, nil, "HTTP/svnlb301", "http/SVNLB301.corp.example.test")))},
		{name: "tokenChecking None: the list is not used, nothing", snap: dir,
			cfg: iisCfg(iisSite("svexpgg310", extProt(inventory.IISTokenCheckingNone, nil, "HTTP/nowhere.corp.example.test")))},
		{name: "registered nowhere", snap: dir,
			cfg:  iisCfg(iisSite("svexpgg310", extProt(allow, nil, "HTTP/svnlb301", "HTTP/intranet.corp.example.test"))),
			want: []string{"medium HTTP/intranet.corp.example.test svc_iispool"}},
		{name: "on another account", snap: dir,
			cfg:  iisCfg(iisSite("svexpgg310", extProt(inventory.IISTokenCheckingRequire, nil, "HTTP/intranet"))),
			want: []string{"high HTTP/intranet svc_iispool,svc_intranet"}},
		{name: "machine identity: its HOST SPN covers HTTP/<node>, nothing", snap: dir,
			cfg: iisCfg(iisSite("svexpgg312", poolAs(inventory.IISIdentityAppPool, ""), extProt(allow, nil, "HTTP/svexpgg312.corp.example.test")))},
		{name: "machine identity while another account holds HTTP/<node>", snap: dir,
			cfg:  iisCfg(iisSite("svexpgg310", poolAs(inventory.IISIdentityAppPool, ""), extProt(allow, nil, "HTTP/svexpgg310.corp.example.test"))),
			want: []string{"high HTTP/svexpgg310.corp.example.test SVEXPGG310,svc_iispool"}},
	})
	fs := checkRule(iisExtendedProtectionSPN{}, dir, iisCfg(iisSite("svexpgg310", extProt(allow, nil, "HTTP/intranet.corp.example.test"))))
	if fix := strings.Join(fs[0].Remediation, "\n"); !strings.Contains(fix, `setspn -S HTTP/intranet.corp.example.test CORP\svc_iispool`) ||
		!strings.Contains(fix, `/-"extendedProtection.[name='HTTP/intranet.corp.example.test']"`) {
		t.Errorf("remediation:\n%s", fix)
	}
}
