package metrics

import "slices"

// The singles of a seriesIndex: account groups with one series that one
// finding gives (most: an account's kerberoastable-account finding), kept
// with their SPN only, in singles or, without an SPN, in bare; the dates of
// those in top in singleDates.

// datedSingle is a single with its dates, while newSeriesIndex builds
// the index.
type datedSingle struct {
	spn   string
	dates *seriesDates
}

// single returns the SPN of g's series when g is a single.
func (idx *seriesIndex) single(g accountGroup) (string, bool) {
	if _, ok := idx.bare[g]; ok {
		return "", true
	}
	spn, ok := idx.singles[g]
	return spn, ok
}

// setSingle makes g a single with a series of spn.
func (idx *seriesIndex) setSingle(g accountGroup, spn string) {
	if spn == "" {
		idx.bare[g] = struct{}{}
	} else {
		idx.singles[g] = spn
	}
}

// isSingle reports whether members are a single's: one series that one
// finding gives.
func isSingle(members []groupMember) bool { return len(members) == 1 && members[0].refs == 1 }

// singleDatesOf returns the dates of series s, which one finding of the
// findings idx describes gives (a single's), name giving their accounts'
// names: its finding is found by binary search when they are sorted, else
// by a walk. One finding's dates do not depend on the findings' order.
func (idx *seriesIndex) singleDatesOf(s infoSeries, name func(string) string) *seriesDates {
	if idx.findingsSorted {
		if d, ok := datesOfSeries(s, idx.findings, name); ok {
			return d
		}
	}
	var d *seriesDates
	for i := range idx.findings {
		f := &idx.findings[i]
		forEachSeries(f, name, func(t infoSeries) {
			if t == s {
				d = addDates(d, f)
			}
		})
	}
	return d
}

// setSingleDates makes singleDates hold the dates of the singles in top,
// from the findings idx describes, name giving their accounts' names: one
// walk over them.
func (idx *seriesIndex) setSingleDates(name func(string) string) {
	idx.singleDates = map[accountGroup]*seriesDates{}
	wanted := map[accountGroup]string{}
	var pc pairCache
	for i := range idx.top {
		g := pc.groupOf(idx.top[i].infoSeries)
		if spn, ok := idx.single(g); ok {
			wanted[g] = spn
			idx.singleDates[g] = nil
		}
	}
	if len(wanted) == 0 {
		return
	}
	for i := range idx.findings {
		f := &idx.findings[i]
		if f.FirstSeen == nil && f.ChangedAt == nil {
			continue
		}
		forEachSeries(f, name, func(s infoSeries) {
			g := pc.groupOf(s)
			if spn, ok := wanted[g]; ok && spn == s.spn {
				idx.singleDates[g] = addDates(idx.singleDates[g], f)
			}
		})
	}
}

// inTop reports whether r is in idx.top.
func (idx *seriesIndex) inTop(r rankedSeries) bool {
	_, ok := slices.BinarySearchFunc(idx.top, r, func(a, b rankedSeries) int { return compareRanked(&a, &b) })
	return ok
}

// keepSingleDates keeps singleDates the dates of the singles in top after
// an update changed the groups changed (their new members) and, when
// reranked, ranked top again; names are the new view's.
func (idx *seriesIndex) keepSingleDates(changed map[accountGroup][]groupMember, reranked bool, names *nameTable) {
	if reranked {
		idx.setSingleDates(func(dn string) string {
			name, _ := names.get(dn)
			return name
		})
		return
	}
	// Only the changed groups' singles enter or leave top (the others'
	// ranks stand).
	for g, members := range changed {
		delete(idx.singleDates, g)
		if isSingle(members) && idx.inTop(rankedOf(g, &members[0], 0)) {
			idx.singleDates[g] = members[0].dates
		}
	}
}

// findUnknownDates sets, in the changed groups (their new members), the
// dates of the singles unknown names (group: SPN) that an update did not
// change: their groups keep them now. name gives the accounts' names of
// the findings idx describes.
func (idx *seriesIndex) findUnknownDates(unknown map[accountGroup]string, changed map[accountGroup][]groupMember, name func(string) string) {
	for g, spn := range unknown {
		members := changed[g]
		if j := slices.IndexFunc(members, func(m groupMember) bool { return m.spn == spn }); j >= 0 {
			members[j].dates = idx.singleDatesOf(g.series(spn), name)
		}
	}
}
