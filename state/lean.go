package state

import (
	"encoding/json"
	"fmt"
	"hash/maphash"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// The mirrors of the accounts and findings buckets (s.accounts, s.findings,
// s.extra) held 40 MiB at 100,000 objects (issue 9). They are needed to
// compare the first scan after Open with what is on disk. Once a Record
// succeeded, the snapshot and result it recorded (s.lastSnap,
// s.lastResult, which the daemon holds anyway) say the same: the accounts
// are the snapshot's objects when their keys are unique, and each finding
// of the result carries its key's first_seen. So after a Record the store
// drops the mirrors and keeps only what those cannot say cheaply:
//
//   - objKeys, a hash of every object's key, to see an added object take
//     the key of one the change kept (the full comparison then runs);
//   - fkeys, a hash of every finding key, and fextra, for the hashes of
//     keys that more than one finding has, how many more;
//
// while the record of a finding that resolved is read from disk, and the
// first_seen of a recorded key from a removed finding that had it (every
// finding of lastResult carries its key's), from disk otherwise. An entry
// is never shared by two keys: a collision keeps the mirror, and a key
// found by its hash is checked against the bucket. The full comparison
// builds the mirrors it needs for one Record: the accounts from lastSnap,
// the findings from disk.

// keyRecord is what the history holds of one finding key.
type keyRecord struct {
	first time.Time
	n     int32 // findings with the key
}

var keySeed = maphash.MakeSeed()

func (s *Store) keyHash(key string) uint64 {
	if s.testHash != nil {
		return s.testHash(key)
	}
	return maphash.String(keySeed, key)
}

// accountOf is the account an object is recorded as.
func accountOf(o *inventory.Object) account {
	return account{DN: o.DN, SAM: o.SAMAccountName, SPNs: o.SPNs}
}

// accountMirror is the accounts mirror: the loaded one, or one built from
// lastSnap (whose keys are then unique) for this Record.
func (s *Store) accountMirror() map[string]account {
	if s.accounts != nil || s.lastSnap == nil {
		return s.accounts
	}
	return mirrorOf(s.lastSnap.Objects)
}

// mirrorOf is the accounts mirror of objects with unique keys.
func mirrorOf(objs []*inventory.Object) map[string]account {
	m := make(map[string]account, len(objs))
	for _, o := range objs {
		m[objectKey(o)] = accountOf(o)
	}
	return m
}

// settleAccounts leaves the accounts as snap's after a commit: updates
// applied to the mirror, or, when snap's keys are unique, no mirror but
// their hashes (along c, snap's change from the last snapshot, when the
// mirror was already dropped).
// It runs before lastSnap becomes snap.
func (s *Store) settleAccounts(snap *inventory.Snapshot, mirror map[string]account, updates map[string]*account, unique bool) {
	if mirror == nil && s.objKeys != nil { // read by its change
		c := snap.ChangeFrom(s.lastSnap)
		if c == nil {
			return // the same objects
		}
		for _, r := range c.Removed {
			s.objKeys.remove(s.keyHash(objectKey(s.lastSnap.Objects[r])))
		}
		ok := true
		for _, a := range c.Added {
			h := s.keyHash(objectKey(snap.Objects[a]))
			if s.objKeys.has(h) {
				ok = false // two keys, one hash
			}
			s.objKeys.add(h)
		}
		if !ok { // snap's keys are unique: its objects are the accounts
			s.accounts, s.objKeys = mirrorOf(snap.Objects), nil
		}
		return
	}
	if mirror == nil {
		mirror = s.accountMirror()
	}
	for key, a := range updates {
		if a == nil {
			delete(mirror, key)
		} else {
			mirror[key] = *a
		}
	}
	s.accounts, s.objKeys = mirror, nil
	if !unique {
		return
	}
	hashes := make([]uint64, len(snap.Objects))
	for i, o := range snap.Objects {
		hashes[i] = s.keyHash(objectKey(o))
	}
	if set, unique := newHashSet(hashes); unique {
		s.accounts, s.objKeys = nil, set
	}
}

// findingMirror is the findings mirror: the loaded one, or the findings
// bucket read for this Record.
func (s *Store) findingMirror(tx *bolt.Tx) (map[string]findingRecord, error) {
	if s.findings != nil {
		return s.findings, nil
	}
	if tx == nil {
		return nil, fmt.Errorf("no database")
	}
	return readFindings(tx)
}

func readFindings(tx *bolt.Tx) (map[string]findingRecord, error) {
	m := map[string]findingRecord{}
	err := tx.Bucket(bucketFindings).ForEach(func(k, v []byte) error {
		var f findingRecord
		if err := json.Unmarshal(v, &f); err != nil {
			return fmt.Errorf("findings %q: %w", k, err)
		}
		m[string(k)] = f
		return nil
	})
	return m, err
}

// recorded is the recorded count and first_seen of the finding key
// (first is its first_seen when a removed finding had it); false when a
// key's hash turns out to be another key's, or the bucket cannot say (the
// full comparison must run). fb is the findings bucket, nil when the
// database could not be opened.
func (s *Store) recorded(key string, first map[string]time.Time, fb *bolt.Bucket) (keyRecord, bool) {
	if s.findings != nil {
		rec, ok := s.findings[key]
		if !ok {
			return keyRecord{}, true
		}
		return keyRecord{first: rec.FirstSeen, n: 1 + s.extra[key]}, true
	}
	h := s.keyHash(key)
	if !s.fkeys.has(h) {
		return keyRecord{}, true
	}
	if fb == nil {
		return keyRecord{}, false
	}
	v := fb.Get([]byte(key))
	if v == nil {
		return keyRecord{}, false
	}
	e := keyRecord{n: 1 + s.fextra[h]}
	if t, ok := first[key]; ok {
		e.first = t
		return e, true
	}
	var rec struct {
		FirstSeen time.Time `json:"first_seen"`
	}
	if json.Unmarshal(v, &rec) != nil {
		return keyRecord{}, false
	}
	e.first = rec.FirstSeen
	return e, true
}

// resolvedRecord is the record of a key whose findings all resolved:
// false when it cannot be read (the full comparison must run).
func (s *Store) resolvedRecord(key string, fb *bolt.Bucket) (findingRecord, bool) {
	if s.findings != nil {
		return s.findings[key], true
	}
	if fb == nil {
		return findingRecord{}, true // the Record fails: nothing is journaled
	}
	var rec findingRecord
	v := fb.Get([]byte(key))
	return rec, v != nil && json.Unmarshal(v, &rec) == nil
}

// settleFindings leaves the findings as fd's after a commit: the mirror
// updated, or, when no two keys share a hash, no mirror but their counts.
// False when two new keys share a hash: the store then keeps neither, and
// the next Record must read the bucket (lastResult must not be kept).
func (s *Store) settleFindings(fd *findingDelta) bool {
	if fd.cur == nil && s.findings == nil { // a change, mirror dropped
		for key, n := range fd.counts {
			h := s.keyHash(key)
			if n == 0 {
				s.fkeys.remove(h)
				delete(s.fextra, h)
				continue
			}
			if _, isNew := fd.put[key]; isNew {
				if s.fkeys.has(h) { // two new keys, one hash
					s.fkeys, s.fextra = nil, nil
					return false
				}
			}
			s.fkeys.add(h)
			if n > 1 {
				s.fextra[h] = n - 1
			} else {
				delete(s.fextra, h)
			}
		}
		return true
	}
	s.applyFindings(fd)
	keys := make([]uint64, 0, len(s.findings))
	extra := map[uint64]int32{}
	for key := range s.findings {
		h := s.keyHash(key)
		keys = append(keys, h)
		if n := s.extra[key]; n > 0 {
			extra[h] = n
		}
	}
	if set, unique := newHashSet(keys); unique {
		s.findings, s.extra, s.fkeys, s.fextra = nil, nil, set, extra
	}
	return true
}

// datedFromKeys is dateFindings' dating without the mirror, for a Record
// that failed before it could read the findings bucket: from the last
// result's dates, now for new keys.
func (s *Store) datedFromKeys(findings []audit.Finding, observed time.Time) []audit.Finding {
	firsts := map[string]time.Time{}
	if s.lastResult != nil {
		for i := range s.lastResult.Findings {
			if f := &s.lastResult.Findings[i]; f.FirstSeen != nil {
				firsts[FindingKey(f)] = *f.FirstSeen
			}
		}
	}
	out := make([]audit.Finding, len(findings))
	dates := dateTable{}
	for i, f := range findings {
		first, ok := firsts[FindingKey(&f)]
		if !ok {
			first = observed
		}
		f.FirstSeen = dates.of(first)
		out[i] = f
	}
	return out
}
