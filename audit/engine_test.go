package audit

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

func TestRuleIDsAreTheContract(t *testing.T) {
	want := []string{
		"duplicate-spn", "host-alias-conflict", "missing-spn-pair", "ghost-spn", "malformed-spn",
		"uniqueness-check-disabled", "kerberoastable-account", "weak-encryption",
		"unconstrained-delegation", "disabled-account-spn", "farm-drift",
		"constrained-delegation", "delegation-target", "resource-based-delegation",
		"missing-aes-keys",
		"iis-pool-identity-mismatch", "iis-app-pool-credentials", "iis-extended-protection-spn",
		"iis-extended-protection-config", "iis-host-header-spn", "iis-winrm-extension",
	}
	if !slices.Equal(RuleIDs, want) {
		t.Errorf("RuleIDs = %q, want %q", RuleIDs, want)
	}
	for _, id := range RuleIDs {
		sevs := RuleSeverities[id]
		if len(sevs) == 0 || !slices.IsSortedFunc(sevs, func(a, b Severity) int { return b.Rank() - a.Rank() }) {
			t.Errorf("%s: severities %q missing or not most severe first", id, sevs)
		}
	}
}

func TestRunSortsAndSuppresses(t *testing.T) {
	snap := snapshot(
		computer("svexpgg310", nil),
		user("svc_iispool", []string{"HTTP/svexpgg310", "HTTP/gone"}),
		user("svc_b", []string{"HTTP/dup"}),
		user("svc_c", []string{"HTTP/dup"}),
	)
	cfg := Config{Ignore: []Suppression{
		{Rule: RuleGhostSPN, SPN: "http/GONE", Reason: "retired next week", Owner: "web-team"},
		{Rule: RuleKerberoastableAccount, Account: "svc_[bc]", Reason: "moving to gMSA", Owner: "iam"},
		{Rule: RuleHostAliasConflict, SPN: "*", Account: "*", Owner: "x"}, // no reason: never applied
	}}
	res := Run(snap, cfg)
	for i := 1; i < len(res.Findings); i++ {
		if compareFindings(res.Findings[i-1], res.Findings[i]) > 0 {
			t.Fatalf("findings not sorted at %d: %v / %v", i, summary(res.Findings[i-1]), summary(res.Findings[i]))
		}
	}
	if res.Findings[0].Severity != SeverityHigh || res.Findings[0].Rule != RuleDuplicateSPN {
		t.Errorf("first finding %s %s, want the high duplicate", res.Findings[0].Severity, res.Findings[0].Rule)
	}
	var suppressed []string
	for _, s := range res.Suppressed {
		suppressed = append(suppressed, s.Rule+" "+summary(s.Finding)+" ("+s.SuppressedBy.Reason+")")
	}
	want := []string{
		"ghost-spn medium HTTP/gone svc_iispool (retired next week)",
		"kerberoastable-account medium svc_b (moving to gMSA)",
		"kerberoastable-account medium svc_c (moving to gMSA)",
	}
	if !slices.Equal(suppressed, want) {
		t.Errorf("suppressed:\n  %s\nwant\n  %s", strings.Join(suppressed, "\n  "), strings.Join(want, "\n  "))
	}
	if res.SuppressedCount() != 3 {
		t.Errorf("SuppressedCount = %d, want 3", res.SuppressedCount())
	}
	if !slices.ContainsFunc(res.Findings, func(f Finding) bool { return f.Rule == RuleHostAliasConflict }) {
		t.Error("a suppression without a reason hid a finding")
	}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "ignore[2]: reason") {
		t.Errorf("Validate() = %v, want the reasonless entry named", err)
	}
}

func TestRunJSONHasNoNulls(t *testing.T) {
	s := snapshot()
	s.Directory.DSHeuristics = "000000000100000000022"
	s.Directory.ForestDNS = ""
	res := Run(s, Config{})
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "null") {
		t.Errorf("JSON has null: %s", b)
	}
}

func TestRunIsDeterministic(t *testing.T) {
	snap := iisFarmScenario()
	first, _ := json.Marshal(Run(snap, Config{}))
	for range 5 {
		again, _ := json.Marshal(Run(snap, Config{}))
		if string(again) != string(first) {
			t.Fatal("two runs over the same snapshot differ")
		}
	}
}

func TestConfigValidate(t *testing.T) {
	other := iisFarm()
	other.Name, other.Account, other.Nodes = "other", "svc_other", nil
	for _, tt := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"empty", Config{}, ""},
		{"farm and suppression", Config{Farms: []Farm{iisFarm()}, Ignore: []Suppression{{Rule: RuleGhostSPN, SPN: "*", Reason: "lab", Owner: "lab"}}}, ""},
		{"invalid farm", Config{Farms: []Farm{iisFarm(), {Name: "x"}}}, "farms[1]: farm x: account: missing"},
		{"two farms claim one SPN for different accounts", Config{Farms: []Farm{iisFarm(), other}}, "farms[1]: farm other: HTTP/svnlb301 is also declared by farm iis"},
		{"two farms share an account", Config{Farms: []Farm{iisFarm(), func() Farm { f := iisFarm(); f.Name = "again"; return f }()}}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestRunEmptySnapshot(t *testing.T) {
	res := Run(&inventory.Snapshot{}, Config{})
	if res.Findings == nil || res.Suppressed == nil || len(res.Findings) != 0 {
		t.Errorf("empty snapshot: %+v, want empty non-nil lists", res)
	}
}
