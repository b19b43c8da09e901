package metrics

import (
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
	mu  sync.Mutex
	ids map[[2]string]labelPair
	// pairs is the table by id; readers load it without the lock (it is
	// appended to in a copy).
	pairs atomic.Pointer[[][2]string]
}

// pairOf returns the id of (rule, severity).
func pairOf(rule, severity string) labelPair {
	key := [2]string{rule, severity}
	labelPairs.mu.Lock()
	defer labelPairs.mu.Unlock()
	if id, ok := labelPairs.ids[key]; ok {
		return id
	}
	if labelPairs.ids == nil {
		labelPairs.ids = map[[2]string]labelPair{}
	}
	var pairs [][2]string
	if p := labelPairs.pairs.Load(); p != nil {
		pairs = *p
	}
	id := labelPair(len(pairs))
	// Copies of the strings: a finding's may share a chunk of a scan's
	// strings (the daemon packs them), which the table would keep alive.
	// A copy of the table: readers may hold the last one.
	next := append(pairs[:len(pairs):len(pairs)], [2]string{strings.Clone(rule), strings.Clone(severity)})
	labelPairs.pairs.Store(&next)
	labelPairs.ids[key] = id
	return id
}

// labels returns the rule and severity p stands for.
func (p labelPair) labels() (rule, severity string) {
	pair := (*labelPairs.pairs.Load())[p]
	return pair[0], pair[1]
}
