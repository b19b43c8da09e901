package state

import (
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// A daemon poll that changed k objects must cost the history in proportion
// to k, not to the domain (issue 9). The scanner says how a poll's snapshot
// was made from the one before (inventory.Change), the incremental audit how
// its result was (audit.ResultChange); the store keeps the last snapshot and
// result it recorded, and when the new ones were made from those it reads
// only the objects and findings removed and added. Every other one is the
// recorded one's value: an account the last snapshot holds as it is (the
// mirror, dropped after a Record: lean.go), a finding that already carries
// its FirstSeen (the result recorded last is the dated one
// Record returned). Anything it cannot vouch for falls back to the full
// comparison (diffAccounts, dateFindings), whose output this must equal
// (TestRecordChangeMatchesFull).

// diffChanged is diffAccounts from the snapshot's change: false when there
// is none from the last recorded snapshot, or when the keys would not be
// unique (two objects with one objectGUID), which the full comparison
// handles its own way.
func (s *Store) diffChanged(p *pass) (map[string]*account, bool) {
	base := s.lastSnap
	// The mirror holds one account per base object exactly when the base's
	// keys were unique; without it, the base's objects are the accounts.
	if base == nil || !s.uniqueKeys || s.accounts != nil && len(s.accounts) != len(base.Objects) {
		return nil, false
	}
	updates := map[string]*account{}
	if sameObjects(p.snap.Objects, base.Objects) {
		return updates, true
	}
	c := p.snap.ChangeFrom(base)
	if c == nil {
		return nil, false
	}
	removed := make(map[string]int32, len(c.Removed))
	for _, r := range c.Removed {
		removed[objectKey(base.Objects[r])] = r
	}
	// prevOf is the recorded account at key; without the mirror, a key
	// that is no removed object's is only known by its hash (a kept
	// object's, or in all likelihood so: either way the full comparison
	// runs).
	prevOf := func(key string) (account, bool) {
		if s.accounts != nil {
			a, ok := s.accounts[key]
			return a, ok
		}
		if r, ok := removed[key]; ok {
			return accountOf(base.Objects[r]), true
		}
		return account{}, s.objKeys.has(s.keyHash(key))
	}
	start := len(p.changes)
	fallBack := func() (map[string]*account, bool) {
		p.changes = p.changes[:start]
		return nil, false
	}
	added := make(map[string]struct{}, len(c.Added))
	for _, a := range c.Added {
		o := p.snap.Objects[a]
		key := objectKey(o)
		if _, twice := added[key]; twice {
			return fallBack()
		}
		added[key] = struct{}{}
		prev, ok := prevOf(key)
		if ok {
			if _, replaced := removed[key]; !replaced {
				return fallBack() // the key of an object the change kept
			}
			if prev.DN == o.DN && prev.SAM == o.SAMAccountName && slices.Equal(prev.SPNs, o.SPNs) {
				continue
			}
		}
		updates[key] = &account{DN: o.DN, SAM: o.SAMAccountName, SPNs: o.SPNs}
		p.spnChanges(prev.SPNs, o)
	}
	var gone []string
	for key := range removed {
		if _, back := added[key]; !back {
			if _, ok := prevOf(key); !ok {
				return fallBack()
			}
			gone = append(gone, key)
		}
	}
	p.deleted(func(key string) account { a, _ := prevOf(key); return a }, gone, updates)
	return updates, true
}

// dateChanged is dateFindings from the result's change: it dates the added
// findings in place and compares only the removed and added ones with the
// recorded ones. False when there is no change from the last recorded
// result, or when an added finding already carries another date than the
// history's: it was published so (a reused audit), and must not be written.
// fb is the findings bucket, read while the mirror is dropped (lean.go).
func (s *Store) dateChanged(res audit.Result, snap *inventory.Snapshot, observed time.Time, fb *bolt.Bucket) (*findingDelta, bool) {
	base := s.lastResult
	if base == nil {
		return nil, false
	}
	var removed, added []int32
	if !sameFindings(res.Findings, base.Findings) {
		c := res.ChangeFrom(*base)
		if c == nil {
			return nil, false
		}
		removed, added = c.RemovedFindings, c.AddedFindings
	}
	net := make(map[string]int32, len(removed)+len(added))
	first := make(map[string]time.Time, len(removed)) // of the removed findings' keys
	for _, r := range removed {
		f := &base.Findings[r]
		key := FindingKey(f)
		net[key]--
		if f.FirstSeen != nil {
			first[key] = *f.FirstSeen
		}
	}
	keys := make([]string, len(added))
	for i, a := range added {
		keys[i] = FindingKey(&res.Findings[a])
		net[keys[i]]++
	}
	// What the history holds of each key touched: its count and date.
	before := make(map[string]keyRecord, len(net))
	for key := range net {
		rec, ok := s.recorded(key, first, fb)
		if !ok {
			return nil, false
		}
		before[key] = rec
	}
	fd := &findingDelta{out: res.Findings, put: map[string]findingRecord{}, del: map[string]findingRecord{},
		counts: make(map[string]int32, len(net))}
	// A new key's record is its last finding's, as in dateFindings.
	for i := len(added) - 1; i >= 0; i-- {
		if before[keys[i]].n > 0 {
			continue
		}
		if _, done := fd.put[keys[i]]; !done {
			fd.put[keys[i]] = s.newRecord(&res.Findings[added[i]], snap, observed)
		}
	}
	firstOf := func(key string) time.Time {
		if b := before[key]; b.n > 0 {
			return b.first
		}
		return fd.put[key].FirstSeen
	}
	for i, a := range added {
		f := &res.Findings[a]
		if f.FirstSeen != nil && *f.FirstSeen != firstOf(keys[i]) {
			return nil, false
		}
	}
	for key, d := range net {
		n := before[key].n
		after := n + d
		switch {
		case after < 0:
			return nil, false // not the recorded result after all
		case n > 0 && after == 0:
			rec, ok := s.resolvedRecord(key, fb)
			if !ok {
				return nil, false
			}
			fd.del[key] = rec
		}
		fd.counts[key] = after
	}
	dates := dateTable{}
	for i, a := range added {
		if f := &res.Findings[a]; f.FirstSeen == nil {
			f.FirstSeen = dates.of(firstOf(keys[i]))
		}
	}
	return fd, true
}

// samsOf is the DN index of snap (samindex.go), built when first needed.
func (s *Store) samsOf(snap *inventory.Snapshot) *samIndex {
	if s.sams == nil || s.sams.snap != snap {
		s.sams = newSAMIndex(snap)
	}
	return s.sams
}

// samOf is the sAMAccountName of snap's object whose DN is dn in lower
// case: by binary search when snap is in the scanner's order
// (dnsearch.go), from the DN index otherwise.
func (s *Store) samOf(snap *inventory.Snapshot, dn string) string {
	if s.searchable(snap) {
		return searchSAM(snap.Objects, dn)
	}
	return s.samsOf(snap).lookup(dn)
}

// followSAMs follows snap's order (O(k) along a change), and brings the
// DN index to snap along its change or drops it (samsOf rebuilds it when
// next needed; a searchable snapshot needs none).
func (s *Store) followSAMs(snap *inventory.Snapshot) {
	if s.searchable(snap) || s.sams != nil && !s.sams.follow(snap) {
		s.sams = nil
	}
}

// sameObjects reports whether a and b are the same list (a snapshot's
// objects are immutable).
func sameObjects(a, b []*inventory.Object) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// sameFindings reports whether a and b are the same list.
func sameFindings(a, b []audit.Finding) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}
