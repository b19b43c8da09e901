package audit

import (
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

func TestIISAppPoolCredentials(t *testing.T) {
	dir := snapshot(computer("svexpgg310", nil), computer("svexpgg311", nil), farmPool())
	onMachine := snapshot(computer("svexpgg310", []string{"HTTP/svnlb301", "HTTP/svnlb301.corp.example.test"}), user("svc_iispool", nil))
	runRuleCases(t, iisAppPoolCredentials{}, []ruleCase{
		{name: "no IIS data: nothing", snap: dir},
		{name: "SPNs on the pool account, useAppPoolCredentials true: nothing", snap: dir, cfg: iisCfg(iisSite("svexpgg310"))},
		{name: "SPNs on the pool account, useAppPoolCredentials false", snap: dir,
			cfg:  iisCfg(iisSite("svexpgg310"), iisSite("svexpgg311", appPoolCreds(false))),
			want: []string{"high HTTP/svnlb301 svc_iispool"}},
		{name: "user-mode authentication decrypts with the pool's key: nothing", snap: dir,
			cfg: iisCfg(iisSite("svexpgg311", appPoolCreds(false), kernelMode(false)))},
		{name: "Windows authentication off: nothing", snap: dir,
			cfg: iisCfg(iisSite("svexpgg311", appPoolCreds(false), windowsAuth(false)))},
		{name: "NTLM only: no Kerberos, nothing", snap: dir,
			cfg: iisCfg(iisSite("svexpgg311", appPoolCreds(false), providers("NTLM")))},
		{name: "machine identity with useAppPoolCredentials false: nothing", snap: onMachine,
			cfg: iisCfg(iisSite("svexpgg310", poolAs(inventory.IISIdentityAppPool, ""), appPoolCreds(false)))},
		{name: "reverse: useAppPoolCredentials true while the SPNs sit on the machine", snap: onMachine,
			cfg:  iisCfg(iisSite("svexpgg310")),
			want: []string{"high HTTP/svnlb301 svc_iispool,SVEXPGG310"}},
		{name: "no SPN for the host header anywhere: left to iis-host-header-spn", snap: snapshot(computer("svexpgg310", nil), user("svc_iispool", nil)),
			cfg: iisCfg(iisSite("svexpgg310", appPoolCreds(false)))},
	})
	fs := checkRule(iisAppPoolCredentials{}, dir, iisCfg(iisSite("svexpgg311", appPoolCreds(false))))
	if len(fs) != 1 || !strings.Contains(fs[0].Message, "site intranet on svexpgg311 (svexpgg311/applicationHost.config:80)") ||
		!strings.Contains(strings.Join(fs[0].Remediation, "\n"),
			`appcmd.exe set config intranet /section:system.webServer/security/authentication/windowsAuthentication /useKernelMode:true /useAppPoolCredentials:true /commit:apphost`) {
		t.Errorf("finding does not name file, site and node with the appcmd fix: %+v", fs)
	}
	fs = checkRule(iisAppPoolCredentials{}, onMachine, iisCfg(iisSite("svexpgg310")))
	fix := strings.Join(fs[0].Remediation, "\n")
	if !strings.Contains(fix, `setspn -D HTTP/svnlb301 CORP\SVEXPGG310$`) || !strings.Contains(fix, `setspn -S HTTP/svnlb301 CORP\svc_iispool`) {
		t.Errorf("reverse remediation:\n%s", fix)
	}
}
