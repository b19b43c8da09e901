package metrics

import (
	"maps"
	"strings"
	"sync"
	"sync/atomic"
)

// labelPair stands for a (rule, severity) pair of label values in the
// seriesIndex's keys: an index holds one key per account group, and two
// strings more in each cost 1.7 MB at 50,000 series (issue 9). The pairs
// are few (the audit's rule ids and severities), so the table of them is
// the process's, shared by every index: ids compare alike across indexes
// (the differential tests compare updated indexes with rebuilt ones), and it
// never holds more than the pairs findings have had.
type labelPair uint32

var labelPairs struct {
	mu sync.Mutex // serialises adding a pair
	// ids and pairs are immutable once stored: a pair is added to copies
	// (rarely: there are few), so readers load them without a lock.
	ids   atomic.Pointer[map[[2]string]labelPair]
	pairs atomic.Pointer[[][2]string]
}

// pairOf returns the id of (rule, severity).
func pairOf(rule, severity string) labelPair {
	key := [2]string{rule, severity}
	if ids := labelPairs.ids.Load(); ids != nil {
		if id, ok := (*ids)[key]; ok {
			return id
		}
	}
	labelPairs.mu.Lock()
	defer labelPairs.mu.Unlock()
	ids := map[[2]string]labelPair{}
	if p := labelPairs.ids.Load(); p != nil {
		if id, ok := (*p)[key]; ok {
			return id
		}
		ids = maps.Clone(*p)
	}
	var pairs [][2]string
	if p := labelPairs.pairs.Load(); p != nil {
		pairs = *p
	}
	id := labelPair(len(pairs))
	// Copies of the strings: a finding's may share a chunk of a scan's
	// strings (the daemon packs them), which the table would keep alive.
	key = [2]string{strings.Clone(rule), strings.Clone(severity)}
	pairs = append(pairs[:len(pairs):len(pairs)], key)
	ids[key] = id
	// pairs first: a reader that finds the id finds its pair.
	labelPairs.pairs.Store(&pairs)
	labelPairs.ids.Store(&ids)
	return id
}

// labels returns the rule and severity p stands for.
func (p labelPair) labels() (rule, severity string) {
	pair := (*labelPairs.pairs.Load())[p]
	return pair[0], pair[1]
}

// pairCache is pairOf for a run of series that mostly share their rule and
// severity (capped's, newSeriesIndex's): the last pair, without a lookup.
type pairCache struct {
	rule, severity string
	pair           labelPair
	set            bool
}

// groupOf is groupOf(s).
func (c *pairCache) groupOf(s infoSeries) accountGroup {
	if !c.set || s.rule != c.rule || s.severity != c.severity {
		c.rule, c.severity, c.pair, c.set = s.rule, s.severity, pairOf(s.rule, s.severity), true
	}
	return accountGroup{account: s.account, pair: c.pair}
}
