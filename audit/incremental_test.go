package audit

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/inventory"
)

// TestIncrementalEqualsRun is the incremental audit's differential test:
// over random directories and random sequences of changes (SPNs added,
// removed, duplicated, made look-alike; hosts renamed; computers and
// accounts added and deleted; delegation, privilege, enctypes,
// userAccountControl and passwords changed; time moving on), Next's result
// must equal Run's, finding for finding, in the same order.
func TestIncrementalEqualsRun(t *testing.T) {
	seeds := 80
	if testing.Short() {
		seeds = 20
	}
	r := runDifferential(seeds, 20)
	if r.failure != "" {
		t.Fatal(r.failure)
	}
	t.Logf("%d changes (%d told by the snapshot, the others diffed), %d audited incrementally, judging %d of %d objects (sparse directories, time moving by minutes: %d of %d)",
		r.cases, r.changeDriven, r.incremental, r.judged, r.objects, r.sparseJudged, r.sparseObjects)
	if r.changeDriven < r.cases/2 || r.cases-r.changeDriven < r.cases/8 {
		t.Errorf("%d of %d changes told by the snapshot: both paths must run", r.changeDriven, r.cases)
	}
	if r.incremental < r.cases*3/4 {
		t.Errorf("only %d of %d changes were audited incrementally", r.incremental, r.cases)
	}
}

// TestNeighbourhoodNeedsEveryRelation drops, one at a time, each relation
// the neighbourhood follows, and checks the differential test then fails:
// it would notice a rule joining on a key the neighbourhood left out.
func TestNeighbourhoodNeedsEveryRelation(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the differential test once per relation")
	}
	relations := map[string]*bool{
		"SPN": &omit.spn, "look-alike skeleton": &omit.skeleton, "host label": &omit.host,
		"delegation targets": &omit.delegation, "computer names": &omit.computerNames,
		"Samba DNS account": &omit.dnsAccount, "DN": &omit.dn, "SID": &omit.sid,
		"RBCD principals": &omit.principals, "computer bridge": &omit.bridge, "second hop": &omit.hop,
		"changed DNS answers": &omit.answers,
	}
	for name, flag := range relations {
		t.Run(name, func(t *testing.T) {
			*flag = true
			defer func() { *flag = false }()
			if r := runDifferential(80, 20); r.failure == "" {
				t.Errorf("without the %s relation the incremental audit still equals Run over %d changes", name, r.cases)
			}
		})
	}
}

type differentialReport struct {
	cases, incremental, judged, objects int
	changeDriven                        int // polls whose snapshot said how it was made
	sparseJudged, sparseObjects         int
	failure                             string // the first difference, "" when none
}

// scenarios are changes whose effect travels along one relation only, too
// rare in random directories to count on.
func scenarios() []struct {
	name          string
	before, after *inventory.Snapshot
} {
	dir := inventory.Directory{ForestDNS: genDomain, Domains: []string{genDomain}, NetBIOSDomains: map[string]string{genDomain: "CORP"}}
	computer := func(name, dnsName string) inventory.Object {
		return inventory.Object{DN: "CN=" + name + ",OU=Computers,DC=corp,DC=example,DC=com", SAMAccountName: name + "$",
			Kind: inventory.KindComputer, DNSHostName: dnsName, UserAccountControl: inventory.UACWorkstationTrustAccount,
			Domain: genDomain, SPNs: []string{"HOST/" + name, "HOST/" + dnsName}}
	}
	user := func(name string, spns ...string) inventory.Object {
		return inventory.Object{DN: "CN=" + name + ",OU=Service Accounts,DC=corp,DC=example,DC=com", SAMAccountName: name,
			Kind: inventory.KindUser, Domain: genDomain, SPNs: spns}
	}
	// missing-spn-pair looks up the computer a NetBIOS name names, then
	// the holders of the computer's DNS name: a change to one of those
	// changes the finding of an account that shares no key with it.
	bridgeBefore := []inventory.Object{
		computer("H5", "web5."+genDomain), computer("H9", "h9."+genDomain),
		user("svcA", "HTTP/h5"), user("svcZ", "MSSQLSvc/h9."+genDomain+":1433"),
	}
	bridgeAfter := slices.Clone(bridgeBefore)
	bridgeAfter[3].SPNs = append(slices.Clip(bridgeAfter[3].SPNs), "HTTP/web5."+genDomain)
	// A dns-<dc> account is Samba's own (not kerberoastable) while a DC
	// of that name exists: a computer made a DC changes the finding of an
	// account whose SPNs name another host.
	dc := computer("H1", "h1."+genDomain)
	dnsAccount := user("dns-h1", "DNS/h7."+genDomain)
	dnsAccount.SAMAccountName = "dns-h1"
	dnsBefore := []inventory.Object{dc, computer("H7", "h7."+genDomain), dnsAccount}
	dnsAfter := slices.Clone(dnsBefore)
	dnsAfter[0].UserAccountControl = inventory.UACServerTrustAccount | inventory.UACTrustedForDelegation
	snap := func(objs []inventory.Object) *inventory.Snapshot {
		listed := inventory.Pointers(objs)
		sortGenObjects(listed)
		return &inventory.Snapshot{Directory: dir, Objects: listed, Started: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	}
	return []struct {
		name          string
		before, after *inventory.Snapshot
	}{
		{"computer bridge", snap(bridgeBefore), snap(bridgeAfter)},
		{"Samba DNS account", snap(dnsBefore), snap(dnsAfter)},
	}
}

// told returns a copy of after, whose objects differ from before's only in
// place, that says how it was made from before (SetChange) as a poll does.
func told(before, after *inventory.Snapshot) *inventory.Snapshot {
	out := *after
	var changed []int32
	for i := range after.Objects {
		if !reflect.DeepEqual(before.Objects[i], after.Objects[i]) {
			changed = append(changed, int32(i))
		}
	}
	if err := out.SetChange(before, changed, changed); err != nil {
		panic(err)
	}
	return &out
}

// runDifferential audits seeds random directories through steps random
// changes each, incrementally and in full, until the first difference.
func runDifferential(seeds, steps int) (r differentialReport) {
	defer func(limit func(int) int) { judgedLimit = limit }(judgedLimit)
	judgedLimit = func(n int) int { return n } // judge every neighbourhood apart
	defer func(n int) { rebuildMin = n }(rebuildMin)
	for _, sc := range scenarios() {
		for _, pair := range [][2]*inventory.Snapshot{{sc.before, sc.after}, {sc.after, sc.before},
			{sc.before, told(sc.before, sc.after)}, {sc.after, told(sc.after, sc.before)}} {
			r.cases++
			if pair[1].ChangeFrom(pair[0]) != nil {
				r.changeDriven++
			}
			got, want := Next(RunState(pair[0], Config{}), pair[1], Config{}), Run(pair[1], Config{})
			if !reflect.DeepEqual(undated(got.Result()), want) {
				r.failure = fmt.Sprintf("scenario %s:\n%s", sc.name, describeDiff(got.Result(), want))
				return r
			}
		}
	}
	for seed := range seeds {
		n := 40 + seed%5*20
		// The indexes of half the sequences are rebuilt as soon as a
		// poll's changes are an eighth of them, the others' never.
		rebuildMin = []int{0, 1 << 30}[seed%2]
		// Dense directories (few host names, many SPNs for other hosts)
		// stress the relations; sparse ones give small neighbourhoods.
		sparse := seed%2 == 1
		g := &dirGen{r: rand.New(rand.NewPCG(uint64(seed), 9)), hosts: 4 + seed%5*n/5, away: 20}
		if sparse {
			g.hosts, g.away = n/3, 3
		}
		snap := g.directory(n, seed%3 == 0)
		cfg := Config{}
		if seed%4 == 1 {
			cfg.Ignore = []Suppression{
				{Rule: "kerberoastable-account", Account: "svc1.*", Reason: "test", Owner: "test"},
				{Rule: "ghost-spn", SPN: "HTTP/gone1*", Reason: "test", Owner: "test"},
			}
		}
		// Some directories are audited with DNS answers (audit.resolve_dns)
		// that change from one poll to the next.
		answers := seed%6 == 5
		resolve := func() map[string]bool {
			m := map[string]bool{"gone0." + genDomain: g.r.IntN(2) == 0}
			for range 1 + g.r.IntN(3) {
				m[[]string{"gone1", "gone2", "h1." + genDomain, "web0", "GONE2." + genDomain}[g.r.IntN(5)]] = g.r.IntN(2) == 0
			}
			return m
		}
		if answers {
			cfg.ResolvedHosts = resolve()
		}
		state := RunState(snap, cfg)
		// Some sequences run as the daemon's with state.dir: their
		// findings carry the dates the history gives them.
		dated := seed%3 == 1
		if dated {
			state = state.WithResult(dateResult(state.Result(), snap.Started))
		}
		for step := range steps {
			next, what := g.change(snap, 1+g.r.IntN(4))
			if answers && g.r.IntN(2) == 0 {
				cfg.ResolvedHosts = resolve()
				what = append(what, fmt.Sprint("DNS answers ", cfg.ResolvedHosts))
			}
			// Time moves as between polls, and sometimes by hours: the
			// password ages the findings state move with it.
			leap := g.r.IntN(5) == 0
			if leap {
				next.Started = next.Started.Add(time.Duration(1+g.r.IntN(72)) * time.Hour)
			} else if g.r.IntN(2) == 0 {
				next.Started = next.Started.Add(5 * time.Minute)
			}
			prev := state
			state = Next(prev, next, cfg)
			want := Run(next, cfg)
			r.cases++
			if next.ChangeFrom(snap) != nil {
				r.changeDriven++
			}
			if msg := checkResultChange(prev, state); msg != "" {
				r.failure = fmt.Sprintf("seed %d step %d (%+v) after %s: %s", seed, step, state.Stats(), strings.Join(what, "; "), msg)
				return r
			}
			if st := state.Stats(); st.Incremental {
				r.incremental++
				r.judged += st.Judged
				r.objects += len(next.Objects)
				if sparse && !leap {
					r.sparseJudged += st.Judged
					r.sparseObjects += len(next.Objects)
				}
			}
			if got := undated(state.Result()); !reflect.DeepEqual(got, want) {
				r.failure = fmt.Sprintf("seed %d step %d (%+v) after %s:\n%s", seed, step, state.Stats(),
					strings.Join(what, "; "), describeDiff(got, want))
				return r
			}
			if dated {
				// As the daemon's history does: every finding it had not
				// seen gets a FirstSeen, kept ones keep theirs.
				state = state.WithResult(dateResult(state.Result(), next.Started))
			}
			snap = next
		}
	}
	return r
}

// undated returns r without the FirstSeen dates a history gave its
// findings and without its change: what Run gives.
func undated(r Result) Result {
	out := Result{ExpiredSuppressions: r.ExpiredSuppressions}
	if r.Findings != nil {
		out.Findings = make([]Finding, len(r.Findings))
		for i, f := range r.Findings {
			f.FirstSeen = nil
			out.Findings[i] = f
		}
	}
	if r.Suppressed != nil {
		out.Suppressed = make([]SuppressedFinding, len(r.Suppressed))
		for i, f := range r.Suppressed {
			f.FirstSeen = nil
			out.Suppressed[i] = f
		}
	}
	return out
}

// dateResult returns a copy of r whose findings without a FirstSeen have
// at, as the daemon's history dates them.
func dateResult(r Result, at time.Time) Result {
	out := Result{ExpiredSuppressions: r.ExpiredSuppressions, Findings: slices.Clone(r.Findings), Suppressed: slices.Clone(r.Suppressed)}
	for i := range out.Findings {
		if out.Findings[i].FirstSeen == nil {
			out.Findings[i].FirstSeen = &at
		}
	}
	for i := range out.Suppressed {
		if out.Suppressed[i].FirstSeen == nil {
			out.Suppressed[i].FirstSeen = &at
		}
	}
	return out
}

// checkResultChange checks the change next's result says it was made by
// from prev's: an incremental audit that re-judged must say it, and then
// prev's lists without the removed positions, merged with the added ones,
// must be next's exactly, every kept finding prev's value (its FirstSeen
// too), every added one fresh from the rules (no FirstSeen); an audit that
// changed nothing keeps prev's lists; a full audit says nothing.
func checkResultChange(prev, next *State) string {
	base, got := prev.Result(), next.Result()
	c := got.ChangeFrom(base)
	switch st := next.Stats(); {
	case !st.Incremental:
		if c != nil {
			return "a full audit's result carries a change"
		}
		return ""
	case c == nil:
		if !sameSlice(base.Findings, got.Findings) || !sameSlice(base.Suppressed, got.Suppressed) {
			return "an incremental audit made new lists and no change"
		}
		return ""
	}
	if msg := checkSpliced(base.Findings, got.Findings, c.RemovedFindings, c.AddedFindings, func(f *Finding) *Finding { return f }); msg != "" {
		return "findings: " + msg
	}
	if msg := checkSpliced(base.Suppressed, got.Suppressed, c.RemovedSuppressed, c.AddedSuppressed, func(f *SuppressedFinding) *Finding { return &f.Finding }); msg != "" {
		return "suppressed findings: " + msg
	}
	return ""
}

func checkSpliced[T any](base, got []T, removed, added []int32, finding func(*T) *Finding) string {
	var rebuilt []T
	for i := range base {
		if _, gone := slices.BinarySearch(removed, int32(i)); !gone {
			rebuilt = append(rebuilt, base[i])
		}
	}
	for _, p := range added { // ascending: each goes where it is
		if int(p) > len(rebuilt) {
			return fmt.Sprintf("added position %d past the end", p)
		}
		if finding(&got[p]).FirstSeen != nil {
			return fmt.Sprintf("added finding %d carries a FirstSeen", p)
		}
		rebuilt = slices.Insert(rebuilt, int(p), got[p])
	}
	if len(rebuilt) != len(got) {
		return fmt.Sprintf("base minus removed plus added has %d, the result %d", len(rebuilt), len(got))
	}
	for i := range got {
		if !reflect.DeepEqual(rebuilt[i], got[i]) {
			return fmt.Sprintf("finding %d: base minus removed plus added differs from the result", i)
		}
		if q := inventory.KeptPosition(int32(i), added, removed); q >= 0 && !reflect.DeepEqual(base[q], got[i]) {
			return fmt.Sprintf("kept finding %d differs from its base finding %d", i, q)
		}
	}
	return ""
}

// describeDiff names the first finding that differs.
func describeDiff(got, want Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "findings: got %d, want %d; suppressed: got %d, want %d\n",
		len(got.Findings), len(want.Findings), len(got.Suppressed), len(want.Suppressed))
	for i := range max(len(got.Findings), len(want.Findings)) {
		var g, w Finding
		if i < len(got.Findings) {
			g = got.Findings[i]
		}
		if i < len(want.Findings) {
			w = want.Findings[i]
		}
		if !reflect.DeepEqual(g, w) {
			gj, _ := json.Marshal(g)
			wj, _ := json.Marshal(w)
			fmt.Fprintf(&b, "finding %d:\n got  %s\n want %s\n", i, gj, wj)
			break
		}
	}
	return b.String()
}

// TestIncrementalFallsBack checks the changes that reach the whole
// directory run the full audit, and that a change to a few objects of a
// large directory does not.
func TestIncrementalFallsBack(t *testing.T) {
	g := &dirGen{r: rand.New(rand.NewPCG(1, 2)), hosts: 700, away: 3}
	snap := g.directory(2000, false)
	state := RunState(snap, Config{})
	judged := 0
	for range 20 {
		changed, _ := g.change(snap, 2)
		s := Next(state, changed, Config{})
		if !s.Stats().Incremental {
			t.Fatalf("two edits: %+v, want incremental", s.Stats())
		}
		judged += s.Stats().Judged
	}
	if judged > 20*len(snap.Objects)/10 {
		t.Errorf("two edits judged %d objects on average of %d, want under 10%%", judged/20, len(snap.Objects))
	}
	changed, _ := g.change(snap, 2)
	dir := *changed
	dir.Directory.DSHeuristics = "0000002"
	tests := []struct {
		name string
		snap *inventory.Snapshot
		cfg  Config
		want string
	}{
		{"directory settings", &dir, Config{}, fullDirectory},
		{"configuration", changed, Config{MaxPasswordAge: time.Hour}, fullConfig},
		{"farms", changed, Config{Farms: []Farm{{Name: "f", Account: "svc1", VIP: "web.corp.example.com", Classes: []string{"HTTP"}}}}, fullFarms},
		{"suppression expired", changed, Config{Ignore: []Suppression{{Rule: "*", Reason: "r", Owner: "o", Until: "2020-01-01"}}}, fullConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Next(state, tt.snap, tt.cfg)
			if s.Stats().Incremental || s.Stats().FullReason != tt.want {
				t.Errorf("stats %+v, want a full audit because %s", s.Stats(), tt.want)
			}
			if !reflect.DeepEqual(s.Result(), Run(tt.snap, tt.cfg)) {
				t.Error("result differs from Run")
			}
		})
	}
}

// TestAgedObjectsMatchesAgeMark checks the index of password times finds
// exactly the accounts whose ageMark moved (among those whose finding
// states an age), around whole days, midnight, the limit, and for times
// Time.UnixNano cannot hold, through a layer as well as the base.
func TestAgedObjectsMatchesAgeMark(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	maxAge := DefaultMaxPasswordAge
	intervals := []time.Duration{time.Minute, time.Hour, 30 * time.Hour, time.Nanosecond, -time.Minute,
		24*time.Hour - time.Millisecond, 24*time.Hour - 2*time.Millisecond, 23 * time.Hour, -20 * time.Hour, 0,
		22*time.Hour + 59*time.Minute, -(22*time.Hour + 59*time.Minute)}
	for round := range 400 {
		prevNow := base.Add(time.Duration(r.Int64N(int64(48 * time.Hour))))
		if round%7 == 0 {
			prevNow = time.Date(2026, 3, 1, 23, 59, 0, 0, time.UTC) // the window wraps past midnight
		}
		now := prevNow.Add(intervals[round%len(intervals)])
		if round%31 == 0 {
			now = time.Time{}
		}
		var objs []inventory.Object
		for range 300 {
			var pwd time.Time
			switch r.IntN(9) {
			case 0: // just around a whole day of age at either time
				at := []time.Time{prevNow, now}[r.IntN(2)]
				pwd = at.Add(-time.Duration(400+r.IntN(5)) * 24 * time.Hour).Add(time.Duration(r.Int64N(4_000_000) - 2_000_000))
			case 1: // around the limit
				pwd = now.Add(-maxAge).Add(time.Duration(r.Int64N(int64(2*time.Hour)) - int64(time.Hour)))
			case 2:
				pwd = time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC) // AD's epoch
			case 3:
				pwd = time.Date(30828, 9, 14, 2, 48, 5, 0, time.UTC) // "never" in FILETIME
			case 4:
				pwd = time.Time{}
			case 5: // a whole number of days before either time, exactly
				at := []time.Time{prevNow, now}[r.IntN(2)]
				pwd = at.AddDate(0, 0, -r.IntN(400))
			case 7: // within nanoseconds of a whole day: float hours round up
				at := []time.Time{prevNow, now}[r.IntN(2)]
				pwd = at.Add(-time.Duration(400+r.IntN(5000)) * 24 * time.Hour).Add(time.Duration(r.Int64N(4000) - 2000))
			case 6: // Time.Sub saturates at one time only
				pwd = prevNow.Add(-time.Duration(1<<63 - 1)).Add(time.Duration(r.Int64N(int64(2*time.Hour)) - int64(time.Hour)))
			default:
				pwd = base.Add(-time.Duration(r.Int64N(int64(900 * 24 * time.Hour))))
			}
			o := inventory.Object{PwdLastSet: pwd, Kind: inventory.KindUser, SPNs: []string{"HTTP/x"}}
			if r.IntN(6) == 0 { // finding states no age: not to be reported
				o.Kind = inventory.KindComputer
			}
			objs = append(objs, o)
		}
		var want []int32
		for i := range objs {
			if statesAge(&objs[i]) && ageMark(&objs[i], prevNow, maxAge) != ageMark(&objs[i], now, maxAge) {
				want = append(want, int32(i))
			}
		}
		// The even objects in the base, the odd ones added by a poll.
		var even []inventory.Object
		var odd []int32
		for i := range objs {
			if i%2 == 0 {
				even = append(even, objs[i])
			} else {
				odd = append(odd, int32(i))
			}
		}
		listed := inventory.Pointers(objs)
		ix := newNeighbourIndex(inventory.Pointers(even)).update(nil, odd, listed)
		var got []int32
		if c := newAgeCheck(prevNow, now, 0); c != nil {
			got = ix.aged(c, listed, nil)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("round %d (%v to %v): aged %v, want %v", round, prevNow, now, got, want)
		}
	}
}

// TestSPNHostIsParseSPNs checks the keys' host is ParseSPN's, and that an
// SPN whose skeleton differs from it is one mayImitate reports.
func TestSPNHostIsParseSPNs(t *testing.T) {
	g := &dirGen{r: rand.New(rand.NewPCG(5, 6)), hosts: 20, away: 30}
	values := []string{"", "HOST", "HOST/", "/x", "HOST/h:", "HOST/[::1]:80", "HOST/[::1]", "HOST/[::1", "a/b/c/d",
		"HTTP/web.corp.", "HTTP/web.corp.:80", "HTTP/ web", "HTTP/we b", "HTTP/web\u00a0", "HTTP/ｗｅｂ", "MSSQLSvc/db:1433/inst"}
	for range 2000 {
		values = append(values, g.spn())
	}
	for _, raw := range values {
		spn, _ := ParseSPN(raw)
		if got := spnHost(raw); got != spn.Host {
			t.Errorf("spnHost(%q) = %q, ParseSPN's host %q", raw, got, spn.Host)
		}
		if look := skeleton(raw); look != "" && look != raw && !mayImitate(raw, spn.Host) {
			t.Errorf("skeleton(%q) = %q, but mayImitate says it cannot differ", raw, look)
		}
	}
}

// TestNeighbourIndexFollowsChanges checks the index a sequence of polls
// updates (steps composed, layers merged, the base rebuilt) finds, for
// every key and for password ages, exactly the objects an index built
// afresh finds.
func TestNeighbourIndexFollowsChanges(t *testing.T) {
	defer func(n int) { rebuildMin = n }(rebuildMin)
	for _, min := range []int{0, 1 << 30} { // rebuilt often; never
		rebuildMin = min
		g := &dirGen{r: rand.New(rand.NewPCG(7, uint64(min))), hosts: 30, away: 20}
		snap := g.directory(150, false)
		ix := newNeighbourIndex(snap.Objects)
		for step := range 60 {
			next, _ := g.change(snap, 1+g.r.IntN(6))
			c := next.ChangeFrom(snap)
			if c == nil {
				var added, removed []int32
				added, removed = diffObjects(snap.Objects, next.Objects)
				ix = ix.update(removed, added, next.Objects)
			} else {
				ix = ix.update(c.Removed, c.Added, next.Objects)
			}
			fresh := newNeighbourIndex(next.Objects)
			positions := func(x *neighbourIndex, k uint64) []int32 {
				var out []int32
				x.each(k, func(p int32) { out = append(out, p) })
				slices.Sort(out)
				return slices.Compact(out)
			}
			var keys []uint64
			for i := range next.Objects {
				keys = uniqueKeys(next.Objects[i], keys)
				for _, k := range keys {
					if got, want := positions(ix, k), positions(fresh, k); !slices.Equal(got, want) {
						t.Fatalf("rebuildMin %d step %d (%d steps, %d layers): key of object %d: %v, want %v",
							min, step, len(ix.steps), len(ix.layers), i, got, want)
					}
				}
			}
			then := next.Started.Add(-time.Duration(g.r.Int64N(int64(20 * time.Hour))))
			ages := newAgeCheck(then, next.Started, 0)
			if got, want := ix.aged(ages, next.Objects, nil), fresh.aged(ages, next.Objects, nil); !slices.Equal(got, want) {
				t.Fatalf("rebuildMin %d step %d: aged %v, want %v", min, step, got, want)
			}
			snap = next
		}
	}
}
