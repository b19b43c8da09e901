package audit

import (
	"reflect"
	"slices"
	"time"

	"github.com/spnaudit/spnaudit/inventory"
)

// State is an audit's result together with what the next audit of the same
// directory needs to re-judge only what a change can reach (issue 9: a
// poll that changed k objects must cost in proportion to k, not to the
// domain). Next(prev, snap, cfg).Result() always equals Run(snap, cfg):
// the incremental path re-runs the rules on the changed objects and their
// neighbourhood and splices their findings into the previous result, and
// falls back to Run whenever a change reaches the whole directory.
// A State is immutable.
type State struct {
	snap      *inventory.Snapshot
	cfg       Config
	now       time.Time // the reference time the audit used
	result    Result
	computers int // computer accounts in snap
	index     *neighbourIndex
	// findings and suppressed index the result's lists by the DNs their
	// findings name (nil when index is).
	findings, suppressed *findingIndex
	// names is the index of the directory's DNS records, which the
	// incremental path reuses: it holds the directory's, not the
	// neighbourhood's (they do not change without a full audit).
	names nameIndex
	stats IncrementalStats
}

// IncrementalStats says how a State was made.
type IncrementalStats struct {
	// Incremental is true when only a neighbourhood was re-judged.
	Incremental bool
	// FullReason says why the full audit ran ("" when incremental).
	FullReason string
	// Changed counts the objects added, removed or changed since the
	// previous audit, and the objects whose password age crossed a line the
	// audit reports.
	Changed int
	// Judged counts the objects the rules ran on (the neighbourhood).
	Judged int
}

// Full-audit reasons.
const (
	fullFirst     = "first audit"
	fullConfig    = "configuration changed"
	fullDirectory = "directory settings changed"
	fullFarms     = "farms or IIS sites configured"
	fullBlind     = "no computer account, DNS record or DNS answer vouches for any host"
	fullExpired   = "a suppression expired"
	fullLarge     = "the change reaches too much of the directory"
)

// RunState audits snap in full, as Run does, and keeps what Next needs.
func RunState(snap *inventory.Snapshot, cfg Config) *State {
	ix := newIndex(snap, cfg)
	all := checkAll(ix)
	normalize(all)
	dateFindings(snap, all)
	sortFindings(all)
	s := &State{
		snap:   snap,
		cfg:    cfg,
		now:    ix.now,
		result: applySuppressions(ix, all, compileSuppressions(cfg.Ignore)),
		names:  ix.dnsNames,
	}
	if len(cfg.Farms) == 0 && len(cfg.IIS) == 0 {
		// The next audit can be incremental (fullReason): keep the keys.
		s.index = newNeighbourIndex(snap.Objects)
		s.findings = newFindingIndex(s.result.Findings, func(f *Finding) *Finding { return f })
		s.suppressed = newFindingIndex(s.result.Suppressed, func(s *SuppressedFinding) *Finding { return &s.Finding })
	}
	for i := range snap.Objects {
		if snap.Objects[i].Kind == inventory.KindComputer {
			s.computers++
		}
	}
	return s
}

// Result is the audit's outcome; its slices must not be modified.
func (s *State) Result() Result { return s.result }

// Stats says how the state was made.
func (s *State) Stats() IncrementalStats { return s.stats }

// WithResult returns s holding r instead of its result: r must equal
// Result() value for value (the daemon packs a fresh audit's strings,
// daemon/compact.go). A result of another length is refused (s is
// returned).
func (s *State) WithResult(r Result) *State {
	if len(r.Findings) != len(s.result.Findings) || len(r.Suppressed) != len(s.result.Suppressed) {
		return s
	}
	out := *s
	out.result = r
	return &out
}

// Next audits snap, the directory after a change to prev's snapshot. Its
// result equals Run(snap, cfg). It re-judges only the objects the change
// can reach when prev's objects that did not change are still in snap (as
// ldapscan's poll leaves them: the same values, in the same order) and
// nothing directory-wide changed: the directory settings, the
// configuration besides Now, the suppressions in force. Otherwise, and with
// prev nil, it runs the full audit.
func Next(prev *State, snap *inventory.Snapshot, cfg Config) *State {
	if reason := prev.fullReason(snap, cfg); reason != "" {
		return fullState(snap, cfg, reason)
	}
	now := cfg.Now
	if now.IsZero() {
		now = snap.Started
	}
	if _, expired := currentSuppressions(compileSuppressions(cfg.Ignore), now); !slices.EqualFunc(expired, prev.result.ExpiredSuppressions,
		func(a, b Suppression) bool { return reflect.DeepEqual(a, b) }) {
		return fullState(snap, cfg, fullExpired)
	}
	old, cur := prev.snap.Objects, snap.Objects
	// The poll says which objects it removed and added; otherwise the
	// diff finds them, reading every object.
	var added, removed []int32
	if change := snap.ChangeFrom(prev.snap); change != nil {
		added, removed = change.Added, change.Removed
	} else {
		added, removed = diffObjects(old, cur)
	}
	computers := prev.computers
	for _, p := range removed {
		if old[p].Kind == inventory.KindComputer {
			computers--
		}
	}
	for _, p := range added {
		if cur[p].Kind == inventory.KindComputer {
			computers++
		}
	}
	if blind(snap, cfg, computers) {
		return fullState(snap, cfg, fullBlind)
	}

	next := &State{snap: snap, cfg: cfg, now: now, result: prev.result, computers: computers, index: prev.index, names: prev.names,
		findings: prev.findings, suppressed: prev.suppressed}
	if len(added) > 0 || len(removed) > 0 {
		next.index = prev.index.update(removed, added, cur)
	}
	// The objects whose password age alone moved what the audit says are
	// found in the index of the password times.
	var aged []int32
	if ages := newAgeCheck(prev.now, now, cfg.MaxPasswordAge); ages != nil {
		aged = next.index.aged(ages, cur, added)
	}
	next.stats = IncrementalStats{Incremental: true, Changed: len(added) + len(removed) + len(aged)}
	answered := answersChanged(prev.cfg.ResolvedHosts, cfg.ResolvedHosts)
	if omit.answers {
		answered = nil
	}
	if next.stats.Changed == 0 && len(answered) == 0 {
		if len(old) != len(cur) {
			panic("audit: diff of unequal object lists found no change")
		}
		return next
	}
	hood := neighbourhood(next.index, old, cur, added, removed, aged, answered)
	if len(hood.judged) > judgedLimit(len(cur)) {
		return fullState(snap, cfg, fullLarge)
	}
	next.stats.Judged = len(hood.judged)
	next.result, next.findings, next.suppressed = rejudge(prev.result, prev.findings, prev.suppressed, snap, cfg, hood, prev.names)
	return next
}

// judgedLimit is the largest neighbourhood worth judging apart: past half
// the directory, the full audit costs hardly more. A variable for the
// differential test, which judges every neighbourhood apart.
var judgedLimit = func(objects int) int { return max(objects/2, 64) }

func fullState(snap *inventory.Snapshot, cfg Config, reason string) *State {
	s := RunState(snap, cfg)
	s.stats.FullReason = reason
	return s
}

// fullReason says why snap cannot be audited incrementally from prev, ""
// when it can.
func (prev *State) fullReason(snap *inventory.Snapshot, cfg Config) string {
	switch {
	case prev == nil:
		return fullFirst
	case len(cfg.Farms) > 0 || len(cfg.IIS) > 0:
		// farm-drift and the IIS rules judge the configuration against
		// the whole directory; not worth a neighbourhood of their own yet.
		return fullFarms
	case prev.index == nil || cfg.MaxPasswordAge != prev.cfg.MaxPasswordAge ||
		!reflect.DeepEqual(cfg.KDCDefaultEncTypes, prev.cfg.KDCDefaultEncTypes) ||
		!reflect.DeepEqual(cfg.Ignore, prev.cfg.Ignore) ||
		// Without answers every host nothing vouches for is a ghost; with
		// some, only a definite "no such host" is (knownHost).
		(len(cfg.ResolvedHosts) > 0) != (len(prev.cfg.ResolvedHosts) > 0):
		return fullConfig
	case !reflect.DeepEqual(snap.Directory, prev.snap.Directory):
		return fullDirectory
	}
	return ""
}

// answersChanged returns the keys of the host names whose DNS answer
// (audit.resolve_dns) changed: only the SPNs and delegation targets for
// those hosts are judged differently (knownHost).
func answersChanged(prev, cur map[string]bool) []uint64 {
	var out []uint64
	for h, ok := range cur {
		if was, known := prev[h]; !known || was != ok {
			out = append(out, hostLabelKey(h))
		}
	}
	for h := range prev {
		if _, still := cur[h]; !still {
			out = append(out, hostLabelKey(h))
		}
	}
	return out
}

// blind reports what makes ghost-spn's "cannot judge" finding possible: it
// counts every SPN of the directory.
func blind(snap *inventory.Snapshot, cfg Config, computers int) bool {
	return computers == 0 && len(snap.Directory.DNSNames) == 0 && len(cfg.ResolvedHosts) == 0
}

// diffObjects pairs prev's objects with cur's: removed lists the prev
// positions of the objects cur does not hold as they are, added the
// positions in cur of the objects prev did not hold as they are (an
// inventory.Change's lists). It walks both in ldapscan's order (folded DN,
// then GUID); lists in another order still give a correct, larger diff.
func diffObjects(prev, cur []*inventory.Object) (added, removed []int32) {
	i, j := 0, 0
	for i < len(prev) && j < len(cur) {
		if sameObject(prev[i], cur[j]) {
			i, j = i+1, j+1
			continue
		}
		c := inventory.CompareFold(prev[i].DN, cur[j].DN)
		if c == 0 {
			c = prev[i].GUID.Compare(cur[j].GUID)
		}
		if c <= 0 {
			removed = append(removed, int32(i))
			i++
		}
		if c >= 0 {
			added = append(added, int32(j))
			j++
		}
	}
	for ; i < len(prev); i++ {
		removed = append(removed, int32(i))
	}
	for ; j < len(cur); j++ {
		added = append(added, int32(j))
	}
	return added, removed
}

// sameObject reports whether a and b hold the same values. Objects a poll
// did not touch are copies of the previous ones (the same strings, slices
// and pointers), which the first test settles without reading them. The
// diff reads every object, bound by memory: about 5 ms at 100,000 objects,
// no faster comparing the structs' bytes; Next diffs only a snapshot that
// does not say how it was made (inventory.Snapshot.ChangeFrom).
func sameObject(a, b *inventory.Object) bool {
	if a == b {
		return true // a poll shares the objects it did not change
	}
	if a.GUID == b.GUID && a.DN == b.DN && a.Domain == b.Domain && a.SAMAccountName == b.SAMAccountName &&
		a.Kind == b.Kind && a.UserAccountControl == b.UserAccountControl && a.DNSHostName == b.DNSHostName &&
		a.Additional == b.Additional && a.SupportedEncryptionTypes == b.SupportedEncryptionTypes &&
		a.PwdLastSet == b.PwdLastSet && a.AdminCount == b.AdminCount && a.Delegation == b.Delegation &&
		a.USNChanged == b.USNChanged && sameSlice(a.SPNs, b.SPNs) && a.PrimaryGroupID == b.PrimaryGroupID &&
		a.Privilege == b.Privilege && a.PrivilegeUnknown == b.PrivilegeUnknown && a.ObjectSID == b.ObjectSID &&
		a.SPNChanged == b.SPNChanged && a.SPNChangedBy == b.SPNChangedBy {
		return true
	}
	return reflect.DeepEqual(*a, *b)
}

// sameSlice reports whether a and b are the same slice (both nil, or the
// same array and length); equal contents elsewhere are left to DeepEqual.
func sameSlice[T any](a, b []T) bool {
	if len(a) != len(b) || (a == nil) != (b == nil) {
		return false
	}
	return len(a) == 0 || &a[0] == &b[0]
}

// ageCheck tells whether an object's kerberoastable-account finding moves
// from one reference time to another: its password crossed the age limit,
// or its age in days, which the finding states, changed.
type ageCheck struct {
	then, now time.Time
	maxAge    time.Duration
	s0, ns0   int64 // then, in Unix seconds and nanoseconds
	s1, ns1   int64 // now
	exactOnly bool  // a zero time: ageMark decides every object
}

// newAgeCheck returns nil when the two times are the same.
func newAgeCheck(then, now time.Time, maxAge time.Duration) *ageCheck {
	if now.Equal(then) {
		return nil
	}
	if maxAge <= 0 {
		maxAge = DefaultMaxPasswordAge
	}
	return &ageCheck{then: then, now: now, maxAge: maxAge, exactOnly: then.IsZero() || now.IsZero(),
		s0: then.Unix(), ns0: int64(then.Nanosecond()), s1: now.Unix(), ns1: int64(now.Nanosecond())}
}

// moved reads the password time in whole seconds and nanoseconds, as
// Time.Sub does, rather than through ageMark, which costs several times as
// much (every candidate of the index of password times is read when the
// interval is a day or a time is zero: 7 ms at 100,000 stale passwords). The day
// count ageMark states is the age's in float hours: when either age is
// within a millisecond below a whole day, ageMark decides.
func (c *ageCheck) moved(o *inventory.Object) bool {
	const (
		day     = int64(24 * time.Hour)
		guard   = int64(time.Millisecond)
		century = 100 * 365 * 24 * 3600
	)
	if o.PwdLastSet.IsZero() {
		return false // never set: no age, either time
	}
	if !c.exactOnly {
		ps, pns := o.PwdLastSet.Unix(), int64(o.PwdLastSet.Nanosecond())
		if ds0, ds1 := c.s0-ps, c.s1-ps; ds0 > -century && ds0 < century && ds1 > -century && ds1 < century {
			d0, d1 := ds0*int64(time.Second)+c.ns0-pns, ds1*int64(time.Second)+c.ns1-pns
			limit := int64(c.maxAge)
			if d0 <= limit && d1 <= limit {
				return false // under the limit both times
			}
			if d0 > limit && d1 > limit && d0/day == d1/day && d0%day < day-guard && d1%day < day-guard {
				return false // over it both times, the same number of days
			}
		}
	}
	return ageMark(o, c.then, c.maxAge) != ageMark(o, c.now, c.maxAge)
}

// ageMark is what kerberoastFinding says of o's password age at now: its
// age in days when over the limit, -1 otherwise.
func ageMark(o *inventory.Object, now time.Time, maxAge time.Duration) int {
	if now.IsZero() || o.PwdLastSet.IsZero() {
		return -1
	}
	if age := now.Sub(o.PwdLastSet); age > maxAge {
		return int(age.Hours() / 24)
	}
	return -1
}
