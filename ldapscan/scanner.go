// Package ldapscan reads the SPN inventory of an Active Directory forest over
// LDAP (paged, with AD range retrieval, failover and incremental polls), or
// from an LDIF export, into the inventory data model.
package ldapscan

import (
	"cmp"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/spnaudit/spnaudit/inventory"
)

// Result is what one successful scan or poll produced. It is never modified
// after it is returned; a poll derives a new Result from it.
type Result struct {
	Snapshot  *inventory.Snapshot
	Watermark Watermark
	Stats     Stats
}

// Watermark is where the next incremental poll starts: the DC's identity and
// its highestCommittedUSN when the scan started.
type Watermark struct {
	Server        string // URL of the DC that was read
	DSServiceName string // DN of the DC's nTDSDSA object
	InvocationID  string // changes when the DC's database is restored
	USN           int64
	// NamingContexts are the naming contexts read, "gc:" prefixed when read
	// through the Global Catalog.
	NamingContexts []string
	// TombstonesReadable says whether the account can list deleted objects;
	// without it polls list the objects' GUIDs to notice deletions.
	TombstonesReadable bool
}

// Stats describes the work a scan or poll did.
type Stats struct {
	Mode inventory.ScanMode
	// FullReason says why a poll ran as a full scan; empty otherwise.
	FullReason     string
	Server         string
	NamingContexts int
	Pages          int
	// Entries counts the entries the inventory or change searches returned:
	// for an incremental poll, the objects changed or deleted since the
	// watermark.
	Entries int
	Removed int // objects an incremental poll dropped (deleted, or without SPNs now)
	// When the account cannot read tombstones (Watermark.TombstonesReadable),
	// OtherEntries counts the changes a poll read in the other naming
	// contexts to account for every USN, and Listed the GUIDs it listed to
	// find deleted objects when some USN remained unexplained.
	OtherEntries int
	Listed       int
	// Servers are the servers this scan or poll connected to or reused, in
	// order, each once (the last outcome wins); failed scans carry theirs
	// too (ServersOf).
	Servers       []ServerStatus
	RangeRequests int // follow-up requests of AD range retrieval
	Referrals     int
	ReferralURLs  []string
	DNSReread     bool // the DNS names were read (always on full scans)
	// Groups counts the protected and nested groups read for privilege
	// through group membership (every scan and poll reads them).
	Groups int
}

// Scanner reads inventories from the configured directory. Its methods are
// safe for concurrent use but run one scan at a time.
type Scanner struct {
	cfg   Config
	eps   []endpoint
	roots *x509.CertPool
	auth  Authenticator
	log   *slog.Logger
	// globalCatalog locates the Global Catalog for a DC; tests move it off
	// the well-known ports.
	globalCatalog func(endpoint) endpoint

	mu sync.Mutex // serialises scans; guards dc, gc and servers
	dc *session
	gc *session
	// servers collects the current scan's connection outcomes.
	servers serverLog
	// memo is what the last poll's snapshot needs for the next poll to
	// merge in proportion to its changes (pollmerge.go).
	memo *pollMemo
}

// New validates cfg and returns a Scanner that authenticates with auth.
func New(cfg Config, auth Authenticator) (*Scanner, error) {
	if auth == nil {
		return nil, errors.New("ldapscan: nil Authenticator")
	}
	eps, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	roots, err := cfg.loadRootCAs()
	if err != nil {
		return nil, err
	}
	return &Scanner{cfg: cfg, eps: eps, roots: roots, auth: auth, log: cfg.Logger,
		globalCatalog: endpoint.globalCatalog}, nil
}

// Close closes the connections kept between polls.
func (sc *Scanner) Close() error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.dropSessions()
	return nil
}

func (sc *Scanner) dropSessions() {
	sc.dc.close()
	sc.gc.close()
	sc.dc, sc.gc = nil, nil
}

// Scan reads the whole inventory. It opens fresh connections, so a
// recovered primary server is preferred again after a failover.
func (sc *Scanner) Scan(ctx context.Context) (*Result, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.servers = nil
	res, err := sc.fullScan(ctx, "")
	return sc.servers.attach(res, err)
}

// scanState accumulates one scan's statistics.
type scanState struct {
	stats Stats
	refs  referrals
}

func (st *scanState) finish() Stats {
	st.stats.Referrals = st.refs.count
	st.stats.ReferralURLs = st.refs.urls
	return st.stats
}

// target is a naming context to read and the connection that reads it.
type target struct {
	nc string
	gc bool
}

func (t target) String() string {
	if t.gc {
		return "gc:" + t.nc
	}
	return t.nc
}

func (sc *Scanner) fullScan(ctx context.Context, reason string) (*Result, error) {
	started := time.Now()
	sc.dropSessions()
	sc.memo = nil // the next poll builds one for this scan's objects
	res, err := sc.readAll(ctx, started, reason)
	if err != nil {
		sc.dropSessions()
		return nil, err
	}
	return res, nil
}

func (sc *Scanner) readAll(ctx context.Context, started time.Time, reason string) (*Result, error) {
	st := &scanState{stats: Stats{Mode: inventory.FullScan, FullReason: reason, DNSReread: true}}
	dc, err := sc.connectAny(ctx)
	if err != nil {
		return nil, err
	}
	sc.dc = dc
	st.stats.Server = dc.ep.url
	dse, invocationID, err := sc.identify(ctx, dc, &st.refs)
	if err != nil {
		return nil, err
	}
	b := newDirectoryBuilder()
	if err := dc.readForest(ctx, dse, b, &st.refs); err != nil {
		return nil, stageError(StageConfig, dc.ep.url, err)
	}
	if err := dc.readDNSNames(ctx, dse, sc.cfg.PageSize, b, &st.refs); err != nil {
		return nil, stageError(StageConfig, dc.ep.url, err)
	}
	targets := sc.plan(dse, b)
	var read []inventory.Object // together in memory; the snapshot lists them by pointer
	for _, t := range targets {
		err := sc.searchObjects(ctx, t, "(servicePrincipalName=*)", nil, st, func(rec *record) error {
			o, err := objectFromRecord(rec)
			if err != nil {
				return err
			}
			if len(o.SPNs) > 0 {
				read = append(read, o)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	objects := inventory.Pointers(read)
	sortObjects(objects)
	membership, err := sc.readMembership(ctx, targets, st)
	if err != nil {
		return nil, err
	}
	objects = inventory.ApplyPrivileges(objects, membership)
	if err := sc.resolvePrincipals(ctx, targets, objects, nil, st); err != nil {
		return nil, err
	}
	if err := sc.readAESThresholds(ctx, targets, b); err != nil {
		return nil, err
	}
	readable, err := sc.tombstonesReadable(ctx, targets, st)
	if err != nil {
		return nil, err
	}
	if !readable {
		sc.log.Info("the account cannot list deleted objects: polls will list object GUIDs to notice deletions",
			"fix", `dsacls "CN=Deleted Objects,<domain DN>" /takeOwnership, then /G <DOMAIN>\<account>:LCRP`)
	}
	st.stats.NamingContexts = len(targets)
	snap := &inventory.Snapshot{
		Directory:      b.directory(),
		Objects:        objects,
		Server:         dc.ep.url,
		Started:        started,
		Duration:       time.Since(started),
		NamingContexts: namingContexts(targets),
	}
	sc.log.Info("ldap full scan done", "server", dc.ep.url, "dc", dse.dnsHostName, "objects", len(objects), "spns", snap.SPNCount(),
		"naming_contexts", len(targets), "referrals", st.refs.count, "duration", snap.Duration)
	w := newWatermark(dc, dse, invocationID, targets)
	w.TombstonesReadable = readable
	return &Result{Snapshot: snap, Watermark: w, Stats: st.finish()}, nil
}

// namingContexts are the DNs of the targets, for the snapshot.
func namingContexts(targets []target) []string {
	out := make([]string, len(targets))
	for i, t := range targets {
		out[i] = t.nc
	}
	return out
}

func newWatermark(dc *session, dse rootDSE, invocationID string, targets []target) Watermark {
	w := Watermark{Server: dc.ep.url, DSServiceName: dse.dsServiceName, InvocationID: invocationID, USN: dse.highestUSN}
	for _, t := range targets {
		w.NamingContexts = append(w.NamingContexts, t.String())
	}
	return w
}

// identify reads the rootDSE and the DC's invocationId. The USN is read
// before any object, so changes made during the scan are seen again by the
// next poll rather than missed.
func (sc *Scanner) identify(ctx context.Context, s *session, refs *referrals) (rootDSE, string, error) {
	dse, err := s.readRootDSE(ctx, refs)
	if err != nil {
		return rootDSE{}, "", stageError(StageRootDSE, s.ep.url, err)
	}
	invocationID, err := s.readInvocationID(ctx, dse.dsServiceName, refs)
	if err != nil {
		return rootDSE{}, "", stageError(StageRootDSE, s.ep.url, err)
	}
	return dse, invocationID, nil
}

// plan lists the naming contexts to read: the configured base DN alone, or
// the DC's own domain over LDAP and every other domain of the forest
// through the Global Catalog on the same host (a DC holds one domain).
func (sc *Scanner) plan(dse rootDSE, b *directoryBuilder) []target {
	if sc.cfg.BaseDN != "" {
		return []target{{nc: sc.cfg.BaseDN}}
	}
	own := cmp.Or(dse.defaultNC, dse.rootDomainNC)
	targets := []target{{nc: own}}
	var others []string
	for _, d := range b.domains {
		if d.nc != "" && !strings.EqualFold(d.nc, own) {
			others = append(others, d.nc)
		}
	}
	slices.Sort(others)
	for _, nc := range others {
		targets = append(targets, target{nc: nc, gc: true})
	}
	return targets
}

// sessionFor returns the connection for a target, opening the Global
// Catalog connection on first use.
func (sc *Scanner) sessionFor(ctx context.Context, t target) (*session, error) {
	if !t.gc {
		return sc.dc, nil
	}
	if sc.gc.alive() {
		sc.servers.note(sc.gc.ep.url, true, true)
		return sc.gc, nil
	}
	gc, err := sc.connect(ctx, sc.globalCatalog(sc.dc.ep), true)
	if err != nil {
		return nil, err
	}
	sc.gc = gc
	return gc, nil
}

// searchObjects runs a paged subtree search of one naming context and hands
// every entry, ranged attributes completed, to each.
func (sc *Scanner) searchObjects(ctx context.Context, t target, filter string, controls []ldap.Control, st *scanState, each func(*record) error) error {
	s, err := sc.sessionFor(ctx, t)
	if err != nil {
		return err
	}
	attrs := objectAttributes
	if len(controls) > 0 {
		attrs = append(slices.Clip(attrs), "isDeleted")
	}
	req := ldap.NewSearchRequest(t.nc, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, controls)
	progress := Progress{NamingContext: t.String()}
	err = s.searchRecords(ctx, req, sc.cfg.PageSize, &st.refs, func(page []*record) error {
		for _, rec := range page {
			// Tombstones are only removed by GUID: no need for all their values.
			if rec.has("isDeleted", "TRUE") {
				if err := each(rec); err != nil {
					return err
				}
				continue
			}
			if err := s.completeRanges(ctx, rec, st); err != nil {
				return stageError(StageRange, s.ep.url, err)
			}
			if err := each(rec); err != nil {
				return err
			}
		}
		progress.Objects += len(page)
		progress.Pages++
		st.stats.Entries += len(page)
		st.stats.Pages++
		if sc.cfg.Progress != nil {
			sc.cfg.Progress(progress)
		}
		return nil
	})
	return stageError(StageSearch, s.ep.url, err)
}

// completeRanges fetches the remaining values of every attribute that came
// back ranged (AD returns at most MaxValRange values, 1500 by default, then
// ";range=0-1499"): base searches for "attr;range=N-*" until the "-*"
// terminator arrives.
func (s *session) completeRanges(ctx context.Context, rec *record, st *scanState) error {
	for {
		open := rec.incomplete()
		if len(open) == 0 {
			return nil
		}
		for _, key := range open {
			rs := rec.ranges[key]
			want := rs.next()
			desc := fmt.Sprintf("%s;range=%d-*", rs.desc, want)
			st.stats.RangeRequests++
			e, err := s.readEntry(ctx, rec.dn, []string{desc}, &st.refs)
			if err != nil {
				return err
			}
			if e == nil {
				return fmt.Errorf("%s: object vanished during range retrieval of %s", rec.dn, rs.desc)
			}
			if err := addNextRange(rec, e, key, want); err != nil {
				return err
			}
		}
	}
}

// addNextRange merges the values of attribute key from a range follow-up,
// insisting that the server answered the range that was asked for.
func addNextRange(rec *record, e *ldap.Entry, key string, want int) error {
	for _, a := range e.Attributes {
		name, rng, err := parseAttrDesc(a.Name)
		if err != nil {
			return err
		}
		if !strings.EqualFold(name, key) {
			continue
		}
		if rng == nil || rng.low != want {
			return fmt.Errorf("%s: asked for %s from value %d, got %q", rec.dn, name, want, a.Name)
		}
		return rec.add(a.Name, a.ByteValues)
	}
	return fmt.Errorf("%s: no values returned for %s;range=%d-*", rec.dn, key, want)
}

// sortObjects orders objects by DN, case-insensitively, then GUID, so that
// outputs are stable and incremental merges stay ordered.
func sortObjects(objects []*inventory.Object) {
	slices.SortFunc(objects, compareObjects)
}

func compareObjects(a, b *inventory.Object) int {
	if c := inventory.CompareFold(a.DN, b.DN); c != 0 {
		return c
	}
	return a.GUID.Compare(b.GUID)
}
