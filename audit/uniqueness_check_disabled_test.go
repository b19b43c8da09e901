package audit

import (
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

func TestUniquenessCheckDisabled(t *testing.T) {
	heuristics := func(h string) *inventory.Snapshot {
		s := snapshot()
		s.Directory.DSHeuristics = h
		return s
	}
	const dsDN = "Directory Service"
	runRuleCases(t, uniquenessCheckDisabled{}, []ruleCase{
		{name: "2 disables SPN uniqueness", snap: heuristics("000000000100000000022"), want: []string{"high " + dsDN}},
		{name: "3 disables SPN and UPN uniqueness", snap: heuristics("000000000100000000023"), want: []string{"high " + dsDN}},
		{name: "7 disables everything", snap: heuristics("0000000001000000000270"), want: []string{"high " + dsDN}},
		{name: "1 disables UPN uniqueness only", snap: heuristics("000000000100000000021"), want: []string{"medium " + dsDN}},
		{name: "4 disables SPN alias uniqueness", snap: heuristics("000000000100000000024"), want: []string{"medium " + dsDN}},
		{name: "must not fire: unset", snap: heuristics("")},
		{name: "must not fire: shorter than 21 characters", snap: heuristics("00000000010000000002")},
		{name: "must not fire: 0", snap: heuristics("000000000100000000020")},
		{name: "must not fire: 8 has no defined bit", snap: heuristics("000000000100000000028")},
		{name: "must not fire: not a digit", snap: heuristics("00000000010000000002x")},
		{name: "must not fire: other heuristics set", snap: heuristics("001000000100000000020111")},
	})
}

func TestUniquenessCheckDisabledFixKeepsOtherCharacters(t *testing.T) {
	s := snapshot()
	s.Directory.DSHeuristics = "0010000001000000000231"
	fs := checkRule(uniquenessCheckDisabled{}, s, Config{})
	if len(fs) != 1 {
		t.Fatalf("got %d findings, want 1", len(fs))
	}
	if want := "@{dSHeuristics='0010000001000000000201'}"; !strings.Contains(fs[0].Remediation[1], want) {
		t.Errorf("remediation %q does not set %s", fs[0].Remediation[1], want)
	}
	if want := "CN=Directory Service,CN=Windows NT,CN=Services,CN=Configuration,DC=corp,DC=example,DC=test"; fs[0].Accounts[0] != want {
		t.Errorf("accounts = %q, want %q", fs[0].Accounts, want)
	}
	if !strings.Contains(fs[0].Message, "SPN uniqueness") || !strings.Contains(fs[0].Message, "UPN uniqueness") {
		t.Errorf("message does not say what is off: %s", fs[0].Message)
	}
}
