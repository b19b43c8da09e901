package audit

import (
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

func TestIISPoolIdentity(t *testing.T) {
	dir := snapshot(computer("svexpgg310", nil), computer("svexpgg311", nil), computer("svexpgg312", nil),
		farmPool(), user("svc_other", nil))
	runRuleCases(t, iisPoolIdentity{}, []ruleCase{
		{name: "no IIS data: nothing", snap: dir},
		{name: "every node as the farm account: nothing", snap: dir,
			cfg: iisCfg(iisSite("svexpgg310"), iisSite("svexpgg311"), iisSite("svexpgg312"))},
		{name: "DOMAIN\\name and UPN forms of one account: nothing", snap: dir,
			cfg: iisCfg(iisSite("svexpgg310"), iisSite("svexpgg311", poolAs(inventory.IISIdentitySpecificUser, "svc_iispool@corp.example.test")))},
		{name: "one node as another account", snap: dir,
			cfg:  iisCfg(iisSite("svexpgg310"), iisSite("svexpgg311"), iisSite("svexpgg312", poolAs(inventory.IISIdentitySpecificUser, `CORP\svc_other`))),
			want: []string{"high HTTP/svnlb301.corp.example.test svc_iispool,svc_other"}},
		{name: "one node as ApplicationPoolIdentity", snap: dir,
			cfg:  iisCfg(iisSite("svexpgg310"), iisSite("svexpgg311", poolAs(inventory.IISIdentityAppPool, ""))),
			want: []string{"high HTTP/svnlb301.corp.example.test svc_iispool,SVEXPGG311"}},
		{name: "every node as its machine: no account can hold the VIP's SPN", snap: dir,
			cfg: iisCfg(iisSite("svexpgg310", poolAs(inventory.IISIdentityNetworkService, "")),
				iisSite("svexpgg311", poolAs(inventory.IISIdentityAppPool, ""))),
			want: []string{"high HTTP/svnlb301.corp.example.test SVEXPGG310,SVEXPGG311"}},
		{name: "same site name without a shared host header is no farm", snap: dir,
			cfg: iisCfg(iisSite("svexpgg310", hosts("a.corp.example.test")),
				iisSite("svexpgg311", hosts("b.corp.example.test"), poolAs(inventory.IISIdentitySpecificUser, `CORP\svc_other`)))},
		{name: "different sites on different nodes are no farm", snap: dir,
			cfg: iisCfg(iisSite("svexpgg310"), iisSite("svexpgg311", named("portal"), poolAs(inventory.IISIdentitySpecificUser, `CORP\svc_other`)))},
	})
	fs := checkRule(iisPoolIdentity{}, dir, iisCfg(iisSite("svexpgg310"), iisSite("svexpgg311"),
		iisSite("svexpgg312", poolAs(inventory.IISIdentitySpecificUser, `CORP\svc_other`))))
	if len(fs) != 1 {
		t.Fatalf("findings: %v", summaries(fs))
	}
	f := fs[0]
	for _, want := range []string{`as CORP\svc_iispool on svexpgg310 (svexpgg310/applicationHost.config:30), svexpgg311`, `as CORP\svc_other on svexpgg312`} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("message %q lacks %q", f.Message, want)
		}
	}
	fix := strings.Join(f.Remediation, "\n")
	if !strings.Contains(fix, `# On svexpgg312`) || !strings.Contains(fix, `appcmd.exe set apppool intranet /processModel.identityType:SpecificUser /processModel.userName:CORP\svc_iispool`) ||
		strings.Contains(fix, "# On svexpgg310") {
		t.Errorf("remediation:\n%s", fix)
	}
}
