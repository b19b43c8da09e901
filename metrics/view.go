package metrics

import (
	"cmp"
	"hash/maphash"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/report"
)

// snapshotView is everything the collector, the JSON API and the landing page
// need from one successful scan, computed once when the scan is published.
type snapshotView struct {
	document  *report.Document // without snapshot age, which depends on "now"
	succeeded time.Time
	spns      int
	// expiredSuppressions counts audit.ignore entries past their until date.
	expiredSuppressions int

	objectsByKind map[inventory.Kind]int
	// objectsByNC counts objects per naming context read (bounded by the
	// forest's domains).
	objectsByNC   map[string]int
	findingCounts map[ruleSeverity]int
	// info is deduplicated, ordered by seriesOrder and capped.
	info      []infoSeries
	truncated bool
	// dates are the first_seen and last SPN change of the info series that
	// have them (dates.go); only kept series are exported.
	dates map[infoSeries]seriesDates
	// accountNames maps the DNs named by findings to NETBIOS\sAMAccountName
	// (nameTable: shared with the views before, with what changed since).
	accountNames *nameTable
	// inputs are what the view was built from (republished).
	inputs viewInputs
	// index lets the next view be derived from this one (updated).
	index *seriesIndex
}

type ruleSeverity struct {
	rule     string
	severity audit.Severity
}

// infoSeries is the label set of one spnaudit_finding_info series.
type infoSeries struct {
	rule, severity, spn, account string
}

func newSnapshotView(snap *inventory.Snapshot, findings audit.Result, succeeded time.Time, maxInfo int, order seriesOrder) *snapshotView {
	doc := documentOf(snap, findings)
	v := &snapshotView{
		document:            doc,
		succeeded:           succeeded,
		spns:                doc.Scan.SPNs,
		expiredSuppressions: len(findings.ExpiredSuppressions),
		objectsByKind:       map[inventory.Kind]int{},
		findingCounts:       map[ruleSeverity]int{},
		objectsByNC:         snap.ObjectsByNamingContext(),
		inputs:              inputsOf(snap, findings, maxInfo),
	}
	for i := range snap.Objects {
		v.objectsByKind[snap.Objects[i].Kind]++
	}
	for _, f := range doc.Findings {
		v.findingCounts[ruleSeverity{f.Rule, f.Severity}]++
	}
	// The index orders every series as capSeries(infoSeriesOf(...)) would
	// and keeps what the next poll's view is updated from (viewupdate.go).
	names := accountNames(snap, doc.Findings)
	v.accountNames = newNameTable(names)
	v.index = newSeriesIndex(snap, findings.Findings, names, order, maxInfo)
	v.info, v.truncated, v.dates = v.index.capped(maxInfo)
	return v
}

// documentOf is report.NewDocument(snap, findings.Findings, suppressed),
// sharing the audit's findings instead of copying them when none has a nil
// list for the document to replace (audit.Run gives none): the daemon keeps
// the last audit, and a copy doubled what the findings' headers cost
// (issue 9: 7 MiB at 100,000 objects). Both are immutable.
func documentOf(snap *inventory.Snapshot, findings audit.Result) *report.Document {
	for _, f := range findings.Findings {
		if f.Accounts == nil || f.Remediation == nil || f.References == nil {
			return report.NewDocument(snap, findings.Findings, findings.SuppressedCount())
		}
	}
	doc := report.NewDocument(snap, nil, findings.SuppressedCount())
	if len(findings.Findings) > 0 {
		doc.Findings = findings.Findings
	}
	return doc
}

// accountNames maps each DN that a finding names to the name an admin types
// (and recognises in an alert): inventory.Directory.AccountName,
// NETBIOS\sAMAccountName as setspn -L takes it. A DN whose object is not in
// the snapshot maps to itself.
func accountNames(snap *inventory.Snapshot, findings []audit.Finding) map[string]string {
	names := make(map[string]string, len(findings))
	for _, f := range findings {
		for _, dn := range f.Accounts {
			names[dn] = dn
		}
	}
	for i := range snap.Objects {
		o := snap.Objects[i]
		if _, wanted := names[o.DN]; wanted {
			names[o.DN] = snap.Directory.AccountName(o)
		}
	}
	return names
}

// infoSeriesOf returns one label set per finding and account (a finding with
// no account, such as a directory setting, gets account=""), without
// duplicates: a registry refuses a scrape with two identical series.
func infoSeriesOf(findings []audit.Finding, names map[string]string) []infoSeries {
	seen := make(map[infoSeries]bool, len(findings))
	out := make([]infoSeries, 0, len(findings))
	add := func(s infoSeries) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, f := range findings {
		base := infoSeries{
			rule:     labelValue(f.Rule),
			severity: labelValue(string(f.Severity)),
			spn:      labelValue(f.SPN),
		}
		if len(f.Accounts) == 0 {
			add(base)
		}
		for _, dn := range f.Accounts {
			s := base
			s.account = labelValue(names[dn])
			add(s)
		}
	}
	return out
}

// pagingRules are the rules whose spnaudit_finding_info series page someone
// (deploy/prometheus/alerts.yml: DuplicateSPN, SPNHostAliasConflict). Their
// series are kept first, so no flood of other findings (5,000 ghost SPNs,
// say) can push them out of a capped spnaudit_finding_info.
var pagingRules = []string{audit.RuleDuplicateSPN, audit.RuleHostAliasConflict}

// pagingRank is 1 for a paging rule, 0 otherwise.
func pagingRank(rule string) int {
	if slices.Contains(pagingRules, rule) {
		return 1
	}
	return 0
}

// seriesOrder decides which series survive the cap. Nothing in it is text an
// attacker can choose: anyone allowed to write an SPN picks its text (and,
// creating an account, its name), so an order by SPN or account would let
// "AAAA/..." SPNs crowd out a real duplicate. The order is:
//
//  1. paging rules first (pagingRules);
//  2. most severe first;
//  3. rule id (fixed by us);
//  4. fair share between accounts: an account's n-th series of that rule and
//     severity comes after every account's (n-1)-th, so one account flooding
//     SPNs occupies one slot per round;
//  5. a keyed hash of the labels, with a random key per process: stable from
//     scrape to scrape (no flapping alerts) but unpredictable to an attacker.
type seriesOrder struct {
	seed maphash.Seed
}

func newSeriesOrder() seriesOrder { return seriesOrder{seed: maphash.MakeSeed()} }

// rankedSeries is a series with the sort keys it is ordered by.
type rankedSeries struct {
	infoSeries
	paging, sevRank, round int
	hash                   uint64
}

// capSeries orders series by o (see seriesOrder) and keeps at most max.
// Views take their series from a seriesIndex (viewindex.go), which keeps
// them in this order across polls; capSeries states the order directly and
// is the reference the index is tested against (TestViewUpdateEqualsRebuilt).
func (o seriesOrder) capSeries(series []infoSeries, max int) ([]infoSeries, bool) {
	ranked := make([]rankedSeries, len(series))
	var h maphash.Hash
	h.SetSeed(o.seed)
	// members lists, per account group with more than one series, their
	// indices in ranked (most groups have one: no list is made).
	first := make(map[accountGroup]int32, len(series))
	members := map[accountGroup][]int32{}
	for i, s := range series {
		ranked[i] = rankedSeries{
			infoSeries: s,
			paging:     pagingRank(s.rule),
			sevRank:    audit.Severity(s.severity).Rank(),
			hash:       o.hashOf(&h, s),
		}
		key := groupOf(s)
		if j, ok := first[key]; !ok {
			first[key] = int32(i)
		} else if m := members[key]; m == nil {
			members[key] = []int32{j, int32(i)}
		} else {
			members[key] = append(m, int32(i))
		}
	}
	// Rounds are counted in hash order within each account, so which of an
	// account's series comes first is not the account's choice either.
	for _, m := range members {
		slices.SortFunc(m, func(a, b int32) int {
			return cmp.Or(cmp.Compare(ranked[a].hash, ranked[b].hash), strings.Compare(ranked[a].spn, ranked[b].spn))
		})
		for round, i := range m {
			ranked[i].round = round
		}
	}
	slices.SortFunc(ranked, func(a, b rankedSeries) int { return compareRanked(&a, &b) })
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

// labelValue makes s a valid label value: SPNs are stored as written and may
// hold invalid UTF-8, which would make the whole scrape fail.
func labelValue(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// viewInputs are what a snapshotView was built from, besides the scan's
// times: a scan with the same inputs has the same view. Objects and the
// findings are compared as slices (the same array and length), not value by
// value: a snapshot's objects are immutable, ldapscan's poll hands back the
// previous slice when nothing changed, and the daemon hands back the
// previous audit when it reuses it.
//
// snapshot and suppressedList are the snapshot and the audit's suppressed
// findings themselves: the next poll's snapshot and audit say how they were
// made from these (inventory.Change, audit.ResultChange) and updated
// verifies it with their ChangeFrom, which needs the very snapshot and
// lists published (it names them by pointer).
type viewInputs struct {
	objects        []*inventory.Object
	directory      inventory.Directory
	namingContexts []string
	findings       []audit.Finding
	suppressed     int
	expired        int
	maxInfo        int
	snapshot       *inventory.Snapshot
	suppressedList []audit.SuppressedFinding
}

func inputsOf(snap *inventory.Snapshot, findings audit.Result, maxInfo int) viewInputs {
	return viewInputs{
		objects: snap.Objects, directory: snap.Directory, namingContexts: snap.NamingContexts,
		findings: findings.Findings, suppressed: findings.SuppressedCount(), expired: len(findings.ExpiredSuppressions),
		maxInfo: maxInfo, snapshot: snap, suppressedList: findings.Suppressed,
	}
}

// result is the audit's lists the inputs hold, as Result.ChangeFrom takes
// its base.
func (o viewInputs) result() audit.Result {
	return audit.Result{Findings: o.findings, Suppressed: o.suppressedList}
}

// same reports whether a view built from in would equal one built from o.
func (o viewInputs) same(in viewInputs) bool {
	return sameSlice(o.objects, in.objects) && sameSlice(o.findings, in.findings) &&
		o.suppressed == in.suppressed && o.expired == in.expired && o.maxInfo == in.maxInfo &&
		slices.Equal(o.namingContexts, in.namingContexts) &&
		// Cheap when the poll kept them: DeepEqual stops at a slice or map
		// that is the same one.
		reflect.DeepEqual(o.directory, in.directory)
}

// sameSlice reports whether a and b are the same slice (an empty one is the
// same as any other).
func sameSlice[T any](a, b []T) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// republished returns v for a scan with the same inputs, as newSnapshotView
// would build it: only the scan's times differ, so the counts, capped info
// series, account names and findings are shared (they are immutable), and
// a poll that changed nothing costs the store nothing in proportion to the
// domain (issue 9: rebuilding took 130 ms and 100 MiB of garbage at
// 100,000 objects). It returns nil when the inputs differ.
func (v *snapshotView) republished(snap *inventory.Snapshot, findings audit.Result, succeeded time.Time, maxInfo int) *snapshotView {
	in := inputsOf(snap, findings, maxInfo)
	if v == nil || !v.inputs.same(in) {
		return nil
	}
	doc := *v.document
	doc.Scan.Started = snap.Started.UTC()
	doc.Scan.DurationSeconds = snap.Duration.Seconds()
	next := *v
	next.document, next.succeeded, next.inputs = &doc, succeeded, in
	return &next
}
