package main

import (
	"strings"
	"testing"
)

func TestPlan(t *testing.T) {
	clearEnv(t)
	header := "# spnaudit plan: converge SPNs to the farms in the configuration.\n" +
		"# Safe to re-run: setspn -D of an absent SPN and setspn -S of an SPN already on the account change nothing.\n"
	for _, tc := range []struct {
		name   string
		farms  string
		script string
	}{
		{
			"the machine's copy of a farm SPN goes",
			"",
			`setspn -D HTTP/svexpgg311.corp.example.test CORP\SVEXPGG311$` + "\n",
		},
		{
			"a second class and a fourth node are added, removals first",
			`  - name: intranet
    vip: svnlb301
    nodes: [svexpgg310, svexpgg311, svexpgg312, svexpgg313]
    dns_suffix: corp.example.test
    classes: [HTTP]
    account: svc_iispool
  - name: reports
    vip: intranet
    dns_suffix: corp.example.test
    classes: [HTTP]
    account: svc_intranet
`,
			`setspn -D HTTP/svexpgg311.corp.example.test CORP\SVEXPGG311$` + "\n" +
				`setspn -S HTTP/intranet.corp.example.test CORP\svc_intranet` + "\n" +
				`setspn -S HTTP/svexpgg313 CORP\svc_iispool` + "\n" +
				`setspn -S HTTP/svexpgg313.corp.example.test CORP\svc_iispool` + "\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config := farmConfig(t, "")
			if tc.farms != "" {
				config = labConfig(t, "farms:\n"+tc.farms)
			}
			r := spnaudit(t, false, "plan", "--ldif", farmLDIF, "--config", config)
			if r.status != 0 || r.stderr != "" || r.stdout != header+tc.script {
				t.Errorf("status %d, stderr %q, script:\n%s\nwant:\n%s", r.status, r.stderr, r.stdout, header+tc.script)
			}
		})
	}
	// Applied, the plan leaves nothing to do: the export without the copy.
	const machineCopy = "servicePrincipalName: HTTP/svexpgg311.corp.example.test\nmsDS-SupportedEncryptionTypes"
	export := readFile(t, farmLDIF)
	if strings.Count(export, machineCopy) != 1 {
		t.Fatalf("%s: the machine's copy of the farm SPN is not where the test expects it", farmLDIF)
	}
	converged := strings.Replace(export, machineCopy, "msDS-SupportedEncryptionTypes", 1)
	r := spnauditStdin(t, converged, "plan", "--ldif", "-", "--config", farmConfig(t, ""))
	if want := header + "# Nothing to do: every farm's SPNs are in place.\n"; r.status != 0 || r.stdout != want {
		t.Errorf("converged: status %d, stderr %q, script:\n%s", r.status, r.stderr, r.stdout)
	}
}
