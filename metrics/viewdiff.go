package metrics

import (
	"cmp"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// What changed between the published view's inputs and a poll's, for
// updated (viewupdate.go): read from the positions the poll and the audit
// recorded (changedObjects, changedFindings) or, when they recorded none
// the view can verify, found by a walk (diffObjects, diffFindings).

// changesSince is what changed between old (the published view's inputs,
// which idx describes) and a poll's snapshot and audit: read from the
// positions the poll and the audit recorded (Snapshot.ChangeFrom,
// Result.ChangeFrom) when they say they were made from old's, else found
// by comparing every object or finding (diffObjects, diffFindings). The
// objects and the findings each fall back on their own.
func changesSince(old viewInputs, snap *inventory.Snapshot, findings audit.Result, idx *seriesIndex) (od objectDiff, removed, added []*audit.Finding, findingsSorted bool) {
	if c := snap.ChangeFrom(old.snapshot); c != nil {
		od = changedObjects(old.objects, snap.Objects, c, idx.objectsSorted)
	} else {
		od = diffObjects(old.objects, snap.Objects, idx.objectsSorted)
	}
	if c := findings.ChangeFrom(old.result()); c != nil {
		removed, added, findingsSorted = changedFindings(old.findings, findings.Findings, c, idx.findingsSorted)
	} else {
		removed, added, findingsSorted = diffFindings(old.findings, findings.Findings, idx.findingsSorted)
	}
	return od, removed, added, findingsSorted
}

// objectDiff is what changed between two snapshots' objects.
type objectDiff struct {
	removed, added []*inventory.Object
	addedAt        []int // the added objects' places in the new objects
	// spns is the change in the number of SPNs.
	spns int
	// sorted says the new objects are in compareObjects' order.
	sorted bool
}

// diffObjects walks prev and next together: an object the poll kept is at
// the same place relative to the others (ldapscan's changeSet.apply merges
// the changed ones into a copy), so the walk compares a few fields that
// the two copies share and, where they differ, advances the side that
// compareObjects puts first. Any pairing it makes is a correct diff (the
// objects it pairs are equal where the view looks); the order only keeps
// it small. sorted follows from prevSorted and the added objects' places.
func diffObjects(prev, next []*inventory.Object, prevSorted bool) objectDiff {
	d := objectDiff{sorted: prevSorted}
	add := func(j int) { d.add(next, j) }
	i, j := 0, 0
	for i < len(prev) && j < len(next) {
		p, n := prev[i], next[j]
		if sameObject(p, n) {
			i, j = i+1, j+1
			continue
		}
		c := compareObjects(p, n)
		if c <= 0 {
			d.remove(prev, i)
			i++
		}
		if c >= 0 {
			add(j)
			j++
		}
	}
	for ; i < len(prev); i++ {
		d.remove(prev, i)
	}
	for ; j < len(next); j++ {
		add(j)
	}
	if !prevSorted {
		// Removing objects may have sorted them: only a walk can tell (the
		// scanner's objects are always sorted; this is for other sources).
		d.sorted = objectsSorted(next)
	}
	return d
}

// changedObjects is diffObjects for a poll that says how it made next from
// prev (inventory.Change, verified by Snapshot.ChangeFrom): the objects at
// its positions, without a walk over the others, which are prev's values
// as they were. A removed object and an added one that are equal where the
// view looks and between the same kept objects (a copy the poll read again
// for an attribute the view does not read) are paired, as diffObjects
// pairs them (pairChanges). Removing objects keeps sorted objects sorted,
// so next is sorted when prev is and each added object is in order with
// its neighbours (the others' pairs were in order in prev; a paired one has
// the removed one's DN and GUID); only objects from another source than
// the scanner, not sorted, are walked to tell.
func changedObjects(prev, next []*inventory.Object, c *inventory.Change, prevSorted bool) objectDiff {
	d := objectDiff{
		sorted:  prevSorted,
		removed: make([]*inventory.Object, 0, len(c.Removed)),
		added:   make([]*inventory.Object, 0, len(c.Added)),
		addedAt: make([]int, 0, len(c.Added)),
	}
	pairChanges(c.Removed, c.Added,
		func(i, j int32) bool { return sameObject(prev[i], next[j]) },
		func(i, j int32) int { return compareObjects(prev[i], next[j]) },
		func(i int32) { d.remove(prev, int(i)) }, func(j int32) { d.add(next, int(j)) })
	if !prevSorted {
		d.sorted = objectsSorted(next)
	}
	return d
}

// pairChanges walks a change's removed positions (in the base) and added
// ones (in the result) as diffObjects and diffFindings walk two lists, but
// only between the same kept items: a removed item and an added one are
// between the same kept items when as many kept items come before each
// (its position less the changed positions before it). A removed item i
// and an added one j that are the same (equal where the view looks) are
// paired: neither is reported; compare orders the others, passed to
// removed and added in order. Pairs keep their order among themselves and
// the kept items, as the walks' do.
func pairChanges(removedAt, addedAt []int32, same func(i, j int32) bool, compare func(i, j int32) int, removed, added func(int32)) {
	r, a := 0, 0
	for r < len(removedAt) || a < len(addedAt) {
		var c int
		switch {
		case a == len(addedAt):
			c = -1
		case r == len(removedAt):
			c = 1
		default:
			// The kept items before each: they are between the same
			// kept items when these are as many.
			c = cmp.Compare(removedAt[r]-int32(r), addedAt[a]-int32(a))
			if c == 0 && same(removedAt[r], addedAt[a]) {
				r, a = r+1, a+1
				continue
			}
			if c == 0 {
				c = compare(removedAt[r], addedAt[a])
			}
		}
		if c <= 0 {
			removed(removedAt[r])
			r++
		}
		if c >= 0 {
			added(addedAt[a])
			a++
		}
	}
}

// remove records that prev[i] is gone.
func (d *objectDiff) remove(prev []*inventory.Object, i int) {
	d.removed = append(d.removed, prev[i])
	d.spns -= len(prev[i].SPNs)
}

// add records that next[j] is new, and whether it is in order with its
// neighbours.
func (d *objectDiff) add(next []*inventory.Object, j int) {
	d.added = append(d.added, next[j])
	d.addedAt = append(d.addedAt, j)
	d.spns += len(next[j].SPNs)
	if d.sorted && (j > 0 && compareObjects(next[j-1], next[j]) > 0 || j+1 < len(next) && compareObjects(next[j], next[j+1]) > 0) {
		d.sorted = false
	}
}

// sameObject reports whether a and b are equal in what the view reads
// (kind, DN, account name, how many SPNs) and in their order
// (compareObjects). Strings the poll shares compare by pointer.
func sameObject(a, b *inventory.Object) bool {
	return sameString(a.DN, b.DN) && a.GUID == b.GUID && sameString(a.SAMAccountName, b.SAMAccountName) &&
		sameString(a.Domain, b.Domain) && sameString(string(a.Kind), string(b.Kind)) && len(a.SPNs) == len(b.SPNs)
}

// sameString is a == b without a call to compare the bytes when both are
// the same string: the walks compare 100,000 objects' strings that the poll
// copied, and the calls were most of their time.
func sameString(a, b string) bool {
	return len(a) == len(b) && (unsafe.StringData(a) == unsafe.StringData(b) || a == b)
}

// diffFindings walks prev and next (both in the audit's order) as
// diffObjects does: removed are prev's findings not paired, added next's,
// in next's order.
// sorted says next is in compareFindings' order, from prevSorted and the
// added findings' places.
func diffFindings(prev, next []audit.Finding, prevSorted bool) (removed, added []*audit.Finding, sorted bool) {
	sorted = prevSorted
	add := func(j int) {
		added = append(added, &next[j])
		sorted = sorted && inOrderAt(next, j)
	}
	i, j := 0, 0
	for i < len(prev) && j < len(next) {
		p, n := &prev[i], &next[j]
		if sameFinding(p, n) {
			i, j = i+1, j+1
			continue
		}
		c := compareFindings(p, n)
		if c <= 0 {
			removed = append(removed, p)
			i++
		}
		if c >= 0 {
			add(j)
			j++
		}
	}
	for ; i < len(prev); i++ {
		removed = append(removed, &prev[i])
	}
	for ; j < len(next); j++ {
		add(j)
	}
	if !prevSorted {
		sorted = isSortedFindings(next)
	}
	return removed, added, sorted
}

// changedFindings is diffFindings for an audit that says how it made next
// from prev (audit.ResultChange, verified by Result.ChangeFrom): the
// findings at its positions, without a walk over the others. sorted
// follows as in changedObjects.
func changedFindings(prev, next []audit.Finding, c *audit.ResultChange, prevSorted bool) (removed, added []*audit.Finding, sorted bool) {
	removed = make([]*audit.Finding, 0, len(c.RemovedFindings))
	added = make([]*audit.Finding, 0, len(c.AddedFindings))
	pairChanges(c.RemovedFindings, c.AddedFindings,
		func(i, j int32) bool { return sameFinding(&prev[i], &next[j]) },
		func(i, j int32) int { return compareFindings(&prev[i], &next[j]) },
		func(i int32) { removed = append(removed, &prev[i]) }, func(j int32) { added = append(added, &next[j]) })
	sorted = prevSorted
	for _, j := range c.AddedFindings {
		// A paired finding too: sameFinding does not read the message,
		// which orders findings equal in the rest.
		sorted = sorted && inOrderAt(next, int(j))
	}
	if !prevSorted {
		sorted = isSortedFindings(next)
	}
	return removed, added, sorted
}

// inOrderAt reports whether fs[j] is in compareFindings' order with its
// neighbours.
func inOrderAt(fs []audit.Finding, j int) bool {
	return (j == 0 || compareFindings(&fs[j-1], &fs[j]) <= 0) && (j+1 == len(fs) || compareFindings(&fs[j], &fs[j+1]) <= 0)
}

func isSortedFindings(fs []audit.Finding) bool {
	for i := 1; i < len(fs); i++ {
		if compareFindings(&fs[i-1], &fs[i]) > 0 {
			return false
		}
	}
	return true
}

// sameFinding reports whether a and b are equal in what the view reads:
// rule, severity, SPN, accounts, dates, and whether the document can share
// them (normalized).
func sameFinding(a, b *audit.Finding) bool {
	return sameString(a.Rule, b.Rule) && sameString(string(a.Severity), string(b.Severity)) && sameString(a.SPN, b.SPN) &&
		sameStrings(a.Accounts, b.Accounts) && sameTime(a.FirstSeen, b.FirstSeen) && sameTime(a.ChangedAt, b.ChangedAt) &&
		sameString(a.ChangedOn, b.ChangedOn) && normalized(a) == normalized(b)
}

// normalized reports whether f has no nil list for report.NewDocument to
// replace (documentOf shares such findings).
func normalized(f *audit.Finding) bool {
	return f.Accounts != nil && f.Remediation != nil && f.References != nil
}

// sameStrings is slices.Equal(a, b), short when both are the same slice.
func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 || &a[0] == &b[0] {
		return true
	}
	for i := range a {
		if !sameString(a[i], b[i]) {
			return false
		}
	}
	return true
}

func sameTime(a, b *time.Time) bool { return a == b || a != nil && b != nil && *a == *b }

// compareFindings is the audit's order of findings: most severe first, then
// rule, SPN, accounts and message.
func compareFindings(a, b *audit.Finding) int {
	return cmp.Or(cmp.Compare(b.Severity.Rank(), a.Severity.Rank()), strings.Compare(a.Rule, b.Rule),
		strings.Compare(a.SPN, b.SPN), slices.Compare(a.Accounts, b.Accounts), strings.Compare(a.Message, b.Message))
}

// namedOnlyByAdded reports whether every account of the findings that
// names a renamed DN is an added finding's (refs gives how many name it
// now): then withRenamed has nothing to add, and its walk is skipped (an
// audit that judges a renamed account's findings again re-adds them).
func namedOnlyByAdded(renamed map[string]bool, added []*audit.Finding, refs func(dn string) int32) bool {
	inAdded := make(map[string]int32, len(renamed))
	for _, f := range added {
		for _, dn := range f.Accounts {
			if renamed[dn] {
				inAdded[dn]++
			}
		}
	}
	for dn := range renamed {
		if inAdded[dn] != refs(dn) {
			return false
		}
	}
	return true
}
