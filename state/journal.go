package state

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// Change operations in the journal.
const (
	OpAdd      = "add"      // an SPN value appeared on an account
	OpRemove   = "remove"   // an SPN value left an account (or the account was deleted)
	OpAppeared = "appeared" // a finding appeared
	OpResolved = "resolved" // a finding is gone
)

// SPNOps are the operations on SPNs, for pre-initialised metrics.
var SPNOps = []string{OpAdd, OpRemove}

// Change is one journal entry. The JSON names are a contract
// (spnaudit history --format json, /api/v1/changes).
type Change struct {
	Seq uint64 `json:"seq"`
	Op  string `json:"op"`
	SPN string `json:"spn,omitempty"`
	// Account is the DN of the account of an SPN change.
	Account        string `json:"account,omitempty"`
	SAMAccountName string `json:"sam_account_name,omitempty"`
	// Rule, Severity and Accounts describe a finding that appeared or
	// resolved.
	Rule     string   `json:"rule,omitempty"`
	Severity string   `json:"severity,omitempty"`
	Accounts []string `json:"accounts,omitempty"`
	// SAMAccountNames are the finding's accounts' sAMAccountNames, where
	// the scan held them.
	SAMAccountNames []string `json:"sam_account_names,omitempty"`
	// Observed is when spnaudit saw the change: the start of the scan that
	// read it.
	Observed time.Time `json:"observed"`
	// OriginatingTime and OriginatingDC are when and on which DC AD says
	// servicePrincipalName last changed on the account, when readable (not
	// for a deleted account).
	OriginatingTime *time.Time `json:"originating_time,omitempty"`
	OriginatingDC   string     `json:"originating_dc,omitempty"`
	// Poll numbers the scans the store recorded; PollMode is full or
	// incremental.
	Poll     uint64 `json:"poll"`
	PollMode string `json:"poll_mode"`
}

// Poll describes the scan being recorded.
type Poll struct {
	Mode string // full, incremental
}

// account is an account's SPNs as the last recorded scan read them.
type account struct {
	DN   string   `json:"dn"`
	SAM  string   `json:"sam,omitempty"`
	SPNs []string `json:"spns"`
}

// findingRecord is a finding the last recorded scan showed.
type findingRecord struct {
	FirstSeen time.Time `json:"first_seen"`
	Rule      string    `json:"rule"`
	Severity  string    `json:"severity"`
	SPN       string    `json:"spn,omitempty"`
	Accounts  []string  `json:"accounts"`
	SAMs      []string  `json:"sams,omitempty"`
}

// objectKey identifies an account across renames: its objectGUID, or its
// DN in lower case for a source without GUIDs.
func objectKey(o *inventory.Object) string {
	if !o.GUID.IsZero() {
		return o.GUID.String()
	}
	return strings.ToLower(o.DN)
}

// FindingKey identifies a finding across scans: rule, SPN and the accounts
// involved, case-folded and sorted.
func FindingKey(f *audit.Finding) string {
	accounts := make([]string, len(f.Accounts))
	for i, a := range f.Accounts {
		accounts[i] = strings.ToLower(a)
	}
	slices.Sort(accounts)
	return f.Rule + "\x00" + strings.ToLower(f.SPN) + "\x00" + strings.Join(accounts, "\x00")
}

// Record journals what snap shows against the last recorded scan (SPNs
// added and removed, findings that appeared or resolved) in one
// transaction, and returns findings with FirstSeen set, in a new slice. The
// first scan a new store records is its baseline: its SPNs and findings are
// stored without a journal entry each. On error nothing of this scan is
// kept (the next one journals its changes again) and the findings come back
// dated from what was committed before, with now for the new ones.
func (s *Store) Record(snap *inventory.Snapshot, findings []audit.Finding, poll Poll) ([]audit.Finding, error) {
	return s.RecordResult(snap, audit.Result{Findings: findings}, poll)
}

// RecordResult is Record of an audit's result. A poll costs in proportion
// to what it changed (issue 9) when it says how it was made from the last
// one recorded: snap.ChangeFrom(the last recorded snapshot) and
// res.ChangeFrom(the last recorded result, as returned: the dated
// findings) are read instead of every account and every finding (change.go).
// Then the findings res's change added are dated in place, in res.Findings,
// and res.Findings itself is returned: the caller hands them over (a fresh
// audit's). A finding that already carries a FirstSeen is never written:
// when one carries another date than the history's, the findings are dated
// in a copy as Record does. Without a change, the full comparison runs, and
// its output is what the change's must be.
func (s *Store) RecordResult(snap *inventory.Snapshot, res audit.Result, poll Poll) ([]audit.Finding, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	observed := snap.Started.UTC()
	if observed.IsZero() {
		observed = s.opts.Now().UTC()
	}
	pollNo := s.polls + 1
	p := pass{snap: snap, observed: observed, poll: pollNo, mode: poll.Mode, journal: s.baselined}

	// One handle for the Record: the findings bucket is read for the keys
	// the poll touched while the mirror is dropped (lean.go), then written.
	db, dbErr := s.open(false)
	closed := dbErr != nil
	defer func() {
		if !closed {
			_ = db.Close() // a Record that failed before its commit
		}
	}()
	var rtx *bolt.Tx
	var fb *bolt.Bucket
	if dbErr == nil && s.findings == nil {
		if rtx, dbErr = db.Begin(false); dbErr == nil {
			fb = rtx.Bucket(bucketFindings)
		} else {
			dbErr = s.writeError(dbErr)
		}
	}
	s.followSAMs(snap)
	fd, ok := s.dateChanged(res, snap, observed, fb)
	if !ok {
		recs, rerr := s.findingMirror(rtx)
		if rerr != nil {
			if rtx != nil {
				_ = rtx.Rollback()
			}
			if dbErr == nil {
				dbErr = corrupted(s.opts.Dir, s.path, rerr)
			}
			return s.datedFromKeys(res.Findings, observed), dbErr
		}
		fd = s.dateFindings(recs, res.Findings, snap, observed)
	}
	if rtx != nil {
		_ = rtx.Rollback() // before the write: bbolt's writer may remap
	}
	updates, ok := s.diffChanged(&p)
	unique := ok
	mirror := s.accounts
	if ok {
		s.changeReads++
	} else {
		mirror = s.accountMirror()
		updates, unique = s.diffAccounts(&p, mirror)
	}
	if s.baselined {
		p.findingChanges(fd)
	}
	if dbErr != nil {
		return fd.out, dbErr
	}
	err := s.commit(db, updates, fd, p.changes, pollNo, observed)
	closed = true
	if cerr := db.Close(); err == nil && cerr != nil {
		err = s.writeError(cerr)
	}
	if err != nil {
		return fd.out, err
	}
	if !s.baselined {
		s.opts.Logger.Info("state baseline recorded: later changes are journaled", "dir", s.opts.Dir,
			"accounts", len(updates), "findings", len(fd.out))
	}
	s.settleAccounts(snap, mirror, updates, unique)
	s.polls, s.baselined = pollNo, true
	s.lastSnap, s.lastResult, s.uniqueKeys = snap, &audit.Result{Findings: fd.out, Suppressed: res.Suppressed}, unique
	if !s.settleFindings(fd) {
		s.lastResult = nil // the next Record reads the findings bucket
	}
	for _, c := range p.changes {
		logChange(s.opts.Logger, c)
		if s.opts.OnChange != nil {
			s.opts.OnChange(c)
		}
	}
	return fd.out, nil
}

// findingDelta is how a scan's findings change the recorded ones.
type findingDelta struct {
	out []audit.Finding // the findings, dated
	// put are the records of the findings that appeared, by key; del the
	// keys of those that resolved, with their records.
	put map[string]findingRecord
	del map[string]findingRecord
	// The full comparison's new mirror (findings, extra); nil from a
	// change, whose counts holds the new count of each key it touched.
	cur    map[string]findingRecord
	extra  map[string]int32
	counts map[string]int32
}

// dateTable hands out one *time.Time per distinct date. The findings of a
// baseline share their first-seen date, and 50,000 of them held 50,000
// copies of it (1.2 MB, issue 9). Nothing writes through a finding's
// FirstSeen.
type dateTable map[time.Time]*time.Time

func (d dateTable) of(t time.Time) *time.Time {
	if p, ok := d[t]; ok {
		return p
	}
	p := &t
	d[t] = p
	return p
}

// dateFindings sets FirstSeen on each finding from the recorded ones (now
// for a new one), in a copy, and compares them all with the recorded ones.
func (s *Store) dateFindings(recorded map[string]findingRecord, findings []audit.Finding, snap *inventory.Snapshot, observed time.Time) *findingDelta {
	out := make([]audit.Finding, len(findings))
	cur := make(map[string]findingRecord, len(findings))
	extra := map[string]int32{}
	dates := dateTable{}
	for i, f := range findings {
		key := FindingKey(&f)
		rec, ok := recorded[key]
		if !ok {
			rec = s.newRecord(&f, snap, observed)
		}
		if _, twice := cur[key]; twice {
			extra[key]++
		}
		cur[key] = rec
		f.FirstSeen = dates.of(rec.FirstSeen)
		out[i] = f
	}
	fd := &findingDelta{out: out, put: map[string]findingRecord{}, del: map[string]findingRecord{}, cur: cur, extra: extra}
	for key, r := range cur {
		if _, ok := recorded[key]; !ok {
			fd.put[key] = r
		}
	}
	for key, r := range recorded {
		if _, ok := cur[key]; !ok {
			fd.del[key] = r
		}
	}
	return fd
}

// newRecord is the record of a finding seen for the first time.
func (s *Store) newRecord(f *audit.Finding, snap *inventory.Snapshot, observed time.Time) findingRecord {
	rec := findingRecord{FirstSeen: observed, Rule: f.Rule, Severity: string(f.Severity), SPN: f.SPN, Accounts: f.Accounts}
	if len(f.Accounts) == 0 {
		return rec
	}
	for _, dn := range f.Accounts {
		if sam := s.samOf(snap, dn); sam != "" {
			rec.SAMs = append(rec.SAMs, sam)
		}
	}
	return rec
}

// applyFindings updates the mirror of the findings after a commit.
func (s *Store) applyFindings(fd *findingDelta) {
	if fd.cur != nil {
		s.findings, s.extra = fd.cur, fd.extra
		return
	}
	for key := range fd.del {
		delete(s.findings, key)
	}
	maps.Copy(s.findings, fd.put)
	for key, n := range fd.counts {
		if n > 1 {
			s.extra[key] = n - 1
		} else {
			delete(s.extra, key)
		}
	}
}

// pass is one scan being recorded and the changes found in it.
type pass struct {
	snap     *inventory.Snapshot
	observed time.Time
	poll     uint64
	mode     string
	journal  bool // false for the baseline
	changes  []Change
}

// diffAccounts compares the scan's accounts with the recorded ones and
// returns the accounts to write (nil: delete), journaling their SPN
// changes, and whether the scan's keys were unique (for diffChanged: the
// mirror then holds one account per object).
func (s *Store) diffAccounts(p *pass, accounts map[string]account) (map[string]*account, bool) {
	updates := map[string]*account{}
	seen := make(map[string]struct{}, len(p.snap.Objects))
	found := 0
	for i := range p.snap.Objects {
		o := p.snap.Objects[i]
		key := objectKey(o)
		seen[key] = struct{}{}
		prev, ok := accounts[key]
		if ok {
			found++
			if prev.DN == o.DN && prev.SAM == o.SAMAccountName && slices.Equal(prev.SPNs, o.SPNs) {
				continue
			}
		}
		updates[key] = &account{DN: o.DN, SAM: o.SAMAccountName, SPNs: o.SPNs}
		p.spnChanges(prev.SPNs, o)
	}
	unique := len(seen) == len(p.snap.Objects)
	if found == len(accounts) {
		return updates, unique // every recorded account is still there
	}
	var gone []string
	for key := range accounts {
		if _, ok := seen[key]; !ok {
			gone = append(gone, key)
		}
	}
	p.deleted(func(key string) account { return accounts[key] }, gone, updates)
	return updates, unique
}

// deleted journals the removal of every SPN of the recorded accounts at
// keys, gone from the scan, in key order (the journal's order does not
// hang on a map's), and marks them for deletion in updates.
func (p *pass) deleted(prevOf func(string) account, keys []string, updates map[string]*account) {
	slices.Sort(keys)
	for _, key := range keys {
		prev := prevOf(key)
		updates[key] = nil
		// Deleted (or out of the scan's scope): no metadata to date it.
		p.spnChanges(prev.SPNs, &inventory.Object{DN: prev.DN, SAMAccountName: prev.SAM})
	}
}

// spnChanges journals the SPN values o gained and lost since before,
// dated with o's replication metadata.
func (p *pass) spnChanges(before []string, o *inventory.Object) {
	if !p.journal {
		return
	}
	had := make(map[string]bool, len(before))
	for _, v := range before {
		had[v] = true
	}
	has := make(map[string]bool, len(o.SPNs))
	for _, v := range o.SPNs {
		has[v] = true
	}
	start := len(p.changes)
	for _, v := range o.SPNs {
		if !had[v] {
			p.changes = append(p.changes, p.spnChange(OpAdd, v, o))
		}
	}
	for _, v := range before {
		if !has[v] {
			p.changes = append(p.changes, p.spnChange(OpRemove, v, o))
		}
	}
	slices.SortFunc(p.changes[start:], func(a, b Change) int { return strings.Compare(a.Op+"\x00"+a.SPN, b.Op+"\x00"+b.SPN) })
}

func (p *pass) spnChange(op, spn string, o *inventory.Object) Change {
	c := Change{Op: op, SPN: spn, Account: o.DN, SAMAccountName: o.SAMAccountName, Observed: p.observed, Poll: p.poll, PollMode: p.mode}
	if !o.SPNChanged.IsZero() {
		at := o.SPNChanged
		c.OriginatingTime = &at
		c.OriginatingDC = p.snap.Directory.DCName(o.SPNChangedBy)
	}
	return c
}

// findingChanges journals the findings that appeared and resolved, in a
// stable order.
func (p *pass) findingChanges(fd *findingDelta) {
	start := len(p.changes)
	add := func(op string, r findingRecord) {
		p.changes = append(p.changes, Change{Op: op, Rule: r.Rule, Severity: r.Severity, SPN: r.SPN, Accounts: r.Accounts,
			SAMAccountNames: r.SAMs, Observed: p.observed, Poll: p.poll, PollMode: p.mode})
	}
	for _, r := range fd.put {
		add(OpAppeared, r)
	}
	for _, r := range fd.del {
		add(OpResolved, r)
	}
	slices.SortFunc(p.changes[start:], func(a, b Change) int {
		return strings.Compare(a.Op+"\x00"+a.Rule+"\x00"+a.SPN+"\x00"+strings.Join(a.Accounts, "\x00"),
			b.Op+"\x00"+b.Rule+"\x00"+b.SPN+"\x00"+strings.Join(b.Accounts, "\x00"))
	})
}

// commit writes the scan's state and its changes in one transaction; the
// journal is then trimmed to the retention and the size bound.
func (s *Store) commit(db *bolt.DB, updates map[string]*account, fd *findingDelta, changes []Change, pollNo uint64, observed time.Time) error {
	err := db.Update(func(tx *bolt.Tx) error {
		meta, accounts, fb, cb := tx.Bucket(bucketMeta), tx.Bucket(bucketAccounts), tx.Bucket(bucketFindings), tx.Bucket(bucketChanges)
		// In key order: bbolt appends to a leaf cheaply, inserting at random
		// places moves its contents (a baseline of 250,000 accounts).
		for _, key := range slices.Sorted(maps.Keys(updates)) {
			a := updates[key]
			if a == nil {
				if err := accounts.Delete([]byte(key)); err != nil {
					return err
				}
				continue
			}
			v, err := json.Marshal(a)
			if err != nil {
				return err
			}
			if err := accounts.Put([]byte(key), v); err != nil {
				return err
			}
		}
		if err := syncBucket(fb, fd.del, fd.put); err != nil {
			return err
		}
		for i := range changes {
			seq, err := cb.NextSequence()
			if err != nil {
				return err
			}
			changes[i].Seq = seq
			v, err := json.Marshal(&changes[i])
			if err != nil {
				return err
			}
			if err := cb.Put(seqKey(seq), v); err != nil {
				return err
			}
		}
		if !s.baselined {
			if err := meta.Put(keyBaseline, []byte(observed.Format(time.RFC3339))); err != nil {
				return err
			}
		}
		if s.count < 0 { // after a failed commit
			s.count = cb.Stats().KeyN - len(changes)
		}
		count := s.count + len(changes)
		dropped, err := prune(cb, observed.Add(-s.opts.Retention), count-s.opts.MaxChanges)
		if err != nil {
			return err
		}
		s.count = count - dropped // only read under s.mu; a failed commit recounts
		if err := putUint(meta, keyCount, uint64(s.count)); err != nil {
			return err
		}
		return putUint(meta, keyPolls, pollNo)
	})
	if err != nil {
		s.count = -1 // unknown: recount on the next commit
		return s.writeError(err)
	}
	return nil
}

// syncBucket deletes the keys of del from b and puts those of put, in key
// order.
func syncBucket[V any](b *bolt.Bucket, del, put map[string]V) error {
	for _, k := range slices.Sorted(maps.Keys(del)) {
		if err := b.Delete([]byte(k)); err != nil {
			return err
		}
	}
	for _, k := range slices.Sorted(maps.Keys(put)) { // in key order, as above
		raw, err := json.Marshal(put[k])
		if err != nil {
			return err
		}
		if err := b.Put([]byte(k), raw); err != nil {
			return err
		}
	}
	return nil
}

// prune deletes the oldest entries: those observed before cutoff and, to
// keep the journal within its bound, excess more. It returns how many went.
func prune(b *bolt.Bucket, cutoff time.Time, excess int) (int, error) {
	var drop [][]byte
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(drop) >= excess {
			var ch struct {
				Observed time.Time `json:"observed"`
			}
			if json.Unmarshal(v, &ch) == nil && !ch.Observed.Before(cutoff) {
				break
			}
		}
		drop = append(drop, k)
	}
	for _, k := range drop {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(drop), nil
}

// Query selects journal entries. Zero fields select everything.
type Query struct {
	// SPN matches an SPN case-insensitively, as AD compares them.
	SPN string
	// Account matches an account's DN or sAMAccountName, case-insensitively.
	Account string
	// Since and Until bound Observed (Until exclusive).
	Since, Until time.Time
	// Before pages backwards: only entries with a smaller sequence number.
	Before uint64
	// Limit caps the entries returned (all when 0).
	Limit int
}

func (q *Query) match(c *Change) bool {
	if q.SPN != "" && !strings.EqualFold(c.SPN, q.SPN) {
		return false
	}
	if q.Account != "" && !accountMatches(c, q.Account) {
		return false
	}
	if !q.Since.IsZero() && c.Observed.Before(q.Since) {
		return false
	}
	return q.Until.IsZero() || c.Observed.Before(q.Until)
}

func accountMatches(c *Change, want string) bool {
	if strings.EqualFold(c.Account, want) || strings.EqualFold(c.SAMAccountName, want) {
		return true
	}
	for _, a := range slices.Concat(c.Accounts, c.SAMAccountNames) {
		if strings.EqualFold(a, want) {
			return true
		}
	}
	return false
}

// Changes returns the entries q selects, newest first, and the Before of
// the next page (0 when there is none).
func (s *Store) Changes(q Query) ([]Change, uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	db, err := s.open(true)
	if err != nil {
		return nil, 0, err
	}
	defer db.Close()
	return queryDB(db, q)
}

// ReadChanges queries the journal of a state directory without taking it:
// for `spnaudit history` beside a running serve.
func ReadChanges(dir string, q Query) ([]Change, uint64, error) {
	db, err := openDB(dir, dirPath(dir), true)
	if err != nil {
		return nil, 0, err
	}
	defer db.Close()
	return queryDB(db, q)
}

func dirPath(dir string) string { return strings.TrimSuffix(dir, "/") + "/" + DBFile }

func queryDB(db *bolt.DB, q Query) (out []Change, next uint64, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("reading the journal: %v", p)
		}
	}()
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketChanges)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		var k, v []byte
		if q.Before > 0 {
			if sk, _ := c.Seek(seqKey(q.Before)); sk == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		} else {
			k, v = c.Last()
		}
		for ; k != nil; k, v = c.Prev() {
			var ch Change
			if err := json.Unmarshal(v, &ch); err != nil {
				return fmt.Errorf("journal entry %x: %w", k, err)
			}
			if !q.Since.IsZero() && ch.Observed.Before(q.Since) {
				break // sequence order is observation order
			}
			if !q.match(&ch) {
				continue
			}
			if q.Limit > 0 && len(out) == q.Limit {
				next = out[len(out)-1].Seq
				break
			}
			out = append(out, ch)
		}
		return nil
	})
	return out, next, err
}
