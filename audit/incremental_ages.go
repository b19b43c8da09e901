package audit

import (
	"cmp"
	"slices"
	"time"

	"github.com/spnaudit/spnaudit/inventory"
)

// The kerberoastable-account finding states a password's age in days once
// it is over Config.MaxPasswordAge, so it moves with the reference time
// alone: between two polls, for the accounts whose password crossed the
// limit or whose age in days changed. Next finds them in the index of
// their password times (ageLayer, one per layer of the neighbourIndex)
// instead of reading every object: those whose time lies in a window of
// the limit, and those whose time of day lies in a window of the poll's
// interval (the others keep their day count).

// statesAge reports whether o may have a kerberoastable-account finding
// that states its password's age (kerberoastable, without the directory's
// Samba DNS accounts, which only makes the set larger). A change to any of
// these attributes changes the object, which joins the index again.
func statesAge(o *inventory.Object) bool {
	return o.Kind == inventory.KindUser && o.Enabled() && len(o.SPNs) > 0 && !o.PwdLastSet.IsZero()
}

// ageRef is an object's password time: Unix seconds and nanoseconds (times
// AD holds, 1601 to 30828, do not fit int64 nanoseconds). Its time of day
// (phase) is computed when read: 16 bytes an entry, not 24, in an index the
// daemon holds between polls (issue 9).
type ageRef struct {
	sec       int64
	nsec, obj int32
}

const dayNanos = int64(24 * time.Hour)

func newAgeRef(o *inventory.Object, pos int32) ageRef {
	sec, nsec := o.PwdLastSet.Unix(), int64(o.PwdLastSet.Nanosecond())
	return ageRef{sec: sec, nsec: int32(nsec), obj: pos}
}

// phase is the password time's nanoseconds since the start of its day.
func (a ageRef) phase() int64 { return phaseOf(a.sec, int64(a.nsec)) }

// phaseOf is a time's nanoseconds since the start of its (UTC) day: an age
// t-p is a whole number of days plus (phase(t)-phase(p)) mod one day.
func phaseOf(sec, nsec int64) int64 {
	s := sec % 86400
	if s < 0 {
		s += 86400
	}
	return s*int64(time.Second) + nsec
}

// ageLayer holds password times sorted by time, and their order by time of
// day as indexes in byTime (4 bytes an entry rather than a second copy).
type ageLayer struct {
	byTime  []ageRef
	byPhase []int32
}

// newAgeLayer sorts refs (which it may reorder) into a layer of their own
// size.
func newAgeLayer(refs []ageRef) ageLayer {
	if len(refs) == 0 {
		return ageLayer{}
	}
	byTime := slices.Clone(refs)
	slices.SortFunc(byTime, compareAgeTime)
	type phased struct {
		phase int64
		i     int32
	}
	phases := make([]phased, len(byTime))
	for i, a := range byTime {
		phases[i] = phased{phase: a.phase(), i: int32(i)}
	}
	slices.SortFunc(phases, func(a, b phased) int { return cmp.Compare(a.phase, b.phase) })
	byPhase := make([]int32, len(phases))
	for i, p := range phases {
		byPhase[i] = p.i
	}
	return ageLayer{byTime: byTime, byPhase: byPhase}
}

func compareAgeTime(a, b ageRef) int {
	if c := cmp.Compare(a.sec, b.sec); c != 0 {
		return c
	}
	return cmp.Compare(a.nsec, b.nsec)
}

func timeRef(t time.Time) ageRef { return ageRef{sec: t.Unix(), nsec: int32(t.Nanosecond())} }

// candidates calls fn with every password time whose kerberoastable
// finding may move between the check's two times (a superset: c.moved
// decides). From s to e (s before e), an age a moves when it crosses the
// limit (s-maxAge <= p < e-maxAge), or when (a(s), a(e)+guard] holds a
// whole day (ageMark's day count, with the float-hours guard of
// ageCheck.moved): p's time of day in (phase(s), phase(s)+e-s+guard],
// modulo a day. An age Time.Sub saturates at one time only (a password set
// 292 years before) keeps its day count: the largest Duration is 106,751
// days and almost 24 hours, and the age is within the interval of it at
// the other time. An interval of 23 hours or more (past that margin), or a
// zero time, makes every time a candidate.
func (l *ageLayer) candidates(c *ageCheck, fn func(ageRef)) {
	const guard = int64(time.Millisecond)
	s, e := c.then, c.now
	if e.Before(s) {
		s, e = e, s
	}
	span := e.Sub(s)
	if c.exactOnly || span+time.Duration(guard) >= 23*time.Hour {
		for _, a := range l.byTime {
			fn(a)
		}
		return
	}
	timeRange := func(from, to ageRef) { // [from, to)
		lo, _ := slices.BinarySearchFunc(l.byTime, from, compareAgeTime)
		hi, _ := slices.BinarySearchFunc(l.byTime, to, compareAgeTime)
		for _, a := range l.byTime[lo:max(lo, hi)] {
			fn(a)
		}
	}
	// Crossing the limit.
	timeRange(timeRef(s.Add(-c.maxAge)), timeRef(e.Add(-c.maxAge)))
	// A whole day of age reached.
	phaseRange := func(from, to int64) { // (from, to]
		byPhase := func(i int32, p int64) int { return cmp.Compare(l.byTime[i].phase(), p) }
		lo, _ := slices.BinarySearchFunc(l.byPhase, from+1, byPhase)
		hi, _ := slices.BinarySearchFunc(l.byPhase, to+1, byPhase)
		for _, i := range l.byPhase[lo:max(lo, hi)] {
			fn(l.byTime[i])
		}
	}
	from := phaseOf(s.Unix(), int64(s.Nanosecond()))
	to := from + int64(span) + guard
	phaseRange(from, min(to, dayNanos-1))
	if to >= dayNanos {
		phaseRange(-1, to-dayNanos)
	}
}

// aged returns the current positions, ascending, of the objects in the
// index that Next did not add (added: ascending) whose kerberoastable
// finding moves from c's first time to its second.
func (x *neighbourIndex) aged(c *ageCheck, cur []*inventory.Object, added []int32) []int32 {
	var out []int32
	check := func(gen int) func(ageRef) {
		return func(a ageRef) {
			p := x.current(gen, a.obj)
			if p < 0 {
				return
			}
			if _, isAdded := slices.BinarySearch(added, p); !isAdded && c.moved(cur[p]) {
				out = append(out, p)
			}
		}
	}
	x.base.ages.candidates(c, check(0))
	for i := range x.layers {
		x.layers[i].ages.candidates(c, check(i+1))
	}
	slices.Sort(out)
	return slices.Compact(out) // the windows may overlap
}
