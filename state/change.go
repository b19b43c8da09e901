package state

import (
	"slices"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// A daemon poll that changed k objects must cost the history in proportion
// to k, not to the domain (issue 9). The scanner says how a poll's snapshot
// was made from the one before (inventory.Change), the incremental audit how
// its result was (audit.ResultChange); the store keeps the last snapshot and
// result it recorded, and when the new ones were made from those it reads
// only the objects and findings removed and added. Every other one is the
// recorded one's value: an account the mirror holds as it is, a finding that
// already carries its FirstSeen (the result recorded last is the dated one
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
	// keys were unique.
	if base == nil || !s.uniqueKeys || len(s.accounts) != len(base.Objects) {
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
	removed := make(map[string]struct{}, len(c.Removed))
	for _, r := range c.Removed {
		removed[objectKey(base.Objects[r])] = struct{}{}
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
		prev, ok := s.accounts[key]
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
			if _, ok := s.accounts[key]; !ok {
				return fallBack()
			}
			gone = append(gone, key)
		}
	}
	p.deleted(s.accounts, gone, updates)
	return updates, true
}

// dateChanged is dateFindings from the result's change: it dates the added
// findings in place and compares only the removed and added ones with the
// recorded ones. False when there is no change from the last recorded
// result, or when an added finding already carries another date than the
// history's: it was published so (a reused audit), and must not be written.
func (s *Store) dateChanged(res audit.Result, snap *inventory.Snapshot, observed time.Time) (*findingDelta, bool) {
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
	for _, r := range removed {
		net[FindingKey(&base.Findings[r])]--
	}
	keys := make([]string, len(added))
	for i, a := range added {
		keys[i] = FindingKey(&res.Findings[a])
		net[keys[i]]++
	}
	fd := &findingDelta{out: res.Findings, put: map[string]findingRecord{}, del: map[string]findingRecord{},
		counts: make(map[string]int32, len(net))}
	// A new key's record is its last finding's, as in dateFindings.
	for i := len(added) - 1; i >= 0; i-- {
		if _, known := s.findings[keys[i]]; known {
			continue
		}
		if _, done := fd.put[keys[i]]; !done {
			fd.put[keys[i]] = s.newRecord(&res.Findings[added[i]], snap, observed)
		}
	}
	for _, a := range added {
		f := &res.Findings[a]
		if f.FirstSeen != nil && *f.FirstSeen != s.recordOf(fd, FindingKey(f)).FirstSeen {
			return nil, false
		}
	}
	for key, d := range net {
		before := int32(0)
		if _, ok := s.findings[key]; ok {
			before = 1 + s.extra[key]
		}
		after := before + d
		switch {
		case after < 0:
			return nil, false // not the recorded result after all
		case before > 0 && after == 0:
			fd.del[key] = s.findings[key]
		}
		fd.counts[key] = after
	}
	for i, a := range added {
		if f := &res.Findings[a]; f.FirstSeen == nil {
			first := s.recordOf(fd, keys[i]).FirstSeen
			f.FirstSeen = &first
		}
	}
	return fd, true
}

// recordOf is the record of the finding key: the recorded one, or the new
// one fd puts.
func (s *Store) recordOf(fd *findingDelta, key string) findingRecord {
	if rec, ok := s.findings[key]; ok {
		return rec
	}
	return fd.put[key]
}

// samsOf is the DN index of snap (samindex.go), built when first needed.
func (s *Store) samsOf(snap *inventory.Snapshot) *samIndex {
	if s.sams == nil || s.sams.snap != snap {
		s.sams = newSAMIndex(snap)
	}
	return s.sams
}

// followSAMs brings the DN index to snap along its change, or drops it
// (samsOf rebuilds it when next needed).
func (s *Store) followSAMs(snap *inventory.Snapshot) {
	if s.sams != nil && !s.sams.follow(snap) {
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
