package audit

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/internal/golden"
	"github.com/spnaudit/spnaudit/inventory"
)

// iisFarmScenario is the lab's default scenario: a load-balanced IIS farm
// svexpgg310..312 behind the VIP svnlb301 whose app pool runs as svc_iispool,
// which holds HTTP SPNs for the VIP and for every node (the node ones take
// HTTP from the nodes' HOST alias), one duplicate of the VIP's DNS form on
// svc_legacyweb, and a healthy domain controller and krbtgt accounts that
// must produce nothing.
func iisFarmScenario() *inventory.Snapshot {
	objs := []inventory.Object{domainController("dc1", testDomain), krbtgt(testDomain), krbtgt("child." + testDomain)}
	dns := []string{"dc1." + testDomain, "svnlb301." + testDomain}
	var poolSPNs []string
	for _, n := range []string{"svexpgg310", "svexpgg311", "svexpgg312"} {
		objs = append(objs, computer(n, []string{"WSMAN/" + n, "WSMAN/" + n + "." + testDomain}))
		dns = append(dns, n+"."+testDomain)
		poolSPNs = append(poolSPNs, "HTTP/"+n, "HTTP/"+n+"."+testDomain)
	}
	poolSPNs = append(poolSPNs, "HTTP/svnlb301", "HTTP/svnlb301."+testDomain)
	objs = append(objs,
		user("svc_iispool", poolSPNs, withEnc(nil), withPwdLastSet(testNow.AddDate(0, 0, -400))),
		user("svc_legacyweb", []string{"HTTP/svnlb301." + testDomain}),
	)
	snap := snapshot(objs...)
	snap.Directory.SPNMappings = defaultSPNMappings
	snap.Directory.DNSNames = dns
	return snap
}

func iisFarmConfig() Farm {
	return Farm{
		Name: "iis", VIP: "svnlb301", Nodes: []string{"svexpgg310", "svexpgg311", "svexpgg312"},
		DNSSuffix: testDomain, Classes: []string{"HTTP"}, Account: `CORP\svc_iispool`,
	}
}

func TestGoldenIISFarm(t *testing.T) {
	res := Run(iisFarmScenario(), Config{})
	got, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Compare(t, "testdata/iis_farm.golden.json", append(got, '\n'))

	// What the scenario is about, asserted independently of the golden file.
	var alias []string
	for _, f := range res.Findings {
		for _, dn := range f.Accounts {
			if strings.Contains(dn, "DC1") || strings.Contains(dn, "krbtgt") {
				t.Errorf("the DC or krbtgt has a finding: %s", summary(f))
			}
		}
		if f.Rule == RuleHostAliasConflict {
			alias = append(alias, f.SPN)
		}
		if f.Rule == RuleGhostSPN || strings.Contains(f.SPN, "svnlb301") && f.Rule == RuleHostAliasConflict {
			t.Errorf("the VIP is not a machine: %s %s", f.Rule, summary(f))
		}
	}
	if len(alias) != 6 {
		t.Errorf("host-alias-conflict on %q, want both forms of the three nodes", alias)
	}
}

func TestGoldenIISFarmPlan(t *testing.T) {
	plan := Plan(iisFarmScenario(), []Farm{iisFarmConfig()})
	golden.Compare(t, "testdata/iis_farm_plan.golden.txt", []byte(strings.Join(plan, "\n")+"\n"))
}
