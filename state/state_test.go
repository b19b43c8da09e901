package state

import (
	"crypto/sha256"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

func open(t *testing.T, dir string, opts ...func(*Options)) *Store {
	t.Helper()
	o := Options{Dir: dir, Logger: slog.New(slog.DiscardHandler)}
	for _, f := range opts {
		f(&o)
	}
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// testGUID is a made-up GUID named by label (the zero GUID for "": a
// source without GUIDs).
func testGUID(label string) inventory.GUID {
	var g inventory.GUID
	if label != "" {
		h := sha256.Sum256([]byte(label))
		copy(g[:], h[:])
	}
	return g
}

func obj(guid, sam string, spns ...string) inventory.Object {
	return inventory.Object{GUID: testGUID(guid), DN: "CN=" + sam + ",OU=Apps,DC=example,DC=test", SAMAccountName: sam,
		Kind: inventory.KindUser, SPNs: spns}
}

func snapAt(at time.Time, objs ...inventory.Object) *inventory.Snapshot {
	return &inventory.Snapshot{Started: at, Objects: inventory.Pointers(objs),
		Directory: inventory.Directory{DCs: map[string]string{"aaaaaaaa-0000-0000-0000-000000000001": "dc2.example.test"}}}
}

func record(t *testing.T, s *Store, snap *inventory.Snapshot, mode string) []audit.Finding {
	t.Helper()
	fs, err := s.Record(snap, duplicates(snap), Poll{Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// duplicates are the audit's duplicate-spn findings: the journal tests
// follow one rule.
func duplicates(snap *inventory.Snapshot) []audit.Finding {
	var out []audit.Finding
	for _, f := range audit.Run(snap, audit.Config{Now: snap.Started}).Findings {
		if f.Rule == audit.RuleDuplicateSPN {
			out = append(out, f)
		}
	}
	return out
}

func firstSeenOf(t *testing.T, fs []audit.Finding, rule string) time.Time {
	t.Helper()
	for _, f := range fs {
		if f.Rule == rule {
			if f.FirstSeen == nil {
				t.Fatalf("%s finding without first_seen", rule)
			}
			return *f.FirstSeen
		}
	}
	t.Fatalf("no %s finding in %+v", rule, fs)
	return time.Time{}
}

// TestJournal: the first scan is the baseline; an SPN copied to a second
// account is journaled as an add with AD's originating time and DC and a
// duplicate that appeared; first_seen survives a restart; the removal
// journals the remove and the resolution; queries filter and page.
func TestJournal(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	a := obj("guid-a", "svc_a", "HTTP/web.example.test")
	b := obj("guid-b", "svc_b", "HTTP/other.example.test")
	record(t, s, snapAt(t0, a, b), "full")
	if got, _, err := s.Changes(Query{}); err != nil || len(got) != 0 {
		t.Fatalf("baseline journaled %v, %v; want nothing", got, err)
	}

	injected := t0.Add(5 * time.Minute)
	b2 := b
	b2.SPNs = []string{"HTTP/other.example.test", "HTTP/web.example.test"}
	b2.SPNChanged, b2.SPNChangedBy = injected, "AAAAAAAA-0000-0000-0000-000000000001"
	fs := record(t, s, snapAt(t0.Add(6*time.Minute), a, b2), "incremental")
	if got := firstSeenOf(t, fs, audit.RuleDuplicateSPN); !got.Equal(t0.Add(6 * time.Minute)) {
		t.Errorf("first_seen of the new duplicate = %v, want the scan's start", got)
	}

	// A restart: the store is reopened, first_seen is kept.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir)
	fs = record(t, s, snapAt(t0.Add(time.Hour), a, b2), "full")
	if got := firstSeenOf(t, fs, audit.RuleDuplicateSPN); !got.Equal(t0.Add(6 * time.Minute)) {
		t.Errorf("first_seen after restart = %v, want %v", got, t0.Add(6*time.Minute))
	}

	record(t, s, snapAt(t0.Add(2*time.Hour), a, b), "incremental")
	all, _, err := s.Changes(Query{})
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, c := range all {
		ops = append(ops, strings.TrimSpace(c.Op+" "+c.SPN+" "+c.SAMAccountName+c.Rule))
	}
	want := []string{
		"resolved HTTP/web.example.test duplicate-spn",
		"remove HTTP/web.example.test svc_b",
		"appeared HTTP/web.example.test duplicate-spn",
		"add HTTP/web.example.test svc_b",
	}
	if strings.Join(ops, "\n") != strings.Join(want, "\n") {
		t.Fatalf("journal, newest first:\n%s\nwant:\n%s", strings.Join(ops, "\n"), strings.Join(want, "\n"))
	}
	add := all[3]
	if add.OriginatingTime == nil || !add.OriginatingTime.Equal(injected) || add.OriginatingDC != "dc2.example.test" ||
		add.Poll != 2 || add.PollMode != "incremental" || !add.Observed.Equal(t0.Add(6*time.Minute)) {
		t.Errorf("add entry %+v: want originating %v on dc2.example.test, poll 2 incremental", add, injected)
	}

	tests := []struct {
		name string
		q    Query
		want int
	}{
		{"by SPN, any case", Query{SPN: "http/WEB.example.test"}, 4},
		{"by sAMAccountName", Query{Account: "SVC_B"}, 4},
		{"by DN", Query{Account: "cn=svc_a,ou=apps,dc=example,dc=test"}, 2},
		{"since", Query{Since: t0.Add(90 * time.Minute)}, 2},
		{"until", Query{Until: t0.Add(90 * time.Minute)}, 2},
		{"other SPN", Query{SPN: "HTTP/none"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := s.Changes(tt.q)
			if err != nil || len(got) != tt.want {
				t.Errorf("%d entries (%v), want %d", len(got), err, tt.want)
			}
		})
	}

	// Paging: three pages of at most 3, 1 and nothing.
	page, next, err := s.Changes(Query{Limit: 3})
	if err != nil || len(page) != 3 || next != page[2].Seq {
		t.Fatalf("page 1: %d entries, next %d, %v", len(page), next, err)
	}
	page, next, err = ReadChanges(dir, Query{Limit: 3, Before: next})
	if err != nil || len(page) != 1 || next != 0 || page[0].Op != OpAdd {
		t.Fatalf("page 2: %+v, next %d, %v", page, next, err)
	}
}

// TestRetention: entries older than the retention and beyond the size bound
// are dropped, oldest first.
func TestRetention(t *testing.T) {
	s := open(t, t.TempDir(), func(o *Options) { o.Retention = 24 * time.Hour; o.MaxChanges = 3 })
	record(t, s, snapAt(t0, obj("g", "svc")), "full")
	spns := []string{}
	for i := range 5 {
		spns = append(spns, "HTTP/h"+string(rune('a'+i)))
		record(t, s, snapAt(t0.Add(time.Duration(i+1)*time.Minute), obj("g", "svc", spns...)), "incremental")
	}
	got, _, err := s.Changes(Query{})
	if err != nil || len(got) != 3 || got[2].SPN != "HTTP/hc" {
		t.Fatalf("after 5 adds with max 3: %+v, %v", got, err)
	}
	record(t, s, snapAt(t0.Add(48*time.Hour), obj("g", "svc", spns...)), "incremental")
	if got, _, _ := s.Changes(Query{}); len(got) != 0 {
		t.Errorf("after the retention passed: %d entries, want 0", len(got))
	}
}

// TestSecondProcessRefused: one state directory, one daemon.
func TestSecondProcessRefused(t *testing.T) {
	dir := t.TempDir()
	open(t, dir)
	_, err := Open(Options{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "in use by another spnaudit serve (pid ") {
		t.Fatalf("second Open: %v; want a refusal naming the pid", err)
	}
	// history reads beside it.
	if _, _, err := ReadChanges(dir, Query{}); err != nil {
		t.Errorf("ReadChanges beside a daemon: %v", err)
	}
}

// TestCorrupted: a database file whose pages are garbage is refused at
// start in one line naming the fix, never a panic.
func TestCorrupted(t *testing.T) {
	cases := []struct {
		name    string
		corrupt func(t *testing.T, path string)
	}{
		{"meta pages overwritten", func(t *testing.T, path string) { overwrite(t, path, 0, 8192) }},
		{"truncated", func(t *testing.T, path string) {
			if err := os.Truncate(path, 100); err != nil {
				t.Fatal(err)
			}
		}},
		{"data pages overwritten", func(t *testing.T, path string) {
			fi, _ := os.Stat(path)
			overwrite(t, path, 8192, int(fi.Size())-8192)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir)
			var objs []inventory.Object
			for i := range 200 {
				objs = append(objs, obj("g"+string(rune('A'+i%26))+string(rune('a'+i/26)), "svc", "HTTP/x"+strings.Repeat("y", i)))
			}
			record(t, s, snapAt(t0, objs...), "full")
			_ = s.Close()
			tc.corrupt(t, filepath.Join(dir, DBFile))
			_, err := Open(Options{Dir: dir})
			var se *Error
			if !errors.As(err, &se) || !strings.Contains(err.Error(), "is corrupted") || !strings.Contains(err.Error(), "move it aside (mv ") ||
				strings.Contains(err.Error(), "\n") {
				t.Fatalf("Open of a corrupted store: %v; want one line naming the fix", err)
			}
		})
	}
}

func overwrite(t *testing.T, path string, off, n int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	junk := []byte(strings.Repeat("\xde\xad\xbe\xef", n/4+1))[:n]
	if _, err := f.WriteAt(junk, int64(off)); err != nil {
		t.Fatal(err)
	}
}

// TestFailureWhileRunning: when the database cannot be written any more,
// Record fails but still dates the findings from what it had committed.
func TestFailureWhileRunning(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	a, b := obj("ga", "svc_a", "HTTP/web"), obj("gb", "svc_b", "HTTP/web")
	record(t, s, snapAt(t0, a, b), "full")
	path := filepath.Join(dir, DBFile)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o700); err != nil { // not a file any more
		t.Fatal(err)
	}
	snap := snapAt(t0.Add(time.Hour), a, b)
	fs, err := s.Record(snap, duplicates(snap), Poll{Mode: "incremental"})
	if err == nil {
		t.Fatal("Record into a directory: no error")
	}
	if got := firstSeenOf(t, fs, audit.RuleDuplicateSPN); !got.Equal(t0) {
		t.Errorf("first_seen on failure = %v, want the committed %v", got, t0)
	}
}

// TestNewerSchemaRefused: a database written by a later spnaudit is not
// misread.
func TestNewerSchemaRefused(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	db, err := s.open(false)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bboltTx) error { return putUint(tx.Bucket(bucketMeta), keySchema, schemaVersion+1) }); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	_ = s.Close()
	if _, err := Open(Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), "newer than this spnaudit's") {
		t.Fatalf("Open of a newer schema: %v", err)
	}
}

type bboltTx = bolt.Tx
