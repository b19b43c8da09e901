package audit

import (
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

func TestIISWinRM(t *testing.T) {
	dir := snapshot(computer("svexpgg310", nil), computer("svexpgg312", nil), farmPool())
	runRuleCases(t, iisWinRM{}, []ruleCase{
		{name: "no IIS data: nothing", snap: dir},
		{name: "WinRM extension as the pool identity holding HTTP/node: nothing", snap: dir,
			cfg: iisCfg(iisSite("svexpgg310", winrmApp()))},
		{name: "WinRM extension as the pool identity without HTTP/node", snap: dir,
			cfg:  iisCfg(iisSite("svexpgg312", winrmApp())),
			want: []string{"high HTTP/svexpgg312 svc_iispool"}},
		{name: "kernel mode with the machine key decrypts HTTP/node tickets: nothing", snap: dir,
			cfg: iisCfg(iisSite("svexpgg312", appPoolCreds(false), winrmApp()))},
		{name: "WinRM extension as the machine: nothing", snap: dir,
			cfg: iisCfg(iisSite("svexpgg312", poolAs(inventory.IISIdentityAppPool, ""), winrmApp()))},
		{name: "no WinRM extension: nothing", snap: dir, cfg: iisCfg(iisSite("svexpgg312"))},
	})
	fs := checkRule(iisWinRM{}, dir, iisCfg(iisSite("svexpgg312", winrmApp())))
	fix := strings.Join(fs[0].Remediation, "\n")
	for _, want := range []string{`setspn -S HTTP/svexpgg312 CORP\svc_iispool`, `setspn -S HTTP/svexpgg312.corp.example.test:5985 CORP\SVEXPGG312$`} {
		if !strings.Contains(fix, want) {
			t.Errorf("remediation lacks %q:\n%s", want, fix)
		}
	}
	if !strings.Contains(fs[0].Message, "site intranet/wsman on svexpgg312 (svexpgg312/wsman/web.config:20)") {
		t.Errorf("message: %s", fs[0].Message)
	}
}

// TestHostAliasConflictNamesTheWinRMEndpoint: with the WinRM IIS extension
// on svexpgg310 running as svc_iispool, host-alias-conflict says the SPN is
// intended for it and that the WinRM service on 5985 still breaks; without
// IIS data the message is unchanged.
func TestHostAliasConflictNamesTheWinRMEndpoint(t *testing.T) {
	dir := snapshot(computer("svexpgg310", nil), computer("svexpgg311", nil), farmPool())
	find := func(cfg Config, spn string) Finding {
		for _, f := range checkRule(hostAliasConflict{}, dir, cfg) {
			if f.SPN == spn {
				return f
			}
		}
		t.Fatalf("no host-alias-conflict for %s", spn)
		return Finding{}
	}
	plain := find(Config{}, "HTTP/svexpgg310")
	cfg := iisCfg(iisSite("svexpgg310", winrmApp()), iisSite("svexpgg311"))
	with := find(cfg, "HTTP/svexpgg310")
	if strings.Contains(plain.Message, "WinRM IIS extension") {
		t.Errorf("without IIS data: %s", plain.Message)
	}
	for _, want := range []string{plain.Message, "The WinRM IIS extension in site intranet/wsman on svexpgg310 (svexpgg310/wsman/web.config:20) runs as CORP\\svc_iispool",
		"the WinRM service on port 5985, which runs as the machine"} {
		if !strings.Contains(with.Message, want) {
			t.Errorf("message %q lacks %q", with.Message, want)
		}
	}
	if other := find(cfg, "HTTP/svexpgg311"); other.Message != find(Config{}, "HTTP/svexpgg311").Message {
		t.Errorf("node without the extension changed: %s", other.Message)
	}
}
