package metrics

import (
	"cmp"
	"hash/maphash"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// seriesIndex is what a view keeps so the next view can be derived from it
// and what changed (viewupdate.go) instead of from every object and finding
// (issue 9: 0.1 s at 100,000 objects for a poll that changed 100): every
// series with how many (finding, account) pairs give it and its dates, the
// account groups' members in round order, and the first series in
// capSeries' order. Only the store's writer reads it, under Store.writeMu, and an
// update moves it into the next view (updating it in place), so it
// describes the inputs of the view that holds it only while objects and
// findings are those it records; seriesIndex.describes checks that.
type seriesIndex struct {
	// groups holds the account groups with more than one series, or with
	// one series that several findings give, each group's series sorted by
	// (hash, spn): a member's index is its fair-share round.
	groups map[accountGroup][]groupMember
	// singles holds the other account groups (most: one series that one
	// finding gives) without a slice each (2.9 MB less at 50,000 series):
	// each group's SPN. members and setMembers see both maps as one.
	singles map[accountGroup]string
	// bare holds the singles whose series has no SPN, without one: an
	// account's own findings (kerberoastable-account: most series of a
	// large domain) have none, and the SPN's header cost 16 bytes a series
	// (issue 9: 1.1 MB at 50,000 series with the map's room). single sees
	// both maps as one.
	bare map[accountGroup]struct{}
	// singleDates are the dates of the singles in top, and only theirs
	// (capped exports them): a single's dates are its finding's, found
	// there when needed (singleDatesOf), not kept for every single
	// (issue 9: 32 bytes a series, 2.3 MB at 50,000 series with the map's
	// room).
	singleDates map[accountGroup]*seriesDates
	order       seriesOrder // the hashes of singles' series
	// top are the first series in capSeries' order (compareRanked): at
	// least min(max, series) and at most topLimit(max) of them. An update
	// keeps them; only when it removed so many that fewer than max are left
	// are they ranked again from groups (rankTop). Keeping every series
	// ranked cost 4.8 MB at 50,000 series and a move of all of them.
	top []rankedSeries
	// series counts the series (the members of every group).
	series int
	// dnRefs counts the accounts of findings that name each DN named more
	// than once; a DN of accountNames not in it is named once (most are:
	// counting them all cost 1.7 MB at 50,000 findings). See refsOf.
	dnRefs map[string]int32
	// objectsSorted says objects are in ldapscan's order (compareObjects),
	// so a DN is found by binary search.
	objectsSorted bool
	// findingsSorted says findings are in the audit's order
	// (compareFindings), so a series' findings are found by binary search.
	findingsSorted bool
	// objects and findings are the inputs the index describes.
	objects  []*inventory.Object
	findings []audit.Finding
}

// accountGroup is an account's series of one rule and severity: fair-share
// rounds are counted within it (seriesOrder). The rule and severity are one
// labelPair, not two strings: 24 bytes a key, not 48, in maps that hold
// one key per account (issue 9: 1.7 MB at 50,000 series).
type accountGroup struct {
	account string
	pair    labelPair
}

// groupMember is one series of an account group.
type groupMember struct {
	spn  string
	hash uint64
	// refs counts the (finding, account) pairs that give the series.
	refs int32
	// dates are datesOf's for the series; nil when no finding giving it has
	// a date.
	dates *seriesDates
}

// members returns a copy of g's members, sorted by compareMembers, and
// whether their dates are known: a single's are when it is in top
// (singleDates); else singleDatesOf finds them.
func (idx *seriesIndex) members(g accountGroup) ([]groupMember, bool) {
	if spn, ok := idx.single(g); ok {
		var h maphash.Hash
		h.SetSeed(idx.order.seed)
		hash := idx.order.hashOf(&h, g.series(spn))
		dates, known := idx.singleDates[g]
		return []groupMember{{spn: spn, hash: hash, refs: 1, dates: dates}}, known
	}
	return slices.Clone(idx.groups[g]), true
}

// setMembers makes members (sorted by compareMembers) g's members. A
// single's dates are dropped: the caller keeps singleDates.
func (idx *seriesIndex) setMembers(g accountGroup, members []groupMember) {
	delete(idx.groups, g)
	delete(idx.singles, g)
	delete(idx.bare, g)
	switch {
	case isSingle(members):
		idx.setSingle(g, members[0].spn)
	case len(members) > 0:
		idx.groups[g] = members
	}
}

// datesOf returns the dates of series s, whose hash is hash.
func (idx *seriesIndex) datesOf(s infoSeries, hash uint64, pc *pairCache) *seriesDates {
	g := pc.groupOf(s)
	if spn, ok := idx.single(g); ok {
		if spn == s.spn {
			return idx.singleDates[g]
		}
		return nil
	}
	members := idx.groups[g]
	if j, ok := findMember(members, s.spn, hash); ok {
		return members[j].dates
	}
	return nil
}

func groupOf(s infoSeries) accountGroup {
	return accountGroup{account: s.account, pair: pairOf(s.rule, s.severity)}
}

// series is g's series with spn.
func (g accountGroup) series(spn string) infoSeries {
	rule, severity := g.pair.labels()
	return infoSeries{rule: rule, severity: severity, spn: spn, account: g.account}
}

// describes reports whether idx is the index of a view built from in.
func (idx *seriesIndex) describes(in viewInputs) bool {
	return idx != nil && sameSlice(idx.objects, in.objects) && sameSlice(idx.findings, in.findings)
}

// refsOf is how many accounts of findings name dn, names being the
// accountNames of the view idx belongs to.
func (idx *seriesIndex) refsOf(dn string, names *nameTable) int32 {
	if n, ok := idx.dnRefs[dn]; ok {
		return n
	}
	if _, ok := names.get(dn); ok {
		return 1
	}
	return 0
}

// setRefs records that n accounts of findings name dn.
func (idx *seriesIndex) setRefs(dn string, n int32) {
	if n > 1 {
		idx.dnRefs[dn] = n
	} else {
		delete(idx.dnRefs, dn)
	}
}

// hashOf is the keyed hash capSeries orders series by.
func (o seriesOrder) hashOf(h *maphash.Hash, s infoSeries) uint64 {
	h.Reset()
	h.WriteString(s.rule)
	h.WriteByte(0)
	h.WriteString(s.severity)
	h.WriteByte(0)
	h.WriteString(s.spn)
	h.WriteByte(0)
	h.WriteString(s.account)
	return h.Sum64()
}

// compareRanked is capSeries' order.
func compareRanked(a, b *rankedSeries) int {
	return cmp.Or(cmp.Compare(b.paging, a.paging), cmp.Compare(b.sevRank, a.sevRank), strings.Compare(a.rule, b.rule),
		cmp.Compare(a.round, b.round), cmp.Compare(a.hash, b.hash),
		// Only a hash collision gets here; keep the order total.
		strings.Compare(a.spn, b.spn), strings.Compare(a.account, b.account))
}

// compareMembers orders an account group's series: rounds are counted in
// hash order (capSeries).
func compareMembers(a, b *groupMember) int {
	return cmp.Or(cmp.Compare(a.hash, b.hash), strings.Compare(a.spn, b.spn))
}

// rankedOf is the ranked series of g's member m in round round.
func rankedOf(g accountGroup, m *groupMember, round int) rankedSeries {
	s := g.series(m.spn)
	return rankedSeries{
		infoSeries: s,
		paging:     pagingRank(s.rule),
		sevRank:    audit.Severity(s.severity).Rank(),
		round:      round,
		hash:       m.hash,
	}
}

// findMember returns the index of the member with spn and hash in members
// (sorted by compareMembers), and whether it is there.
func findMember(members []groupMember, spn string, hash uint64) (int, bool) {
	return slices.BinarySearchFunc(members, groupMember{spn: spn, hash: hash}, func(m, t groupMember) int {
		return compareMembers(&m, &t)
	})
}

// forEachSeries calls fn with the series of each of f's accounts, or with
// f's series without account when it names none (infoSeriesOf's pairs,
// duplicates included); name gives an account's name.
func forEachSeries(f *audit.Finding, name func(dn string) string, fn func(infoSeries)) {
	base := infoSeries{
		rule:     labelValue(f.Rule),
		severity: labelValue(string(f.Severity)),
		spn:      labelValue(f.SPN),
	}
	if len(f.Accounts) == 0 {
		fn(base)
	}
	for _, dn := range f.Accounts {
		s := base
		s.account = labelValue(name(dn))
		fn(s)
	}
}

// addDates adds f's dates to d as datesOf does, in the findings' order.
func addDates(d *seriesDates, f *audit.Finding) *seriesDates {
	if f.FirstSeen == nil && f.ChangedAt == nil {
		return d
	}
	if d == nil {
		d = &seriesDates{}
	}
	if f.FirstSeen != nil && (d.firstSeen.IsZero() || f.FirstSeen.Before(d.firstSeen)) {
		d.firstSeen = *f.FirstSeen
	}
	if f.ChangedAt != nil && f.ChangedAt.After(d.changed) {
		d.changed, d.changedOn = *f.ChangedAt, f.ChangedOn
	}
	return d
}

// newSeriesIndex indexes the series of findings named by names.
func newSeriesIndex(snap *inventory.Snapshot, findings []audit.Finding, names map[string]string, order seriesOrder, max int) *seriesIndex {
	idx := &seriesIndex{
		dnRefs:         map[string]int32{},
		order:          order,
		objectsSorted:  objectsSorted(snap.Objects),
		findingsSorted: isSortedFindings(findings),
		objects:        snap.Objects,
		findings:       findings,
	}
	var h maphash.Hash
	h.SetSeed(order.seed)
	idx.groups = map[accountGroup][]groupMember{}
	singles := map[accountGroup]datedSingle{}
	at := make(map[infoSeries]int, len(findings)) // member index while the groups are unsorted
	refs := make(map[string]int32, len(names))
	name := func(dn string) string { return names[dn] }
	var pc pairCache
	for i := range findings {
		f := &findings[i]
		for _, dn := range f.Accounts {
			refs[dn]++
		}
		forEachSeries(f, name, func(s infoSeries) {
			g := pc.groupOf(s)
			j, seen := at[s]
			one, isSingle := singles[g]
			if !seen && !isSingle && idx.groups[g] == nil {
				// A group's first series, from one finding so far.
				at[s] = 0
				singles[g] = datedSingle{spn: s.spn, dates: addDates(nil, f)}
				return
			}
			if isSingle {
				// A second series or a second finding: a single becomes a
				// group.
				idx.groups[g] = []groupMember{{spn: one.spn, hash: order.hashOf(&h, g.series(one.spn)), refs: 1, dates: one.dates}}
				delete(singles, g)
			}
			if !seen {
				j = len(idx.groups[g])
				at[s] = j
				idx.groups[g] = append(idx.groups[g], groupMember{spn: s.spn, hash: order.hashOf(&h, s)})
			}
			m := &idx.groups[g][j]
			m.refs++
			m.dates = addDates(m.dates, f)
		})
	}
	for _, members := range idx.groups {
		slices.SortFunc(members, func(a, b groupMember) int { return compareMembers(&a, &b) })
	}
	for dn, n := range refs {
		if n > 1 {
			idx.dnRefs[dn] = n
		}
	}
	// The singles without their dates, in maps of their own size.
	bare := 0
	for _, one := range singles {
		if one.spn == "" {
			bare++
		}
	}
	idx.singles, idx.bare = make(map[accountGroup]string, len(singles)-bare), make(map[accountGroup]struct{}, bare)
	for g, one := range singles {
		idx.setSingle(g, one.spn)
	}
	idx.series = len(at)
	idx.top = idx.rankTop(topLimit(max))
	idx.singleDates = map[accountGroup]*seriesDates{}
	for i := range idx.top {
		g := pc.groupOf(idx.top[i].infoSeries)
		if one, ok := singles[g]; ok {
			idx.singleDates[g] = one.dates
		}
	}
	return idx
}

// topLimit is how many series an index keeps ranked for a cap of max: twice
// as many, so an update that removes some of them rarely needs rankTop.
func topLimit(max int) int { return 2 * max }

// rankTop ranks every series of idx and returns the first limit.
func (idx *seriesIndex) rankTop(limit int) []rankedSeries {
	all := make([]rankedSeries, 0, idx.series)
	for g, members := range idx.groups {
		for round := range members {
			all = append(all, rankedOf(g, &members[round], round))
		}
	}
	var h maphash.Hash
	h.SetSeed(idx.order.seed)
	for g, spn := range idx.singles {
		m := groupMember{spn: spn, hash: idx.order.hashOf(&h, g.series(spn))}
		all = append(all, rankedOf(g, &m, 0))
	}
	for g := range idx.bare {
		m := groupMember{hash: idx.order.hashOf(&h, g.series(""))}
		all = append(all, rankedOf(g, &m, 0))
	}
	slices.SortFunc(all, func(a, b rankedSeries) int { return compareRanked(&a, &b) })
	return slices.Clone(all[:min(limit, len(all))]) // not the array of every series
}

// capped returns the first max series of idx (capSeries' result) and the
// dates of those that have some.
func (idx *seriesIndex) capped(max int) ([]infoSeries, bool, map[infoSeries]seriesDates) {
	kept := idx.top[:min(max, len(idx.top))]
	out := make([]infoSeries, len(kept))
	dates := map[infoSeries]seriesDates{}
	var pc pairCache
	for i := range kept {
		out[i] = kept[i].infoSeries
		if d := idx.datesOf(kept[i].infoSeries, kept[i].hash, &pc); d != nil {
			dates[out[i]] = *d
		}
	}
	return out, idx.series > max, dates
}

// compareObjects is ldapscan's order of a snapshot's objects: DN ignoring
// case, then GUID.
func compareObjects(a, b *inventory.Object) int {
	return cmp.Or(inventory.CompareFold(a.DN, b.DN), a.GUID.Compare(b.GUID))
}

// objectsSorted reports whether objects are in compareObjects' order.
func objectsSorted(objects []*inventory.Object) bool {
	for i := 1; i < len(objects); i++ {
		if compareObjects(objects[i-1], objects[i]) > 0 {
			return false
		}
	}
	return true
}

// datesOfSeries is datesOf(findings, names)[s] for findings in
// compareFindings' order: the findings that give s share its rule,
// severity and SPN, so they are one run, found by binary search. It
// reports false when s's labels were made valid UTF-8 (labelValue): other
// spellings could give them.
func datesOfSeries(s infoSeries, findings []audit.Finding, name func(string) string) (*seriesDates, bool) {
	if strings.ContainsRune(s.rule+s.severity+s.spn, utf8.RuneError) {
		return nil, false
	}
	rank := audit.Severity(s.severity).Rank()
	key := func(f *audit.Finding) int {
		return cmp.Or(cmp.Compare(rank, f.Severity.Rank()), strings.Compare(f.Rule, s.rule), strings.Compare(f.SPN, s.spn))
	}
	var d *seriesDates
	for i := sort.Search(len(findings), func(i int) bool { return key(&findings[i]) >= 0 }); i < len(findings) && key(&findings[i]) == 0; i++ {
		f := &findings[i]
		forEachSeries(f, name, func(t infoSeries) {
			if t == s {
				d = addDates(d, f)
			}
		})
	}
	return d, true
}
