package metrics

import (
	"hash/maphash"
	"maps"
	"reflect"
	"slices"
	"sort"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/report"
)

// updated returns the view of a scan derived from v and what changed since
// v's scan, equal to newSnapshotView's (TestViewUpdateEqualsRebuilt), at a
// cost in proportion to the objects and findings that changed and the
// account groups they touch (issue 9: a poll that changed 100 of 100,000
// objects rebuilt the whole view, 0.1 s). What changed is read from the
// poll's and the audit's changes (changesSince); a snapshot or an audit
// that does not say how it was made from v's costs a walk over the objects
// or the findings comparing fields the poll shares (viewdiff.go). Walks
// remain only for inputs the daemon does not give: objects or findings out
// of their order (objectsSorted, isSortedFindings, lookupNames), findings
// with nil lists (documentOf), and a renamed account named by findings the
// audit did not judge again (withRenamed). It moves v's index into the new view, so v must be the
// published view and the caller must hold Store.writeMu. It returns nil,
// having changed nothing, when only a rebuild can tell: another directory,
// naming contexts or cap; a series given by several findings, some dated,
// whose findings changed while the findings are not in the audit's order
// or its labels were made valid UTF-8 (datesOfSeries); an index that does
// not describe the findings (a count below zero: a bug).
func (v *snapshotView) updated(snap *inventory.Snapshot, findings audit.Result, succeeded time.Time, maxInfo int, order seriesOrder) *snapshotView {
	if v == nil {
		return nil
	}
	in := inputsOf(snap, findings, maxInfo)
	old, idx := v.inputs, v.index
	if !idx.describes(old) || old.maxInfo != maxInfo || !slices.Equal(old.namingContexts, in.namingContexts) ||
		!reflect.DeepEqual(old.directory, in.directory) {
		return nil
	}
	od, removed, added, findingsSorted := changesSince(old, snap, findings, idx)
	p, ok := planUpdate(v, snap, in.findings, findingsSorted, od, removed, added, order)
	if !ok {
		return nil
	}

	// Nothing was changed so far: apply the plan.
	for dn, d := range p.dnDelta {
		if d != 0 {
			idx.setRefs(dn, idx.refsOf(dn, v.accountNames)+d)
		}
	}
	for g, members := range p.groups {
		idx.setMembers(g, members)
	}
	idx.top = spliceRanked(idx.top, p.delAt, p.insert)
	idx.series += p.seriesDelta
	names := v.accountNames.with(p.entering, p.leaving)
	reranked := false
	switch limit := topLimit(maxInfo); {
	case len(idx.top) < min(maxInfo, idx.series):
		idx.top = idx.rankTop(limit) // the update removed too many of them
		reranked = true
	case len(idx.top) > limit:
		for i := limit; i < len(idx.top); i++ {
			delete(idx.singleDates, groupOf(idx.top[i].infoSeries)) // a single's, if any, leaves top
		}
		clear(idx.top[limit:])
		idx.top = idx.top[:limit]
	}
	idx.objects, idx.findings, idx.objectsSorted, idx.findingsSorted = in.objects, in.findings, od.sorted, findingsSorted
	idx.keepSingleDates(p.groups, reranked, names)

	doc := updatedDocument(v, snap, findings, od, added)
	next := &snapshotView{
		document:            doc,
		succeeded:           succeeded,
		spns:                doc.Scan.SPNs,
		expiredSuppressions: len(findings.ExpiredSuppressions),
		objectsByKind:       v.objectsByKind,
		objectsByNC:         v.objectsByNC,
		findingCounts:       v.findingCounts,
		accountNames:        v.accountNames,
		inputs:              in,
		index:               idx,
	}
	next.accountNames = names
	next.objectsByKind = applyCounts(v.objectsByKind, kindDeltas(od), true)
	next.objectsByNC = applyCounts(v.objectsByNC, ncDeltas(od, snap.NamingContexts), false)
	next.findingCounts = applyCounts(v.findingCounts, findingDeltas(removed, added), true)
	next.info, next.truncated, next.dates = idx.capped(maxInfo)
	return next
}

// updatedDocument is documentOf(snap, findings) for updated, without a pass
// over the objects or the findings unless the findings must be copied:
// the SPNs are counted from the diff, and the findings are shared when the
// last document shared its findings and every added one is normalized
// (each other one is paired with one of the last, normalized alike).
func updatedDocument(v *snapshotView, snap *inventory.Snapshot, findings audit.Result, od objectDiff, added []*audit.Finding) *report.Document {
	doc := *v.document
	doc.Scan.Started = snap.Started.UTC()
	doc.Scan.DurationSeconds = snap.Duration.Seconds()
	doc.Scan.Objects = len(snap.Objects)
	doc.Scan.SPNs = v.spns + od.spns
	doc.Suppressed = findings.SuppressedCount()
	// The directory is the last one (updated checked it): Domains stand.
	prev := v.inputs.findings
	shared := len(prev) == 0 || &v.document.Findings[0] == &prev[0]
	for _, f := range added {
		shared = shared && normalized(f)
	}
	switch {
	case !shared:
		doc.Findings = documentOf(snap, findings).Findings
	case len(findings.Findings) > 0:
		doc.Findings = findings.Findings
	default:
		doc.Findings = []audit.Finding{}
	}
	return &doc
}

// updatePlan is everything updated changes, worked out before it changes
// anything.
type updatePlan struct {
	dnDelta  map[string]int32
	entering map[string]string // DNs findings now name or that were renamed, with their names
	leaving  []string          // DNs no finding names any more
	// groups are the touched account groups' new members (empty: gone).
	groups map[accountGroup][]groupMember
	// delAt are the positions in the index's top of series whose key
	// changed or that are gone, ascending; insert the new keys that belong
	// in it, in compareRanked's order.
	delAt  []int
	insert []rankedSeries
	// seriesDelta is the change in the number of series.
	seriesDelta int
}

// seriesChange is what the changed findings do to one series.
type seriesChange struct {
	removed, added int32
	dates          *seriesDates // of the added findings, in their order
}

func planUpdate(v *snapshotView, snap *inventory.Snapshot, findings []audit.Finding, findingsSorted bool, od objectDiff, removed, added []*audit.Finding, order seriesOrder) (updatePlan, bool) {
	idx := v.index
	// The maps are sized for the changes: growing them cost a quarter of
	// an update at k=1000.
	n := len(removed) + len(added)
	p := updatePlan{dnDelta: make(map[string]int32, n), entering: map[string]string{}, groups: make(map[accountGroup][]groupMember, n)}

	// Account names: the DNs that enter or leave, and those whose object
	// changed, which must keep their name.
	for _, f := range removed {
		for _, dn := range f.Accounts {
			p.dnDelta[dn]--
		}
	}
	for _, f := range added {
		for _, dn := range f.Accounts {
			p.dnDelta[dn]++
		}
	}
	lookup := make(map[string]string, len(od.added)+len(od.removed))
	for dn, d := range p.dnDelta {
		before := idx.refsOf(dn, v.accountNames)
		switch after := before + d; {
		case after < 0:
			return p, false // the index does not describe the findings
		case before == 0 && after > 0:
			lookup[dn] = ""
		case before > 0 && after == 0:
			p.leaving = append(p.leaving, dn)
		}
	}
	for _, objects := range [][]*inventory.Object{od.removed, od.added} {
		for _, o := range objects {
			if before := idx.refsOf(o.DN, v.accountNames); before > 0 && before+p.dnDelta[o.DN] > 0 {
				lookup[o.DN] = ""
			}
		}
	}
	at := make(map[string]int, len(od.added))
	for k, o := range od.added {
		if _, ok := lookup[o.DN]; ok {
			at[o.DN] = od.addedAt[k]
		}
	}
	lookupNames(snap, lookup, od.sorted, at)
	renamed := map[string]bool{}
	for dn, name := range lookup {
		if idx.refsOf(dn, v.accountNames) == 0 {
			p.entering[dn] = name
		} else if old, _ := v.accountNames.get(dn); name != old {
			p.entering[dn] = name
			renamed[dn] = true
		}
	}
	if len(renamed) > 0 && !namedOnlyByAdded(renamed, added, func(dn string) int32 { return idx.refsOf(dn, v.accountNames) + p.dnDelta[dn] }) {
		// Every series of a finding naming a renamed DN changes: such a
		// finding leaves with the old name and comes back with the new.
		// Only a walk over the findings finds those the poll kept.
		removed, added = withRenamed(findings, removed, added, renamed)
	}

	// Series: what each changed finding's pairs do to them.
	changes := make(map[infoSeries]*seriesChange, len(removed)+len(added))
	change := func(s infoSeries) *seriesChange {
		c := changes[s]
		if c == nil {
			c = &seriesChange{}
			changes[s] = c
		}
		return c
	}
	oldName := func(dn string) string {
		name, _ := v.accountNames.get(dn)
		return name
	}
	newName := func(dn string) string {
		if name, ok := p.entering[dn]; ok {
			return name
		}
		return oldName(dn)
	}
	for _, f := range removed {
		forEachSeries(f, oldName, func(s infoSeries) { change(s).removed++ })
	}
	for _, f := range added {
		forEachSeries(f, newName, func(s infoSeries) {
			c := change(s)
			c.added++
			c.dates = addDates(c.dates, f)
		})
	}

	var h maphash.Hash
	h.SetSeed(order.seed)
	// regrouped are the groups whose members changed (not only their counts
	// or dates): their series take the rounds of their new places.
	regrouped := make(map[accountGroup]bool, len(changes))
	// unknown are the groups of a single not in top, whose dates members
	// does not know, by its SPN: they are found (singleDatesOf) only when
	// the update needs them, as finding them walks the findings of the
	// series' rule, severity and SPN, which may be many (every
	// kerberoastable account's finding has no SPN).
	unknown := map[accountGroup]string{}
	for s, c := range changes {
		g := groupOf(s)
		members, ok := p.groups[g]
		if !ok {
			var known bool
			if members, known = idx.members(g); !known {
				unknown[g] = members[0].spn
			}
		}
		hash := order.hashOf(&h, s)
		j, found := findMember(members, s.spn, hash)
		m := groupMember{spn: s.spn, hash: hash}
		datesKnown := true
		if found {
			m = members[j]
			if spn, ok := unknown[g]; ok && spn == s.spn {
				datesKnown = false
				delete(unknown, g) // they are found now or become c.dates
			}
		}
		refs := m.refs - c.removed + c.added
		if !datesKnown && refs != c.added {
			// Its finding stays: its dates count.
			m.dates = idx.singleDatesOf(s, oldName)
			members[j].dates = m.dates
			datesKnown = true
		}
		switch {
		case refs < 0:
			return p, false
		case refs == c.added || m.dates == nil:
			// Every finding that gives the series is new, or the others
			// have no dates: its dates are the new findings'.
			m.dates = c.dates
		case c.removed == 0 && c.dates == nil:
			// Findings without dates were added: the dates stand.
		case !findingsSorted:
			return p, false // the dates depend on the findings' order
		default:
			// Several findings give the series, some dated, and they
			// changed: its dates follow the findings' order.
			d, ok := datesOfSeries(s, findings, newName)
			if !ok {
				return p, false
			}
			m.dates = d
		}
		if found && datesKnown && refs == m.refs && sameDates(m.dates, members[j].dates) {
			// Judged again alike (an audit's change re-adds every finding
			// of a changed object): the series stands.
			continue
		}
		m.refs = refs
		switch {
		case found && refs > 0:
			members[j] = m
		case found:
			members = slices.Delete(members, j, j+1)
			regrouped[g] = true
			p.seriesDelta--
		case refs > 0:
			members = slices.Insert(members, j, m)
			regrouped[g] = true
			p.seriesDelta++
		}
		p.groups[g] = members
	}
	idx.findUnknownDates(unknown, p.groups, oldName)

	// The top holds every series up to its last one, or every series: a
	// new key belongs in it when it comes before that last one, or always.
	top := idx.top
	complete := len(top) == idx.series
	for g := range regrouped {
		before, _ := idx.members(g)
		members := p.groups[g]
		stale := make(map[rankedSeries]bool, len(before))
		for round := range before {
			stale[rankedOf(g, &before[round], round)] = true
		}
		for round := range members {
			r := rankedOf(g, &members[round], round)
			if stale[r] {
				delete(stale, r)
			} else if complete || len(top) > 0 && compareRanked(&r, &top[len(top)-1]) < 0 {
				p.insert = append(p.insert, r)
			}
		}
		for r := range stale {
			if at, ok := slices.BinarySearchFunc(top, r, func(a, b rankedSeries) int { return compareRanked(&a, &b) }); ok {
				p.delAt = append(p.delAt, at)
			}
		}
	}
	slices.Sort(p.delAt)
	slices.SortFunc(p.insert, func(a, b rankedSeries) int { return compareRanked(&a, &b) })
	return p, true
}

// sameDates reports whether a and b are the same dates (or both none).
func sameDates(a, b *seriesDates) bool { return a == b || a != nil && b != nil && *a == *b }

// withRenamed adds to removed and added (in findings' order) the findings
// that name a renamed DN and are not in added.
func withRenamed(findings []audit.Finding, removed, added []*audit.Finding, renamed map[string]bool) ([]*audit.Finding, []*audit.Finding) {
	isAdded := make(map[*audit.Finding]bool, len(added))
	for _, f := range added {
		isAdded[f] = true
	}
	all := make([]*audit.Finding, 0, len(added))
	for i := range findings {
		f := &findings[i]
		if isAdded[f] {
			all = append(all, f)
			continue
		}
		if slices.ContainsFunc(f.Accounts, func(dn string) bool { return renamed[dn] }) {
			all = append(all, f)
			removed = append(removed, f)
		}
	}
	return removed, all
}

// lookupNames sets each DN of names to the account name newSnapshotView's
// accountNames gives it: the last object with that DN, else the DN. Sorted
// objects are searched (at holds the places of some DNs' objects); others
// are walked once.
func lookupNames(snap *inventory.Snapshot, names map[string]string, sorted bool, at map[string]int) {
	if len(names) == 0 {
		return
	}
	for dn := range names {
		names[dn] = dn
	}
	objects := snap.Objects
	if !sorted {
		for i := range objects {
			if _, ok := names[objects[i].DN]; ok {
				names[objects[i].DN] = snap.Directory.AccountName(objects[i])
			}
		}
		return
	}
	for dn := range names {
		// The objects with DNs equal ignoring case are one run: start at
		// its first, from an object of it the poll added (whose place the
		// diff knows) or by binary search.
		start, ok := at[dn]
		if ok {
			for start > 0 && inventory.CompareFold(objects[start-1].DN, dn) == 0 {
				start--
			}
		} else {
			start = sort.Search(len(objects), func(i int) bool { return inventory.CompareFold(objects[i].DN, dn) >= 0 })
		}
		for i := start; i < len(objects) && inventory.CompareFold(objects[i].DN, dn) == 0; i++ {
			if objects[i].DN == dn {
				names[dn] = snap.Directory.AccountName(objects[i])
			}
		}
	}
}

// spliceRanked removes the series at delAt (ascending) from ranked and
// inserts insert (in compareRanked's order) in place, moving the series
// between changes in blocks.
func spliceRanked(ranked []rankedSeries, delAt []int, insert []rankedSeries) []rankedSeries {
	if len(delAt) > 0 {
		w := delAt[0]
		for k, at := range delAt {
			end := len(ranked)
			if k+1 < len(delAt) {
				end = delAt[k+1]
			}
			w += copy(ranked[w:], ranked[at+1:end])
		}
		clear(ranked[w:])
		ranked = ranked[:w]
	}
	if len(insert) == 0 {
		return ranked
	}
	n := len(ranked)
	at := make([]int, len(insert))
	for k := range insert {
		at[k], _ = slices.BinarySearchFunc(ranked, insert[k], func(a, b rankedSeries) int { return compareRanked(&a, &b) })
	}
	ranked = slices.Grow(ranked, len(insert))[:n+len(insert)]
	end := n
	for k := len(insert) - 1; k >= 0; k-- {
		copy(ranked[at[k]+k+1:end+k+1], ranked[at[k]:end])
		ranked[at[k]+k] = insert[k]
		end = at[k]
	}
	return ranked
}

// applyCounts returns counts with deltas added (counts itself when nothing
// changes), dropping keys that reach zero when drop is set.
func applyCounts[K comparable](counts map[K]int, deltas map[K]int, drop bool) map[K]int {
	changed := false
	for _, d := range deltas {
		changed = changed || d != 0
	}
	if !changed {
		return counts
	}
	out := maps.Clone(counts)
	for k, d := range deltas {
		out[k] += d
		if drop && out[k] == 0 {
			delete(out, k)
		}
	}
	return out
}

func kindDeltas(od objectDiff) map[inventory.Kind]int {
	d := map[inventory.Kind]int{}
	for _, o := range od.removed {
		d[o.Kind]--
	}
	for _, o := range od.added {
		d[o.Kind]++
	}
	return d
}

func ncDeltas(od objectDiff, ncs []string) map[string]int {
	d := map[string]int{}
	for _, o := range od.removed {
		if nc, ok := inventory.NamingContextOf(o.DN, ncs); ok {
			d[nc]--
		}
	}
	for _, o := range od.added {
		if nc, ok := inventory.NamingContextOf(o.DN, ncs); ok {
			d[nc]++
		}
	}
	return d
}

func findingDeltas(removed, added []*audit.Finding) map[ruleSeverity]int {
	d := map[ruleSeverity]int{}
	for _, f := range removed {
		d[ruleSeverity{f.Rule, f.Severity}]--
	}
	for _, f := range added {
		d[ruleSeverity{f.Rule, f.Severity}]++
	}
	return d
}
