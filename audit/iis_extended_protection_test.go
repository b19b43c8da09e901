package audit

import (
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

func TestIISExtendedProtection(t *testing.T) {
	dir := snapshot(computer("svexpgg310", nil), computer("svexpgg311", nil), farmPool())
	allow, require := inventory.IISTokenCheckingAllow, inventory.IISTokenCheckingRequire
	dotless, noCheck, proxy := inventory.IISFlagAllowDotlessSpn, inventory.IISFlagNoServiceNameCheck, inventory.IISFlagProxy
	runRuleCases(t, iisExtendedProtection{}, []ruleCase{
		{name: "no IIS data: nothing", snap: dir},
		{name: "Allow, no flags, NetBIOS and DNS SPNs: nothing", snap: dir,
			cfg: iisCfg(iisSite("svexpgg310", extProt(allow, nil, "HTTP/svnlb301", "HTTP/svnlb301.corp.example.test")))},
		{name: "AllowDotlessSpn with DNS names only: nothing", snap: dir,
			cfg: iisCfg(iisSite("svexpgg310", extProt(allow, []string{dotless}, "HTTP/svnlb301.corp.example.test")))},
		{name: "AllowDotlessSpn with a NetBIOS SPN", snap: dir,
			cfg:  iisCfg(iisSite("svexpgg310", extProt(allow, []string{dotless}, "HTTP/svnlb301.corp.example.test", "HTTP/svnlb301"))),
			want: []string{"medium HTTP/svnlb301 svc_iispool"}},
		{name: "NoServiceNameCheck", snap: dir,
			cfg:  iisCfg(iisSite("svexpgg310", extProt(allow, []string{noCheck}))),
			want: []string{"medium svc_iispool"}},
		{name: "tokenChecking None disables it all: nothing", snap: dir,
			cfg: iisCfg(iisSite("svexpgg310", extProt(inventory.IISTokenCheckingNone, []string{noCheck, dotless}, "HTTP/svnlb301")))},
		{name: "Require behind the SSL-offloading balancer without Proxy", snap: dir,
			cfg:  iisCfg(iisSite("svexpgg310", extProt(require, nil)), iisSite("svexpgg311")),
			want: []string{"high svc_iispool"}},
		{name: "Require with Proxy: nothing", snap: dir,
			cfg: iisCfg(iisSite("svexpgg310", extProt(require, []string{proxy})))},
		{name: "Require with an https binding on the node: nothing", snap: dir,
			cfg: iisCfg(iisSite("svexpgg310", extProt(require, nil), withHTTPS()))},
	})
	fs := checkRule(iisExtendedProtection{}, dir, iisCfg(iisSite("svexpgg310", extProt(require, []string{dotless}, "HTTP/svnlb301")), iisSite("svexpgg311")))
	got := summaries(fs)
	if len(fs) != 2 || !strings.Contains(fs[0].Message, "behind the SSL-offloading balancer of svnlb301.corp.example.test") ||
		!strings.Contains(strings.Join(fs[0].Remediation, "\n"), "/extendedProtection.flags:AllowDotlessSpn,Proxy /commit:apphost") ||
		!strings.Contains(strings.Join(fs[1].Remediation, "\n"), "/extendedProtection.flags:None /commit:apphost") {
		t.Errorf("findings %v:\n%+v", got, fs)
	}
}
