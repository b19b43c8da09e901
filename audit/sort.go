package audit

import (
	"slices"
	"strings"
)

// sortByKey sorts findings in compareFindings' order without moving them
// while it compares: it sorts indexes by a precomputed key (severity rank,
// then the rule's position among the rule ids present) and the findings'
// own fields only when keys tie, then moves each finding once. Sorting the
// 152-byte findings themselves copied two of them into every comparison,
// and ranked both severities by a string search (issue 9: half a million
// findings).
func sortByKey(fs []Finding) {
	if len(fs) < 2 {
		return
	}
	ruleOrder := map[string]uint32{}
	for i := range fs {
		ruleOrder[fs[i].Rule] = 0
	}
	ids := make([]string, 0, len(ruleOrder))
	for id := range ruleOrder {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for i, id := range ids {
		ruleOrder[id] = uint32(i)
	}
	// Most severe first: rank 4 (critical) gets the smallest key; unknown
	// severities (rank -1) the largest.
	keys := make([]uint64, len(fs))
	idx := make([]int32, len(fs))
	for i := range fs {
		keys[i] = uint64(4-fs[i].Severity.Rank())<<32 | uint64(ruleOrder[fs[i].Rule])
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int {
		if ka, kb := keys[a], keys[b]; ka != kb {
			if ka < kb {
				return -1
			}
			return 1
		}
		return compareAfterRule(&fs[a], &fs[b])
	})
	permute(fs, idx)
}

// compareAfterRule is compareFindings past severity and rule.
func compareAfterRule(a, b *Finding) int {
	if c := strings.Compare(a.SPN, b.SPN); c != 0 {
		return c
	}
	if c := slices.Compare(a.Accounts, b.Accounts); c != 0 {
		return c
	}
	return strings.Compare(a.Message, b.Message)
}

// permute rearranges fs so that fs[k] becomes the old fs[idx[k]], following
// the permutation's cycles in place; idx is consumed.
func permute(fs []Finding, idx []int32) {
	for start := range idx {
		if idx[start] < 0 || int(idx[start]) == start {
			continue
		}
		tmp := fs[start]
		k := start
		for {
			src := int(idx[k])
			idx[k] = -1
			if src == start {
				fs[k] = tmp
				break
			}
			fs[k] = fs[src]
			k = src
		}
	}
}
