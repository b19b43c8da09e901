package state

import (
	"encoding/json"
	"fmt"
	"hash/maphash"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
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
		if got := s.objKeys.members(); !maps.Equal(got, want) {
			t.Fatalf("%s: %d key hashes, want %d", when, len(got), len(want))
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
	if s.findings == nil && s.lastResult == nil && s.fkeys == nil {
		return // nothing held: the next Record reads the bucket
	}
	if s.findings == nil {
		dups := 0
		for _, n := range counts {
			if n > 1 {
				dups++
			}
		}
		if s.lastResult == nil || len(s.fkeys.members()) != len(findings) || len(s.fextra) != dups {
			t.Fatalf("%s: no findings mirror, and %d key counts for %d keys on disk", when, len(s.fkeys.members()), len(findings))
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
		h := s.keyHash(k)
		ok := s.fkeys.has(h)
		if n := 1 + s.fextra[h]; !ok || n != counts[k] {
			t.Fatalf("%s: finding %q counted %d (%v) in memory, %d in the last result", when, k, n, ok, counts[k])
		}
		for i := range s.lastResult.Findings {
			if f := &s.lastResult.Findings[i]; FindingKey(f) == k && !f.FirstSeen.Equal(rec.FirstSeen) {
				t.Fatalf("%s: finding %q first seen %v in the last result, %s on disk", when, k, f.FirstSeen, raw)
			}
		}
	}
}

// TestRecordKeysShareHash: finding keys that share a hash give the same
// journal, dates and state as the full comparison: two new keys on one
// hash (the store then reads the bucket on the next Record), and a new
// key on the hash of a recorded one (checked against the bucket: the full
// comparison runs).
func TestRecordKeysShareHash(t *testing.T) {
	shared := func(k string) uint64 {
		if strings.Contains(k, "shared") {
			return 1
		}
		return maphash.String(coarseSeed, k) | 2 // never 1
	}
	lean, full := open(t, t.TempDir()), open(t, t.TempDir())
	lean.testHash = shared
	a, b := obj("guid-a", "svc_a", "HTTP/a"), obj("guid-b", "svc_b", "HTTP/b")
	f := func(spn string) audit.Finding {
		return audit.Finding{Rule: audit.RuleGhostSPN, Severity: audit.SeverityHigh, SPN: spn, Accounts: []string{a.DN}}
	}
	polls := [][]audit.Finding{
		{f("HTTP/one")},
		{f("HTTP/one"), f("HTTP/shared1"), f("HTTP/shared2")}, // two new keys, one hash
		{f("HTTP/one"), f("HTTP/shared2")},                    // one resolves: read from the bucket
		{f("HTTP/shared3")},                                   // a new key on shared2's hash
		{f("HTTP/shared3"), f("HTTP/two")},
	}
	all := func(n int) []int32 {
		p := make([]int32, n)
		for i := range p {
			p[i] = int32(i)
		}
		return p
	}
	var prevSnap *inventory.Snapshot
	var prevRes audit.Result
	for i, fs := range polls {
		snap := snapAt(t0.Add(time.Duration(i)*time.Minute), a, b)
		res := audit.Result{Findings: fs}
		if i > 0 {
			snap.Objects = prevSnap.Objects
			if err := res.SetChange(prevRes, all(len(prevRes.Findings)), all(len(fs)), nil, nil); err != nil {
				t.Fatal(err)
			}
		}
		fullSnap := *snap
		fullSnap.Objects = slices.Clone(snap.Objects)
		want, err := full.Record(&fullSnap, slices.Clone(fs), Poll{Mode: "incremental"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := lean.RecordResult(snap, res, Poll{Mode: "incremental"})
		if err != nil {
			t.Fatal(err)
		}
		if diff := findingsDiff(got, want); diff != "" {
			t.Fatalf("poll %d: %s", i, diff)
		}
		compareStores(t, fmt.Sprintf("poll %d", i), lean, full)
		prevSnap, prevRes = snap, audit.Result{Findings: got}
	}
	if c, _, _ := lean.Changes(Query{}); len(c) != 7 {
		t.Fatalf("%d journal entries, want shared1 and shared2 appeared, shared1 resolved, one resolved, shared3 appeared, shared2 resolved, two appeared", len(c))
	}
}
