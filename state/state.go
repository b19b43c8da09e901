// Package state keeps what spnaudit has seen across restarts in an embedded
// bbolt database under state.dir: when each finding was first seen, the
// last recorded SPNs of every account, and a journal of every SPN added or
// removed and every finding that appeared or resolved.
//
// Why bbolt (go.etcd.io/bbolt) rather than SQLite: it is pure Go, small
// and fast to build (modernc.org/sqlite is a C-to-Go translation that is
// slow to compile and large), its single-writer B+tree with copy-on-write
// pages and an fsync per commit gives exactly the guarantee needed here
// (a crash loses at most the transaction in flight), and the queries are
// simple scans of one journal. The database is opened for each operation,
// so `spnaudit history` can read it while `serve` runs; a lock file held by
// serve keeps a second daemon off the same directory.
package state

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// File names inside the state directory.
const (
	DBFile   = "history.db"
	LockFile = "spnaudit.lock"
)

// schemaVersion is the layout this code writes; migrate brings older
// databases up to it.
const schemaVersion = 1

// Buckets.
var (
	bucketMeta     = []byte("meta")     // schema, baseline, polls, changes count
	bucketAccounts = []byte("accounts") // objectGUID (or lower-case DN) -> account JSON
	bucketFindings = []byte("findings") // finding key -> record JSON
	bucketChanges  = []byte("changes")  // 8-byte big-endian sequence -> Change JSON
)

var (
	keySchema   = []byte("schema")
	keyBaseline = []byte("baseline")
	keyPolls    = []byte("polls")
	keyCount    = []byte("changes")
)

// Defaults of state.retention and state.max_changes.
const (
	DefaultRetention  = 400 * 24 * time.Hour
	DefaultMaxChanges = 1_000_000
)

// openTimeout bounds the wait for the database's file lock: serve holds it
// for the length of one write, `spnaudit history` for one query.
const openTimeout = 10 * time.Second

// mmapReserve is the address space the database is mapped with. bbolt maps
// the file at its size and, when a write transaction outgrows the mapping,
// maps it again, first copying every node the transaction holds out of the
// old mapping (node.dereference). The baseline Record of a 100,000-object
// directory writes a 104 MB file in one transaction: it remapped a dozen
// times and copied 861 MB, and the daemon's peak RSS reached 459 MiB for
// 288 MiB without state.dir (issue 9). Reserving the space up front maps it
// once; it is address space, not memory (pages are resident only once
// read or written), and the file still grows with what is written. 64-bit
// only, and not on Windows, where bbolt grows the file to the mapping.
var mmapReserve = func() int {
	if strconv.IntSize < 64 || runtime.GOOS == "windows" {
		return 0
	}
	return 1 << 30
}()

// Options configure a Store.
type Options struct {
	Dir string
	// Retention drops journal entries older than this (DefaultRetention
	// when zero).
	Retention time.Duration
	// MaxChanges bounds the journal: the oldest entries go first
	// (DefaultMaxChanges when zero).
	MaxChanges int
	Logger     *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// OnChange, when set, is called for every change committed to the
	// journal (metrics).
	OnChange func(Change)
}

// Store is the daemon's handle on the state directory. Its methods are safe
// for concurrent use.
type Store struct {
	opts Options
	path string
	lock *os.File

	mu sync.Mutex
	// Mirrors of the committed buckets, loaded at Open; after a Record,
	// nil while lastSnap and lastResult say the same (lean.go), which
	// objKeys and fkeys then complete.
	accounts  map[string]account
	findings  map[string]findingRecord
	objKeys   *hashSet
	fkeys     *hashSet
	fextra    map[uint64]int32
	polls     uint64
	count     int
	baselined bool
	// extra counts, for the keys of the findings mirror that more than one
	// recorded finding has, how many more (change.go); with the mirror.
	extra map[string]int32

	// The last snapshot and result recorded (nil before the first of this
	// process): a poll made from them is read by its change (change.go).
	lastSnap   *inventory.Snapshot
	lastResult *audit.Result
	// uniqueKeys is true when lastSnap's objects have unique keys (objectGUID
	// is unique in a forest): the accounts are then one per object, which
	// the change path relies on, and the mirror can be dropped.
	uniqueKeys bool
	// changeReads counts the scans whose accounts were read by their change
	// (for tests).
	changeReads int
	// sams is the DN index for new findings' records (samindex.go), for a
	// snapshot that order cannot search (dnsearch.go).
	sams  *samIndex
	order dnOrder
	// testHash replaces the hash of keys (lean.go) in tests, to make keys
	// share hashes.
	testHash func(string) uint64
}

// Error is a state directory that cannot be used, with the fix in one line.
type Error struct {
	Dir string
	Msg string // what is wrong and the fix
	Err error
}

func (e *Error) Error() string { return fmt.Sprintf("state.dir %s: %s", e.Dir, e.Msg) }
func (e *Error) Unwrap() error { return e.Err }

// Open takes the state directory for a daemon: it creates the directory and
// the database, refuses when another process holds the directory, checks
// the database and migrates its schema. Close releases it.
func Open(opts Options) (*Store, error) {
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.MaxChanges <= 0 {
		opts.MaxChanges = DefaultMaxChanges
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	dir := opts.Dir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, &Error{Dir: dir, Msg: fmt.Sprintf("cannot create it (%v); create it writable by the service's user, or set state.dir to such a directory", pathErr(err)), Err: err}
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s := &Store{opts: opts, path: filepath.Join(dir, DBFile), lock: lock}
	if err := s.load(); err != nil {
		_ = lock.Close()
		return nil, err
	}
	return s, nil
}

// Close releases the state directory.
func (s *Store) Close() error {
	return s.lock.Close() // closing the descriptor drops the flock
}

// lockDir takes the directory's lock file, exclusive and without waiting:
// a second daemon on the same directory would interleave its journal with
// the first one's.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, &Error{Dir: dir, Msg: fmt.Sprintf("cannot write in it (%v); make it writable by the service's user, or set state.dir to such a directory", pathErr(err)), Err: err}
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		owner, _ := os.ReadFile(path)
		_ = f.Close()
		pid := strings.TrimSpace(string(owner))
		if pid == "" {
			pid = "unknown"
		}
		return nil, &Error{Dir: dir, Msg: fmt.Sprintf("in use by another spnaudit serve (pid %s); stop it, or give this one its own state.dir", pid), Err: err}
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// pathErr drops the path from an *fs.PathError: the message names it once.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// open opens the database for one operation.
func (s *Store) open(readOnly bool) (*bolt.DB, error) {
	return openDB(s.opts.Dir, s.path, readOnly)
}

func openDB(dir, path string, readOnly bool) (db *bolt.DB, err error) {
	defer func() {
		if p := recover(); p != nil { // bbolt panics on some corrupted pages
			db, err = nil, corrupted(dir, path, fmt.Errorf("%v", p))
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: openTimeout, ReadOnly: readOnly, InitialMmapSize: mmapReserve})
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrChecksum), errors.Is(err, bolterrors.ErrVersionMismatch):
		return nil, corrupted(dir, path, err)
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil, &Error{Dir: dir, Msg: fmt.Sprintf("%s stayed locked for %v; is another process holding it?", DBFile, openTimeout), Err: err}
	case errors.Is(err, fs.ErrNotExist) && readOnly:
		return nil, &Error{Dir: dir, Msg: fmt.Sprintf("no %s here; point --state.dir at the directory spnaudit serve writes (state.dir)", DBFile), Err: err}
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS):
		return nil, &Error{Dir: dir, Msg: fmt.Sprintf("cannot write %s (%v); make it writable by the service's user, or set state.dir to such a directory", DBFile, pathErr(err)), Err: err}
	case errors.Is(err, syscall.ENOSPC):
		return nil, &Error{Dir: dir, Msg: "the file system is full; free space, or lower state.retention", Err: err}
	}
	return nil, &Error{Dir: dir, Msg: fmt.Sprintf("cannot open %s: %v", DBFile, err), Err: err}
}

func corrupted(dir, path string, err error) error {
	return &Error{Dir: dir, Msg: fmt.Sprintf("%s is corrupted (%v); move it aside (mv %s %s.corrupt) to start a new history", DBFile, err, path, path), Err: err}
}

// load checks the database, migrates it and loads the mirrors.
func (s *Store) load() (err error) {
	db, err := s.open(false)
	if err != nil {
		return err
	}
	defer db.Close()
	defer func() {
		if p := recover(); p != nil {
			err = corrupted(s.opts.Dir, s.path, fmt.Errorf("%v", p))
		}
	}()
	if err := db.View(func(tx *bolt.Tx) error {
		var first error
		for e := range tx.Check() { // drained: Check's goroutine reads the tx
			if first == nil {
				first = e
			}
		}
		return first
	}); err != nil {
		return corrupted(s.opts.Dir, s.path, err)
	}
	if err := db.Update(migrate); err != nil {
		var se *Error
		if errors.As(err, &se) {
			se.Dir = s.opts.Dir
			return se
		}
		return s.writeError(err)
	}
	return db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		s.baselined = meta.Get(keyBaseline) != nil
		s.polls = getUint(meta, keyPolls)
		s.count = int(getUint(meta, keyCount))
		s.accounts = map[string]account{}
		if err := tx.Bucket(bucketAccounts).ForEach(func(k, v []byte) error {
			var a account
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("accounts %q: %w", k, err)
			}
			s.accounts[string(k)] = a
			return nil
		}); err != nil {
			return corrupted(s.opts.Dir, s.path, err)
		}
		s.findings = map[string]findingRecord{}
		return tx.Bucket(bucketFindings).ForEach(func(k, v []byte) error {
			var f findingRecord
			if err := json.Unmarshal(v, &f); err != nil {
				return corrupted(s.opts.Dir, s.path, fmt.Errorf("findings %q: %w", k, err))
			}
			s.findings[string(k)] = f
			return nil
		})
	})
}

// writeError words a failed write.
func (s *Store) writeError(err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return &Error{Dir: s.opts.Dir, Msg: "the file system is full; free space, or lower state.retention", Err: err}
	}
	return &Error{Dir: s.opts.Dir, Msg: fmt.Sprintf("write failed: %v", err), Err: err}
}

// migrate creates the buckets of a new database and upgrades older
// schemas; a newer schema is refused rather than misread.
func migrate(tx *bolt.Tx) error {
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return err
	}
	version := getUint(meta, keySchema)
	if version > schemaVersion {
		return &Error{Msg: fmt.Sprintf("%s has schema %d, newer than this spnaudit's (%d); run the newer spnaudit, or move the file aside", DBFile, version, schemaVersion)}
	}
	if version == schemaVersion {
		return nil // nothing to write: a full disk must not stop a start
	}
	// Version 0 -> 1: the four buckets. Later versions add steps here.
	for _, b := range [][]byte{bucketAccounts, bucketFindings, bucketChanges} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	return putUint(meta, keySchema, schemaVersion)
}

func getUint(b *bolt.Bucket, key []byte) uint64 {
	v := b.Get(key)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func putUint(b *bolt.Bucket, key []byte, n uint64) error {
	return b.Put(key, seqKey(n))
}

func seqKey(n uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, n)
	return k
}
