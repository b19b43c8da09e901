package metrics

import (
	"cmp"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/audit"
)

// capSeriesTwoSorts is capSeries as it was before it counted rounds per
// account group instead of sorting every series twice: the reference the
// faster one must match.
func capSeriesTwoSorts(o seriesOrder, series []infoSeries, max int) ([]infoSeries, bool) {
	ranked := make([]rankedSeries, len(series))
	for i, s := range series {
		ranked[i] = rankedSeries{
			infoSeries: s,
			paging:     pagingRank(s.rule),
			sevRank:    audit.Severity(s.severity).Rank(),
			hash:       maphash.String(o.seed, s.rule+"\x00"+s.severity+"\x00"+s.spn+"\x00"+s.account),
		}
	}
	group := func(a, b rankedSeries) int {
		return cmp.Or(cmp.Compare(b.paging, a.paging), cmp.Compare(b.sevRank, a.sevRank), strings.Compare(a.rule, b.rule))
	}
	slices.SortFunc(ranked, func(a, b rankedSeries) int { return cmp.Or(group(a, b), cmp.Compare(a.hash, b.hash)) })
	type accountGroup struct{ rule, severity, account string }
	rounds := map[accountGroup]int{}
	for i := range ranked {
		key := accountGroup{ranked[i].rule, ranked[i].infoSeries.severity, ranked[i].account}
		ranked[i].round = rounds[key]
		rounds[key]++
	}
	slices.SortFunc(ranked, func(a, b rankedSeries) int {
		return cmp.Or(group(a, b), cmp.Compare(a.round, b.round), cmp.Compare(a.hash, b.hash),
			strings.Compare(a.spn, b.spn), strings.Compare(a.account, b.account))
	})
	truncated := len(ranked) > max
	if truncated {
		ranked = ranked[:max]
	}
	out := make([]infoSeries, len(ranked))
	for i, r := range ranked {
		out[i] = r.infoSeries
	}
	return out, truncated
}

// TestCapSeriesMatchesReference compares capSeries with the two-sort
// reference over random sets of series: few accounts with many series
// (floods), many with one, several rules and severities, caps below and
// above the count.
func TestCapSeriesMatchesReference(t *testing.T) {
	rules := []string{audit.RuleDuplicateSPN, audit.RuleGhostSPN, audit.RuleKerberoastableAccount, audit.RuleHostAliasConflict}
	for trial := range 200 {
		rng := rand.New(rand.NewPCG(uint64(trial), 9))
		order := newSeriesOrder()
		seen := map[infoSeries]bool{}
		var series []infoSeries
		accounts := 1 + rng.IntN(50)
		for range rng.IntN(400) {
			s := infoSeries{
				rule:     rules[rng.IntN(len(rules))],
				severity: string(audit.Severities[rng.IntN(len(audit.Severities))]),
				spn:      fmt.Sprintf("HTTP/h%d", rng.IntN(300)),
				account:  fmt.Sprintf(`CORP\a%d`, rng.IntN(accounts)),
			}
			if !seen[s] {
				seen[s] = true
				series = append(series, s)
			}
		}
		max := rng.IntN(len(series) + 2)
		got, gotTrunc := order.capSeries(slices.Clone(series), max)
		want, wantTrunc := capSeriesTwoSorts(order, slices.Clone(series), max)
		if !slices.Equal(got, want) || gotTrunc != wantTrunc {
			t.Fatalf("trial %d (%d series, cap %d): capSeries differs from the reference:\n got %v\nwant %v", trial, len(series), max, got, want)
		}
	}
}
