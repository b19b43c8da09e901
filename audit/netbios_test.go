package audit

import (
	"slices"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

// contosoDomain's NetBIOS name, CONTOSO, is not its first DNS label (CORP),
// so the guess from the DNS name would be wrong.
const contosoDomain = "corp.contoso.com"

// contosoForest is a forest rooted at contosoDomain whose directory says its
// NetBIOS name; testDomain is also listed but has no nETBIOSName.
func contosoForest(objs ...inventory.Object) *inventory.Snapshot {
	snap := snapshot(objs...)
	snap.Directory.ForestDNS = contosoDomain
	snap.Directory.Domains = []string{contosoDomain, testDomain}
	snap.Directory.NetBIOSDomains = map[string]string{contosoDomain: "CONTOSO"}
	return snap
}

func TestAccountName(t *testing.T) {
	ix := newIndex(contosoForest(), Config{})
	for _, tt := range []struct {
		o    inventory.Object
		want string
	}{
		{inventory.Object{Domain: contosoDomain, SAMAccountName: "svc_a"}, `CONTOSO\svc_a`},
		{inventory.Object{DN: "CN=x,OU=y,DC=Corp,DC=Contoso,DC=com", SAMAccountName: "X$"}, `CONTOSO\X$`},
		// Not in NetBIOSDomains: the first label is the best guess.
		{inventory.Object{Domain: "corp.example.test", SAMAccountName: "svc_a"}, `CORP\svc_a`},
		{inventory.Object{DN: "CN=x,OU=y,DC=Child,DC=corp,DC=test", SAMAccountName: "X$"}, `CHILD\X$`},
		{inventory.Object{SAMAccountName: "svc_a"}, "svc_a"},
		{inventory.Object{DN: "CN=nosam"}, "CN=nosam"},
	} {
		if got := ix.accountName(&tt.o); got != tt.want {
			t.Errorf("accountName(%+v) = %q, want %q", tt.o, got, tt.want)
		}
	}
}

// TestNetBIOSNameFromDirectory: findings, plans, farm accounts, suppressions
// and domain-name SPNs use the NetBIOS name the directory gives, never the
// guess from the DNS name.
func TestNetBIOSNameFromDirectory(t *testing.T) {
	in := inDomain(contosoDomain)
	snap := contosoForest(
		user("svc_a", []string{"HTTP/web." + contosoDomain, "MSSQLSvc/CONTOSO"}, in),
		user("svc_b", []string{"HTTP/web." + contosoDomain}, in, withEnc(ptr(inventory.EncRC4HMAC))),
		user("svc_iispool", nil, in),
	)
	snap.Directory.DNSNames = []string{"web." + contosoDomain}

	res := Run(snap, Config{})
	rules := map[string]bool{}
	for _, f := range res.Findings {
		rules[f.Rule] = true
		text := f.Message + "\n" + strings.Join(f.Remediation, "\n")
		if strings.Contains(text, `CORP\`) || !strings.Contains(text, `CONTOSO\svc_`) {
			t.Errorf("%s names accounts by the guessed domain:\n%s", f.Rule, text)
		}
	}
	if !rules[RuleDuplicateSPN] || !rules[RuleWeakEncryption] {
		t.Errorf("the scenario's findings are missing: %v", rules)
	}
	if rules[RuleGhostSPN] {
		t.Errorf("MSSQLSvc/CONTOSO names the domain, not a host: %v", summaries(res.Findings))
	}

	farm := func(account string) Farm {
		return Farm{Name: "web", VIP: "web", DNSSuffix: contosoDomain, Classes: []string{"HTTP"}, Account: account}
	}
	plan := Plan(snap, []Farm{farm(`CONTOSO\svc_iispool`)})
	wantPlan := []string{
		`setspn -D HTTP/web.corp.contoso.com CONTOSO\svc_a`,
		`setspn -D HTTP/web.corp.contoso.com CONTOSO\svc_b`,
		`setspn -S HTTP/web CONTOSO\svc_iispool`,
		`setspn -S HTTP/web.corp.contoso.com CONTOSO\svc_iispool`,
	}
	if !slices.Equal(plan[2:], wantPlan) {
		t.Errorf("Plan for CONTOSO\\svc_iispool:\n%s\nwant:\n%s", strings.Join(plan[2:], "\n"), strings.Join(wantPlan, "\n"))
	}
	for _, account := range []string{`corp.contoso.com\svc_iispool`, "svc_iispool"} {
		if plan := Plan(snap, []Farm{farm(account)}); !slices.Equal(plan[2:], wantPlan) {
			t.Errorf("Plan for %s:\n%s", account, strings.Join(plan[2:], "\n"))
		}
	}
	if plan := Plan(snap, []Farm{farm(`CORP\svc_iispool`)}); !strings.HasPrefix(plan[2], "# Farm web skipped: account") {
		t.Errorf("CORP is not this domain's NetBIOS name, yet the farm's account resolved:\n%s", strings.Join(plan, "\n"))
	}

	for pattern, wantSuppressed := range map[string]bool{`CONTOSO\svc_b`: true, `CORP\svc_b`: false} {
		res := Run(snap, Config{Ignore: []Suppression{{Rule: RuleWeakEncryption, Account: pattern, Reason: "test", Owner: "test"}}})
		if got := len(res.Suppressed) == 1; got != wantSuppressed {
			t.Errorf("suppression for %s: suppressed %d findings", pattern, len(res.Suppressed))
		}
	}
}
