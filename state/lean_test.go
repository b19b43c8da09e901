package state

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// diskState is what s has committed: the accounts and findings buckets,
// raw.
func diskState(t *testing.T, s *Store) (accounts, findings map[string]string) {
	t.Helper()
	db, err := s.open(true)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	accounts, findings = map[string]string{}, map[string]string{}
	if err := db.View(func(tx *bolt.Tx) error {
		for _, b := range []struct {
			name []byte
			m    map[string]string
		}{{bucketAccounts, accounts}, {bucketFindings, findings}} {
			if err := tx.Bucket(b.name).ForEach(func(k, v []byte) error { b.m[string(k)] = string(v); return nil }); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return accounts, findings
}

// checkMemory fails unless what s holds in memory says what its buckets
// say: the mirrors when loaded; else lastSnap's objects and the hashes of
// their keys, and for each finding key its count in lastResult and its
// first_seen.
func checkMemory(t *testing.T, when string, s *Store) {
	t.Helper()
	accounts, findings := diskState(t, s)
	mirror := s.accounts
	if mirror == nil {
		if s.lastSnap == nil || !s.uniqueKeys {
			t.Fatalf("%s: no accounts mirror, and no snapshot of unique keys", when)
		}
		mirror = mirrorOf(s.lastSnap.Objects)
		want := map[uint64]struct{}{}
		for _, o := range s.lastSnap.Objects {
			want[s.keyHash(objectKey(o))] = struct{}{}
		}
		if !maps.Equal(s.objKeys, want) {
			t.Fatalf("%s: %d key hashes, want %d", when, len(s.objKeys), len(want))
		}
	}
	if len(mirror) != len(accounts) {
		t.Fatalf("%s: %d accounts in memory, %d on disk", when, len(mirror), len(accounts))
	}
	for k, raw := range accounts {
		var a account
		if err := json.Unmarshal([]byte(raw), &a); err != nil {
			t.Fatal(err)
		}
		m, ok := mirror[k]
		if !ok || m.DN != a.DN || m.SAM != a.SAM || !slices.Equal(m.SPNs, a.SPNs) {
			t.Fatalf("%s: account %q is %+v in memory, %s on disk", when, k, m, raw)
		}
	}
	// The counts of the keys of the last result.
	counts := map[string]int32{}
	if s.lastResult != nil {
		for i := range s.lastResult.Findings {
			counts[FindingKey(&s.lastResult.Findings[i])]++
		}
		if len(counts) != len(findings) {
			t.Fatalf("%s: %d finding keys in the last result, %d on disk", when, len(counts), len(findings))
		}
	}
	if s.findings == nil {
		if s.lastResult == nil || len(s.fkeys) != len(findings) {
			t.Fatalf("%s: no findings mirror, and %d key counts for %d keys on disk", when, len(s.fkeys), len(findings))
		}
	} else if len(s.findings) != len(findings) {
		t.Fatalf("%s: %d findings in memory, %d on disk", when, len(s.findings), len(findings))
	}
	for k, raw := range findings {
		var rec findingRecord
		if err := json.Unmarshal([]byte(raw), &rec); err != nil {
			t.Fatal(err)
		}
		if s.findings != nil {
			got, _ := json.Marshal(s.findings[k])
			if string(got) != raw {
				t.Fatalf("%s: finding %q is %s in memory, %s on disk", when, k, got, raw)
			}
			if s.lastResult != nil && 1+s.extra[k] != counts[k] {
				t.Fatalf("%s: finding %q counted %d, %d in the last result", when, k, 1+s.extra[k], counts[k])
			}
			continue
		}
		e, ok := s.fkeys[s.keyHash(k)]
		if !ok || !e.first.Equal(rec.FirstSeen) || e.n != counts[k] {
			t.Fatalf("%s: finding %q is %+v in memory, %s on disk, %d in the last result", when, k, e, raw, counts[k])
		}
	}
}
