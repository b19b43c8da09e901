package audit

import (
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

func TestIISHostHeaderSPN(t *testing.T) {
	dir := snapshot(computer("svexpgg310", nil), computer("svexpgg311", nil), computer("svexpgg312", nil), farmPool(),
		user("svc_intranet", []string{"HTTP/intranet"}))
	portal := func(node string, opts ...siteOption) inventory.IISSite {
		return iisSite(node, append([]siteOption{named("portal"), hosts("intranet.corp.example.test"),
			poolAs(inventory.IISIdentitySpecificUser, `CORP\svc_intranet`)}, opts...)...)
	}
	runRuleCases(t, iisHostHeaderSPN{}, []ruleCase{
		{name: "no IIS data: nothing", snap: dir},
		{name: "both forms on the pool identity: nothing", snap: dir, cfg: iisCfg(iisSite("svexpgg310"))},
		{name: "a NetBIOS host header takes the identity's domain for its DNS form: nothing", snap: dir,
			cfg: iisCfg(iisSite("svexpgg310", hosts("svnlb301")))},
		{name: "only the NetBIOS form registered", snap: dir, cfg: iisCfg(portal("svexpgg311")),
			want: []string{"medium HTTP/intranet.corp.example.test svc_intranet"}},
		{name: "machine identity: HOST does not cover a host header, and HTTP/intranet is on another account", snap: dir,
			cfg:  iisCfg(portal("svexpgg310", poolAs(inventory.IISIdentityAppPool, ""))),
			want: []string{"medium HTTP/intranet SVEXPGG310,svc_intranet"}},
		{name: "machine identity: its HOST SPNs do not cover another name", snap: snapshot(computer("svexpgg312", nil)),
			cfg:  iisCfg(iisSite("svexpgg312", hosts("portal.corp.example.test"), poolAs(inventory.IISIdentityAppPool, ""))),
			want: []string{"medium HTTP/portal SVEXPGG312"}},
		{name: "machine identity answering its own name: HOST covers it, nothing", snap: dir,
			cfg: iisCfg(iisSite("svexpgg312", hosts("svexpgg312.corp.example.test"), poolAs(inventory.IISIdentityNetworkService, "")))},
		{name: "no host header: nothing", snap: dir, cfg: iisCfg(iisSite("svexpgg310", hosts("")))},
		{name: "Windows authentication off: nothing", snap: dir, cfg: iisCfg(portal("svexpgg311", windowsAuth(false)))},
		{name: "identity not in the inventory: nothing to compare", snap: dir,
			cfg: iisCfg(portal("svexpgg311", poolAs(inventory.IISIdentitySpecificUser, `CORP\svc_gone`)))},
	})
	fs := checkRule(iisHostHeaderSPN{}, dir, iisCfg(portal("svexpgg311")))
	if !strings.Contains(fs[0].Message, "site portal on svexpgg311 (svexpgg311/applicationHost.config:45)") ||
		!strings.Contains(strings.Join(fs[0].Remediation, "\n"), `setspn -S HTTP/intranet.corp.example.test CORP\svc_intranet`) {
		t.Errorf("finding: %+v", fs[0])
	}
}
