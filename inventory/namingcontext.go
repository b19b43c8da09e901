package inventory

import "strings"

// ObjectsByNamingContext counts the objects of each naming context the scan
// read: every one of s.NamingContexts is present, 0 when it holds no object,
// so a naming context that comes back empty shows as a drop, not as a gap.
// An object under none of them (which a scan cannot produce) is not counted.
func (s *Snapshot) ObjectsByNamingContext() map[string]int {
	counts := make(map[string]int, len(s.NamingContexts))
	for _, nc := range s.NamingContexts {
		counts[nc] = 0
	}
	for i := range s.Objects {
		if nc, ok := NamingContextOf(s.Objects[i].DN, s.NamingContexts); ok {
			counts[nc]++
		}
	}
	return counts
}

// NamingContextOf returns the naming context of ncs that holds dn: the
// longest one dn is equal to or below (a parent domain's naming context is
// a suffix of its child domain's), compared ignoring ASCII case.
func NamingContextOf(dn string, ncs []string) (string, bool) {
	best := -1
	for i, nc := range ncs {
		if within(dn, nc) && (best < 0 || len(nc) > len(ncs[best])) {
			best = i
		}
	}
	if best < 0 {
		return "", false
	}
	return ncs[best], true
}

// within reports whether dn is nc or an entry below it.
func within(dn, nc string) bool {
	if nc == "" || len(dn) < len(nc) || !strings.EqualFold(dn[len(dn)-len(nc):], nc) {
		return false
	}
	return len(dn) == len(nc) || dn[len(dn)-len(nc)-1] == ','
}
