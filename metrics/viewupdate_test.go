package metrics

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// viewWorld is a random directory and audit that changes as polls do: the
// new objects and findings are copies sharing the unchanged ones by value.
type viewWorld struct {
	rng        *rand.Rand
	sorted     bool // objects in ldapscan's order, as the scanner gives them
	objects    []inventory.Object
	findings   []audit.Finding
	suppressed []audit.SuppressedFinding
	next       int
	// The last poll's changes: positions removed from the lists before
	// it and added in its lists (tracked.change).
	objectChange, findingChange, suppressedChange [2][]int32
}

var (
	viewRules = []string{audit.RuleDuplicateSPN, audit.RuleHostAliasConflict, audit.RuleGhostSPN, audit.RuleKerberoastableAccount}
	// Two invalid spellings share one label value (labelValue).
	viewSPNs  = []string{"HTTP/a", "HTTP/b", "MSSQLSvc/db:1433", "HOST/x", "HTTP/\xffbad", "HTTP/\xfebad", "HTTP/\uFFFDbad", ""}
	viewTimes = []time.Time{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), {}}
)

func (w *viewWorld) newObject() inventory.Object {
	w.next++
	domain, dc := "corp.example.test", "DC=corp,DC=example,DC=test"
	if w.rng.IntN(4) == 0 {
		domain, dc = "emea.corp.example.test", "DC=emea,DC=corp,DC=example,DC=test"
	}
	o := inventory.Object{
		GUID: inventory.MustParseGUID(fmt.Sprintf("00000000-0000-0000-0000-%012d", w.next)), DN: fmt.Sprintf("CN=a%03d,OU=X,%s", w.rng.IntN(60), dc),
		Domain: domain, SAMAccountName: fmt.Sprintf("a%d", w.next), Kind: inventory.Kinds[w.rng.IntN(len(inventory.Kinds))],
		SPNs: make([]string, w.rng.IntN(3)),
	}
	if w.rng.IntN(5) == 0 {
		o.Domain = "" // the domain comes from the DN
	}
	return o
}

// dn picks a DN a finding names: mostly an object's, some with no object.
func (w *viewWorld) dn() string {
	if len(w.objects) == 0 || w.rng.IntN(8) == 0 {
		return fmt.Sprintf("CN=gone%d,DC=corp,DC=example,DC=test", w.rng.IntN(5))
	}
	return w.objects[w.rng.IntN(len(w.objects))].DN
}

func (w *viewWorld) newFinding(account string) audit.Finding {
	f := audit.Finding{
		Rule:     viewRules[w.rng.IntN(len(viewRules))],
		Severity: audit.Severities[w.rng.IntN(len(audit.Severities))],
		SPN:      viewSPNs[w.rng.IntN(len(viewSPNs))],
		Message:  fmt.Sprintf("m%d", w.rng.IntN(3)),
	}
	switch {
	case account != "":
		f.Accounts = []string{account}
		f.SPN = fmt.Sprintf("HTTP/flood%d", w.rng.IntN(1000))
	default:
		for range w.rng.IntN(4) {
			f.Accounts = append(f.Accounts, w.dn())
		}
	}
	if w.rng.IntN(40) != 0 {
		// As audit.Run gives them (documentOf shares them); a few with
		// nil lists make the document copy the findings.
		f.Remediation, f.References = []string{}, []string{}
		if f.Accounts == nil {
			f.Accounts = []string{}
		}
	}
	if w.rng.IntN(3) == 0 {
		t := viewTimes[w.rng.IntN(len(viewTimes))]
		f.FirstSeen = &t
	}
	if w.rng.IntN(3) == 0 {
		t := viewTimes[w.rng.IntN(len(viewTimes))]
		f.ChangedAt, f.ChangedOn = &t, []string{"dc1", "dc2"}[w.rng.IntN(2)]
	}
	return f
}

// poll changes the world as one poll and its audit might, and records the
// positions of what it changed as the scanner and an incremental audit
// record them (tracked.change).
func (w *viewWorld) poll() {
	objects, findings, suppressed := track(w.objects), track(w.findings), track(w.suppressed)
	for range w.rng.IntN(4) {
		switch i := w.rng.IntN(len(objects.items) + 1); w.rng.IntN(7) {
		case 0, 1:
			objects.add(w.newObject())
		case 2:
			if i < len(objects.items) {
				objects.del(i)
			}
		case 3:
			if i < len(objects.items) { // one more SPN: changed, same account
				o := objects.changed(i)
				o.SPNs = append(slices.Clone(o.SPNs), "HTTP/more")
				o.USNChanged++
			}
		case 4:
			if i < len(objects.items) { // renamed
				objects.changed(i).SAMAccountName += "r"
			}
		case 5:
			if i < len(objects.items) { // read again: equal, nothing shared
				o := objects.changed(i)
				o.DN, o.SAMAccountName = strings.Clone(o.DN), strings.Clone(o.SAMAccountName)
			}
		case 6:
			if i < len(objects.items) { // another object with the same DN
				o := w.newObject()
				o.DN = objects.items[i].DN
				objects.add(o)
			}
		}
	}
	if w.sorted {
		objects.sortStable(compareObjects)
	}
	w.objects, w.objectChange = objects.change(len(w.objects))
	for range w.rng.IntN(5) {
		switch i := w.rng.IntN(len(findings.items) + 1); w.rng.IntN(8) {
		case 0, 1:
			findings.add(w.newFinding(""))
		case 2:
			if i < len(findings.items) {
				findings.del(i)
			}
		case 3: // many findings for one account
			dn := w.dn()
			for range w.rng.IntN(12) {
				findings.add(w.newFinding(dn))
			}
		case 4:
			if i < len(findings.items) { // re-judged: new dates
				*findings.changed(i) = w.newFinding("")
			}
		case 6:
			if i < len(findings.items) { // the same finding, its remediation list nil or not
				f := findings.changed(i)
				if f.Remediation == nil {
					f.Remediation = []string{}
				} else {
					f.Remediation = nil
				}
			}
		case 7:
			if i < len(findings.items) { // judged again alike, in other words
				findings.changed(i).Message += "'"
			}
		case 5: // a flood account cleaned up
			if i < len(findings.items) && len(findings.items[i].Accounts) == 1 {
				dn := findings.items[i].Accounts[0]
				for j := len(findings.items) - 1; j >= 0; j-- {
					if f := &findings.items[j]; len(f.Accounts) == 1 && f.Accounts[0] == dn && w.rng.IntN(2) == 0 {
						findings.del(j)
					}
				}
			}
		}
	}
	if w.sorted || w.rng.IntN(2) == 0 {
		findings.sortStable(compareFindings)
	} else {
		// Not the audit's order: the walk's pairing is still a diff.
		findings.shuffle(w.rng)
	}
	w.findings, w.findingChange = findings.change(len(w.findings))
	switch i := w.rng.IntN(len(suppressed.items) + 1); w.rng.IntN(4) {
	case 0:
		suppressed.add(audit.SuppressedFinding{Finding: w.newFinding("")})
	case 1:
		if i < len(suppressed.items) {
			suppressed.del(i)
		}
	}
	w.suppressed, w.suppressedChange = suppressed.change(len(w.suppressed))
}

// scan is the world's snapshot and audit, recording how they were made from
// base and baseRes as how says.
func (w *viewWorld) scan(t *testing.T, started time.Time, base *inventory.Snapshot, baseRes audit.Result, how pollChange) (*inventory.Snapshot, audit.Result) {
	t.Helper()
	snap := &inventory.Snapshot{
		Started: started, Duration: time.Second, Objects: inventory.Pointers(w.objects),
		NamingContexts: []string{"DC=corp,DC=example,DC=test", "DC=emea,DC=corp,DC=example,DC=test"},
		Directory: inventory.Directory{
			Domains:        []string{"corp.example.test", "emea.corp.example.test"},
			NetBIOSDomains: map[string]string{"corp.example.test": "CORP"},
		},
	}
	res := audit.Result{Findings: w.findings, Suppressed: w.suppressed}
	if how == changeWrongBase {
		// Another snapshot and result with equal lists: the positions are
		// right, but not from what the view was built from.
		base = &inventory.Snapshot{Objects: slices.Clone(base.Objects)}
		baseRes = audit.Result{Findings: slices.Clone(baseRes.Findings), Suppressed: slices.Clone(baseRes.Suppressed)}
	}
	if how == changeBoth || how == changeObjects || how == changeWrongBase {
		if err := snap.SetChange(base, w.objectChange[0], w.objectChange[1]); err != nil {
			t.Fatal(err)
		}
	}
	if how == changeBoth || how == changeFindings || how == changeWrongBase {
		if err := res.SetChange(baseRes, w.findingChange[0], w.findingChange[1], w.suppressedChange[0], w.suppressedChange[1]); err != nil {
			t.Fatal(err)
		}
	}
	return snap, res
}

// TestViewUpdateEqualsRebuilt derives each poll's view from the last one
// (updated) over random sequences of polls (objects added, removed,
// changed, renamed, read again, sharing a DN; findings added, removed,
// re-dated, with nil lists or not, floods of one account and their
// cleanup; paging rules; invalid UTF-8 SPNs; caps that the series cross
// both ways; sorted and unsorted objects and findings) and checks it is
// deep-equal to newSnapshotView's, index included, and that the index
// gives what capSeries and datesOf give over every series.
func TestViewUpdateEqualsRebuilt(t *testing.T) {
	updates, rebuilds := 0, 0
	crossings := map[bool]int{} // updates that set truncated (true) or cleared it
	// paths counts the updates by whether they read the objects' and the
	// findings' changes (true) or compared every one (false).
	paths := map[[2]bool]int{}
	for trial := range 180 {
		rng := rand.New(rand.NewPCG(uint64(trial), 17))
		w := &viewWorld{rng: rng, sorted: trial%4 != 0}
		order := newSeriesOrder()
		maxInfo := []int{0, 1, 3, 8, 20, 1000}[trial%6]
		clk := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		snap, res := w.scan(t, clk, nil, audit.Result{}, changeNone)
		v := newSnapshotView(snap, res, clk, maxInfo, order)
		for step := range 40 {
			w.poll()
			clk = clk.Add(time.Minute)
			how := changesOf(trial, rng)
			snap, res = w.scan(t, clk, snap, res, how)
			objectsChange, findingsChange := snap.ChangeFrom(v.inputs.snapshot) != nil, res.ChangeFrom(v.inputs.result()) != nil
			// A change from another base is usable only from no objects
			// or findings (nothing names the base: it is right anyway).
			wrongEmpty := how == changeWrongBase && len(v.inputs.objects) == 0
			if want := how == changeBoth || how == changeObjects || wrongEmpty; objectsChange != want {
				t.Fatalf("trial %d step %d: the snapshot's change from the view's (%v) is usable: %v, want %v", trial, step, how, objectsChange, want)
			}
			wrongEmpty = how == changeWrongBase && len(v.inputs.findings)+len(v.inputs.suppressedList) == 0
			if want := how == changeBoth || how == changeFindings || wrongEmpty; findingsChange != want {
				t.Fatalf("trial %d step %d: the audit's change from the view's (%v) is usable: %v, want %v", trial, step, how, findingsChange, want)
			}
			got := v.updated(snap, res, clk, maxInfo, order)
			if got == nil {
				rebuilds++
				got = newSnapshotView(snap, res, clk, maxInfo, order)
			} else {
				updates++
				paths[[2]bool{objectsChange, findingsChange}]++
				if got.truncated != v.truncated {
					crossings[got.truncated]++
				}
			}
			want := newSnapshotView(snap, res, clk, maxInfo, order)
			if err := sameViews(got, want, maxInfo); err != nil {
				t.Fatalf("trial %d step %d (%d objects, %d findings, cap %d, change %v): %v", trial, step, len(w.objects), len(w.findings), maxInfo, how, err)
			}
			checkIndexAgainstReference(t, want, res, order, maxInfo)
			v = got
		}
	}
	t.Logf("%d updates, %d rebuilds; the cap crossed upwards %d times, downwards %d; updates by (objects, findings) read from changes: %v",
		updates, rebuilds, crossings[true], crossings[false], paths)
	for _, p := range [][2]bool{{true, true}, {true, false}, {false, true}, {false, false}} {
		if paths[p] < updates/20 {
			t.Errorf("%d of %d updates read (objects, findings) %v from changes: barely exercised", paths[p], updates, p)
		}
	}
	if crossings[true] == 0 || crossings[false] == 0 {
		t.Errorf("the series crossed the cap upwards %d times, downwards %d: both must be exercised", crossings[true], crossings[false])
	}
	if updates < 3*rebuilds {
		t.Errorf("%d updates for %d rebuilds: the update path is barely exercised", updates, rebuilds)
	}
}

// sameViews says how an updated view differs from the view rebuilt from
// the same inputs, nil when it does not. The tops of two indexes may end at
// different series: both must begin the order and hold the kept series.
func sameViews(got, want *snapshotView, maxInfo int) error {
	short, long := got.index.top, want.index.top
	if len(short) > len(long) {
		short, long = long, short
	}
	if !slices.Equal(short, long[:len(short)]) || len(got.index.top) < min(maxInfo, want.index.series) {
		return fmt.Errorf("the updated index's top (%d) is not a long enough prefix of the rebuilt one's (%d)", len(got.index.top), len(want.index.top))
	}
	// Account names are compared as the maps they make, not as tables
	// (an updated one keeps what changed beside its base). got is
	// compared through copies: it may be published, and read meanwhile.
	for _, v := range []*snapshotView{got, want} {
		if err := checkSingleDates(v); err != nil {
			return err
		}
	}
	g, idx := *got, *got.index
	idx.top, idx.singleDates, g.index, g.accountNames = want.index.top, want.index.singleDates, &idx, want.accountNames
	if !maps.Equal(got.accountNames.names(), want.accountNames.names()) || !reflect.DeepEqual(&g, want) {
		return fmt.Errorf("updated view differs from the rebuilt one in %v:\n got info %v truncated %v names %v counts %v\nwant info %v truncated %v names %v counts %v",
			differingFields(got, want), got.info, got.truncated, got.accountNames.names(), got.findingCounts, want.info, want.truncated, want.accountNames.names(), want.findingCounts)
	}
	return nil
}

// checkSingleDates checks that v's index holds the dates of the singles in
// its top, as datesOf gives them, and no other group's.
func checkSingleDates(v *snapshotView) error {
	idx := v.index
	all := datesOf(idx.findings, v.accountNames.names())
	want := map[accountGroup]seriesDates{}
	inTop := map[accountGroup]bool{}
	for _, r := range idx.top {
		g := groupOf(r.infoSeries)
		if _, ok := idx.single(g); ok {
			inTop[g] = true
			if d, ok := all[r.infoSeries]; ok {
				want[g] = d
			}
		}
	}
	if len(idx.singleDates) != len(inTop) {
		return fmt.Errorf("%d singles' dates for %d singles in top", len(idx.singleDates), len(inTop))
	}
	for g, d := range idx.singleDates {
		w, dated := want[g]
		if !inTop[g] || (d != nil) != dated || d != nil && *d != w {
			return fmt.Errorf("single %v: dates %v (in top %v), datesOf %v (dated %v)", g, d, inTop[g], w, dated)
		}
	}
	return nil
}

// checkIndexAgainstReference checks the view's capped series and dates
// against capSeries and datesOf over every series.
func checkIndexAgainstReference(t *testing.T, v *snapshotView, res audit.Result, order seriesOrder, maxInfo int) {
	t.Helper()
	info, truncated := order.capSeries(infoSeriesOf(res.Findings, v.accountNames.names()), maxInfo)
	if !slices.Equal(v.info, info) || v.truncated != truncated {
		t.Fatalf("index series %v (truncated %v), capSeries %v (truncated %v)", v.info, v.truncated, info, truncated)
	}
	all := datesOf(res.Findings, v.accountNames.names())
	for _, s := range info {
		d, ok := all[s]
		if got, gotOK := v.dates[s]; ok != gotOK || d != got {
			t.Fatalf("dates of %v: %v, datesOf %v", s, got, d)
		}
	}
	if len(v.dates) > len(info) {
		t.Fatalf("%d dates for %d kept series", len(v.dates), len(info))
	}
}

// differingFields names the parts of the views (and of their indexes) that
// differ.
func differingFields(a, b *snapshotView) []string {
	parts := map[string][2]any{
		"document": {a.document, b.document}, "spns": {a.spns, b.spns}, "expired": {a.expiredSuppressions, b.expiredSuppressions},
		"objectsByKind": {a.objectsByKind, b.objectsByKind}, "objectsByNC": {a.objectsByNC, b.objectsByNC},
		"findingCounts": {a.findingCounts, b.findingCounts}, "info": {a.info, b.info}, "truncated": {a.truncated, b.truncated},
		"dates": {a.dates, b.dates}, "accountNames": {a.accountNames.names(), b.accountNames.names()}, "inputs": {a.inputs, b.inputs},
		"index.groups": {a.index.groups, b.index.groups}, "index.singles": {a.index.singles, b.index.singles}, "index.bare": {a.index.bare, b.index.bare}, "index.top": {a.index.top, b.index.top}, "index.singleDates": {a.index.singleDates, b.index.singleDates}, "index.series": {a.index.series, b.index.series},
		"index.dnRefs": {a.index.dnRefs, b.index.dnRefs}, "index.objectsSorted": {a.index.objectsSorted, b.index.objectsSorted}, "index.findingsSorted": {a.index.findingsSorted, b.index.findingsSorted},
		"index.objects": {a.index.objects, b.index.objects}, "index.findings": {a.index.findings, b.index.findings},
	}
	var out []string
	for name, p := range parts {
		if !reflect.DeepEqual(p[0], p[1]) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// TestStoreUpdatesViewOfChangedPoll: the store derives the view of a poll
// that changed an object and a finding from the published one (the index
// moves into it) and the result is the view built afresh; a full scan and a
// poll with another directory are built afresh.
func TestStoreUpdatesViewOfChangedPoll(t *testing.T) {
	clk := newClock()
	s := newTestStore(clk, 3)
	first := farmResult(inventory.IncrementalScan, clk.Now())
	succeed(s, first)
	before := s.load().snapshot

	clk.Advance(time.Minute)
	snap := *first.Snapshot
	snap.Started = clk.Now()
	snap.Objects = slices.Clone(snap.Objects)
	changed := *snap.Objects[0] // the first snapshot's object stays as it was
	changed.SPNs = append(slices.Clone(changed.SPNs), "HTTP/added")
	snap.Objects[0] = &changed
	findings := slices.Clone(first.Result.Findings)
	findings = findings[1:]
	next := scanResult{Mode: inventory.IncrementalScan, Snapshot: &snap, Result: audit.Result{Findings: findings}}
	succeed(s, next)
	got := s.load().snapshot
	if got.index != before.index {
		t.Error("the view of a poll that changed one object was built afresh, not updated")
	}
	want := newSnapshotView(next.Snapshot, next.Result, clk.Now(), 3, s.order)
	if !slices.Equal(got.index.top, want.index.top) {
		t.Errorf("top %v, want %v", got.index.top, want.index.top)
	}
	if err := sameViews(got, want, 3); err != nil {
		t.Error(err)
	}

	clk.Advance(time.Minute)
	full := scanResult{Mode: inventory.FullScan, Snapshot: &snap, Result: audit.Result{Findings: slices.Clone(findings)}}
	succeed(s, full)
	if s.load().snapshot.index == got.index {
		t.Error("the view of a full scan was updated, not built afresh (it would keep the last scan's strings)")
	}
	got = s.load().snapshot

	clk.Advance(time.Minute)
	other := snap
	other.Directory.NetBIOSDomains = map[string]string{"corp.example.test": "OTHER"}
	succeed(s, scanResult{Mode: inventory.IncrementalScan, Snapshot: &other, Result: next.Result})
	if s.load().snapshot.index == got.index {
		t.Error("the view of a poll with another directory was updated, not built afresh")
	}
}
