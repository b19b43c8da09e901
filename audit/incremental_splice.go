package audit

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spnaudit/spnaudit/inventory"
)

// hood is the neighbourhood of a change: the objects whose findings may
// differ (their DNs: a finding naming one is replaced) and the objects the
// rules must see to judge them again.
type hood struct {
	judged []int32             // positions in the new objects, ascending
	dns    map[uint64][]string // foldHash(DN) -> DNs whose findings are replaced
	quick  *[1024]uint64       // a bit per quickKey of those DNs, mod 65,536 (touches)
	slow   bool                // one of them has no quickKey
	seen   map[uint64]struct{} // keys already looked up
	in     map[int32]struct{}  // positions already in judged
	ix     *neighbourIndex     // the new objects' keys
	cur    []*inventory.Object // the new objects
	keys   []uint64            // scratch
	hosts  []uint64            // scratch
	buf    []uint64            // scratch
}

// neighbourhood finds, for a change (the previous versions of the removed
// or changed objects, the new versions of the added or changed ones, and
// the objects whose password age alone moved), the objects whose findings
// may differ and those the rules need to judge them. A finding depends on
// its object and on the objects that share a key with it (D1, the rules'
// lookups: incremental_keys.go). So the findings that can differ are those
// of the subjects: the changed objects and every object sharing a key with
// one, old or new version. A finding replaced is one naming a subject,
// whose own object may be a hop further; judging that one needs its
// neighbours too: the rules run on the subjects and two hops around them.
func neighbourhood(ix *neighbourIndex, old, cur []*inventory.Object, added, removed, aged []int32, hosts []uint64) *hood {
	h := &hood{dns: map[uint64][]string{}, quick: new([1024]uint64), seen: map[uint64]struct{}{}, in: map[int32]struct{}{}, ix: ix, cur: cur}
	var subjects []int32
	add := func(p int32) {
		if _, ok := h.in[p]; !ok {
			h.in[p] = struct{}{}
			subjects = append(subjects, p)
		}
	}
	for _, p := range added {
		add(p)
	}
	for _, p := range aged {
		add(p)
	}
	for _, p := range removed {
		h.reach(old[p], add)
	}
	for _, p := range added {
		h.reach(cur[p], add)
	}
	for _, k := range hosts { // hosts whose DNS answer changed
		if _, ok := h.seen[k]; !ok {
			h.seen[k] = struct{}{}
			ix.each(k, add)
		}
	}
	for _, p := range subjects {
		h.addDN(cur[p].DN)
	}
	for _, p := range removed {
		h.addDN(old[p].DN)
	}
	frontier := subjects
	hops := 2
	if omit.hop {
		hops = 1
	}
	for range hops {
		var next []int32
		for _, p := range frontier {
			h.reach(cur[p], func(q int32) {
				if _, ok := h.in[q]; !ok {
					h.in[q] = struct{}{}
					next = append(next, q)
				}
			})
		}
		frontier = next
	}
	h.judged = make([]int32, 0, len(h.in))
	for p := range h.in {
		h.judged = append(h.judged, p)
	}
	slices.Sort(h.judged)
	return h
}

// reach calls fn with every object that shares a key with o, a computer's
// names counting as one key (starKeys). Keys looked up before are skipped:
// their objects were reached then.
func (h *hood) reach(o *inventory.Object, fn func(int32)) {
	h.keys, h.hosts = objectKeys(o, h.keys[:0], h.hosts[:0])
	// A host label that names a computer brings the computer's other names.
	for _, k := range h.hosts {
		if omit.bridge {
			break
		}
		h.ix.each(k, func(p int32) {
			if c := h.cur[p]; c.Kind == inventory.KindComputer {
				h.buf = nameKeys(c, h.buf[:0])
				h.keys = append(h.keys, h.buf...)
			}
		})
	}
	for _, k := range h.keys {
		if _, ok := h.seen[k]; ok {
			continue
		}
		h.seen[k] = struct{}{}
		h.ix.each(k, fn)
	}
}

func (h *hood) addDN(dn string) {
	if q, ok := quickKey(dn); ok {
		h.quick[q>>6&1023] |= 1 << (q & 63)
	} else {
		h.slow = true
	}
	k := foldHash(dn)
	if !slices.Contains(h.dns[k], dn) {
		h.dns[k] = append(h.dns[k], dn)
	}
}

// touches reports whether f names an object of the neighbourhood's
// subjects (compared as DNs are: ignoring case).
func (h *hood) touches(f *Finding) bool {
	for _, a := range f.Accounts {
		if q, ok := quickKey(a); ok && !h.slow && h.quick[q>>6&1023]&(1<<(q&63)) == 0 {
			continue // no DN of the neighbourhood starts as this one
		}
		for _, dn := range h.dns[foldHash(a)] {
			if strings.EqualFold(a, dn) {
				return true
			}
		}
	}
	return false
}

// quickKey hashes the first bytes of a DN, lower-cased, when they are
// ASCII: every finding of the previous audit is tested, and hashing its
// DNs in full, folding Unicode, cost more than the rest of a small poll's
// audit. Two DNs equal but for case whose first bytes are ASCII have the
// same first bytes but for case (a non-ASCII rune that folds to an ASCII
// letter, such as the Kelvin sign, has no quickKey, and is compared in
// full).
func quickKey(dn string) (uint64, bool) {
	h := uint64(fnvOffset64)
	for i := range min(len(dn), 24) {
		c := dn[i]
		if c >= utf8.RuneSelf {
			return 0, false
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		h = (h ^ uint64(c)) * fnvPrime64
	}
	return h, true
}

// rejudge runs the rules on the neighbourhood's objects (in their order in
// snap, so that every "first holder" is the same) and replaces, in prev,
// the findings naming a subject with theirs. It returns the result, which
// says how it was made from prev (SetChange), and the indexes of its
// findings and suppressed findings (fx, sx: prev's).
func rejudge(prev Result, fx, sx *findingIndex, snap *inventory.Snapshot, cfg Config, h *hood, names nameIndex) (Result, *findingIndex, *findingIndex) {
	positions := h.judged
	if len(snap.Directory.DNSNames) == 0 && len(cfg.ResolvedHosts) == 0 &&
		!slices.ContainsFunc(positions, func(p int32) bool { return snap.Objects[p].Kind == inventory.KindComputer }) {
		// ghost-spn says it cannot judge an inventory without any
		// computer: the directory has some (Next checked), so the
		// neighbourhood must have one too. Nothing relates it to the
		// subjects, so it changes none of their findings.
		if c := slices.IndexFunc(snap.Objects, func(o *inventory.Object) bool { return o.Kind == inventory.KindComputer }); c >= 0 {
			positions = append(slices.Clone(positions), int32(c))
			slices.Sort(positions)
		}
	}
	sub := *snap
	sub.Objects = make([]*inventory.Object, len(positions))
	for i, p := range positions {
		sub.Objects[i] = snap.Objects[p]
	}
	// The DNS records are the directory's: their index is the previous
	// audit's, not built again for every neighbourhood.
	sub.Directory.DNSNames = nil
	ix := newIndex(&sub, cfg)
	sub.Directory.DNSNames = snap.Directory.DNSNames
	ix.dnsNames = names
	all := checkAll(ix)
	kept := all[:0]
	for i := range all {
		if h.touches(&all[i]) {
			kept = append(kept, all[i])
		}
	}
	kept = slices.Clip(kept)
	normalize(kept)
	dateFindings(&sub, kept)
	sortFindings(kept)
	part := applySuppressions(ix, kept, compileSuppressions(cfg.Ignore))
	asFinding := func(f *Finding) *Finding { return f }
	asSuppressed := func(s *SuppressedFinding) *Finding { return &s.Finding }
	findings, removedF, addedF := splice(prev.Findings, part.Findings, asFinding, touchedIn(fx, h, prev.Findings, asFinding), sameJudgement)
	// The suppressions are prev's (Next runs in full when they change or
	// expire): a finding judged again is suppressed by the same one.
	suppressed, removedS, addedS := splice(prev.Suppressed, part.Suppressed, asSuppressed, touchedIn(sx, h, prev.Suppressed, asSuppressed),
		func(a, b *SuppressedFinding) bool { return sameJudgement(&a.Finding, &b.Finding) })
	out := Result{Findings: findings, Suppressed: suppressed, ExpiredSuppressions: prev.ExpiredSuppressions}
	if err := out.SetChange(prev, removedF, addedF, removedS, addedS); err != nil {
		panic(err) // splice's positions are its own: a bug
	}
	return out, updateFindingIndex(fx, removedF, addedF, findings, asFinding), updateFindingIndex(sx, removedS, addedS, suppressed, asSuppressed)
}

// splice returns old without the findings at touched (ascending positions:
// those naming a subject), merged with fresh; both are in compareFindings'
// order. A touched finding that fresh holds again (same reports it) stays
// as it was, with what the caller added to it (FirstSeen), and the fresh
// copy is dropped: removed lists the positions in old of the findings
// dropped, added those in the result of the fresh findings kept (a
// ResultChange's lists). Where each fresh finding goes is a binary search
// (after every old finding that does not sort after it); the old findings
// are copied in runs, the only work in proportion to old's length.
func splice[T any](old, fresh []T, finding func(*T) *Finding, touched []int32, same func(a, b *T) bool) (out []T, removed, added []int32) {
	at := make([]int, len(fresh))
	// matched[q]: old[q] is touched and fresh holds it again.
	matched := map[int]bool{}
	dropFresh := make([]bool, len(fresh))
	for j := range fresh {
		f := finding(&fresh[j])
		at[j], _ = slices.BinarySearchFunc(old, f, func(o T, f *Finding) int {
			if compareFindingRefs(finding(&o), f) <= 0 {
				return -1
			}
			return 1
		})
		// Its equal, if old has one, sorts the same: just before.
		for q := at[j] - 1; q >= 0 && compareFindingRefs(finding(&old[q]), f) == 0; q-- {
			if _, isTouched := slices.BinarySearch(touched, int32(q)); isTouched && !matched[q] && same(&old[q], &fresh[j]) {
				matched[q], dropFresh[j] = true, true
				break
			}
		}
	}
	for _, q := range touched {
		if !matched[int(q)] {
			removed = append(removed, q)
		}
	}
	if len(removed) == 0 && len(matched) == len(fresh) {
		// Judged again, every finding is as it was: the list is old's
		// (the copy is the part of a poll's audit that grows with the
		// directory's findings: 2.4 ms at 50,000).
		return old, nil, nil
	}
	out = make([]T, 0, len(old)+len(fresh)-len(matched)-len(removed))
	run, r := 0, 0 // the start of the run of kept old findings; the next removed
	for j := range fresh {
		// The removed findings before fresh[j]'s place end runs first.
		for ; r < len(removed) && int(removed[r]) < at[j]; r++ {
			out = append(out, old[run:removed[r]]...)
			run = int(removed[r]) + 1
		}
		if !dropFresh[j] {
			out = append(out, old[run:max(run, at[j])]...)
			run = max(run, at[j])
			added = append(added, int32(len(out)))
			out = append(out, fresh[j])
		}
	}
	for ; r < len(removed); r++ {
		out = append(out, old[run:removed[r]]...)
		run = int(removed[r]) + 1
	}
	out = append(out, old[run:]...)
	return out, removed, added
}

// sameJudgement reports whether a rule's finding a is b again: every field
// the rules set (FirstSeen is the history's).
func sameJudgement(a, b *Finding) bool {
	return a.Rule == b.Rule && a.Severity == b.Severity && a.SPN == b.SPN && a.Message == b.Message &&
		a.partnerSPN() == b.partnerSPN() && a.ChangedOn == b.ChangedOn && sameTimeRef(a.ChangedAt, b.ChangedAt) &&
		sameStrings(a.Accounts, b.Accounts) && sameStrings(a.Remediation, b.Remediation) && sameStrings(a.References, b.References)
}

// sameStrings is slices.Equal telling nil from empty, as reflect.DeepEqual
// (and so the differential test) does.
func sameStrings(a, b []string) bool { return (a == nil) == (b == nil) && slices.Equal(a, b) }

func sameTimeRef(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// compareFindingRefs is compareFindings without copying the findings.
func compareFindingRefs(a, b *Finding) int {
	if ra, rb := a.Severity.Rank(), b.Severity.Rank(); ra != rb {
		if ra > rb {
			return -1
		}
		return 1
	}
	if c := strings.Compare(a.Rule, b.Rule); c != 0 {
		return c
	}
	return compareAfterRule(a, b)
}
