package audit

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"testing"
)

// TestSortByKeyMatchesCompareFindings: the keyed sort puts findings in
// exactly the order sorting by compareFindings gives, for random findings
// with every severity (and an unknown one), many rules and tied fields.
func TestSortByKeyMatchesCompareFindings(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 2))
	severities := append(slices.Clone(Severities), "bogus")
	for _, n := range []int{0, 1, 2, 3, 10, 100, 5000} {
		fs := make([]Finding, n)
		for i := range fs {
			fs[i] = Finding{
				Rule:     RuleIDs[r.IntN(len(RuleIDs))],
				Severity: severities[r.IntN(len(severities))],
				SPN:      []string{"", "HTTP/a", "HTTP/b", "host/a"}[r.IntN(4)],
				Accounts: [][]string{nil, {"CN=a"}, {"CN=a", "CN=b"}, {"CN=b"}}[r.IntN(4)],
				// Unique: findings equal under compareFindings would make
				// any order of them correct.
				Message: strconv.Itoa(r.IntN(3)) + "#" + strconv.Itoa(i),
			}
		}
		want := slices.Clone(fs)
		slices.SortFunc(want, compareFindings)
		sortByKey(fs)
		if !reflect.DeepEqual(fs, want) {
			t.Fatalf("n=%d: sortByKey differs from compareFindings' order", n)
		}
	}
}

// TestPermute: every permutation of a few elements is applied exactly.
func TestPermute(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for n := range 40 {
		perm := r.Perm(n)
		fs := make([]Finding, n)
		for i := range fs {
			fs[i].Message = strconv.Itoa(i)
		}
		idx := make([]int32, n)
		for i, p := range perm {
			idx[i] = int32(p)
		}
		permute(fs, idx)
		for k, p := range perm {
			if fs[k].Message != strconv.Itoa(p) {
				t.Fatalf("n=%d: fs[%d] = %s, want %d", n, k, fs[k].Message, p)
			}
		}
	}
}

// BenchmarkSortFindings sorts a flood's findings as the rules return them:
// two rules, 250,000 each, each in directory order.
func BenchmarkSortFindings(b *testing.B) {
	base := make([]Finding, 500000)
	for i := range base {
		rule, sev := RuleKerberoastableAccount, SeverityHigh
		if i >= len(base)/2 {
			rule, sev = RuleUnconstrainedDelegation, SeverityCritical
		}
		base[i] = Finding{Rule: rule, Severity: sev, Accounts: []string{"CN=svc-" + strconv.Itoa(1000000+i%250000) + ",OU=Flood,DC=corp,DC=example,DC=test"}}
	}
	fs := make([]Finding, len(base))
	for b.Loop() {
		copy(fs, base)
		sortFindings(fs)
	}
}
