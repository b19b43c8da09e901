package ldapscan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/spnaudit/spnaudit/inventory"
)

// Poll returns the inventory as it is now, derived from prev by reading only
// the objects changed since prev's watermark (uSNChanged above it, deleted
// objects through the Show Deleted control). prev is not modified. It falls
// back to a full scan, saying why in Stats.FullReason, when there is no
// usable watermark: no previous result, another DC answered (failover), the
// DC's database was restored (invocationId changed, USN went backwards), or
// the forest's naming contexts changed.
func (sc *Scanner) Poll(ctx context.Context, prev *Result) (*Result, error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.servers = nil
	return sc.servers.attach(sc.pollOrScan(ctx, prev))
}

func (sc *Scanner) pollOrScan(ctx context.Context, prev *Result) (*Result, error) {
	if prev == nil || prev.Snapshot == nil || prev.Watermark.USN == 0 {
		return sc.fullScan(ctx, "no previous scan with a USN watermark")
	}
	started := time.Now()
	res, reason, err := sc.poll(ctx, prev, started)
	if err != nil {
		sc.dropSessions()
		return nil, err
	}
	if reason != "" {
		sc.log.Info("ldap incremental poll not possible, running a full scan", "reason", reason)
		return sc.fullScan(ctx, reason)
	}
	return res, nil
}

// poll runs the incremental read. It returns a reason instead of a result
// when the watermark cannot be used.
func (sc *Scanner) poll(ctx context.Context, prev *Result, started time.Time) (*Result, string, error) {
	st := &scanState{stats: Stats{Mode: inventory.IncrementalScan}}
	dse, invocationID, err := sc.identifyReusing(ctx, st)
	if err != nil {
		return nil, "", err
	}
	dc := sc.dc
	st.stats.Server = dc.ep.url
	if reason := watermarkProblem(prev.Watermark, dc.ep.url, dse, invocationID); reason != "" {
		return nil, reason, nil
	}
	b := newDirectoryBuilder()
	if err := dc.readForest(ctx, dse, b, &st.refs); err != nil {
		return nil, "", stageError(StageConfig, dc.ep.url, err)
	}
	targets := sc.plan(dse, b)
	if w := newWatermark(dc, dse, invocationID, targets); !slices.Equal(w.NamingContexts, prev.Watermark.NamingContexts) {
		return nil, "the forest's naming contexts changed", nil
	}
	dir := b.directory()
	dir.DNSNames = prev.Snapshot.Directory.DNSNames
	// A group's whenCreated never changes, and the naming contexts are the same.
	dir.AESThresholds = prev.Snapshot.Directory.AESThresholds
	changed, err := dc.dnsChangedSince(ctx, dse, prev.Watermark.USN, &st.refs)
	if err != nil {
		return nil, "", stageError(StageConfig, dc.ep.url, err)
	}
	if changed {
		if err := dc.readDNSNames(ctx, dse, sc.cfg.PageSize, b, &st.refs); err != nil {
			return nil, "", stageError(StageConfig, dc.ep.url, err)
		}
		dir.DNSNames = b.sortedDNSNames()
		st.stats.DNSReread = true
	}

	delta := newChangeSet()
	cover := newUSNCoverage(prev.Watermark.USN, dse.highestUSN)
	filter := fmt.Sprintf("(uSNChanged>=%d)", prev.Watermark.USN+1)
	showDeleted := []ldap.Control{ldap.NewControlMicrosoftShowDeleted()}
	for _, t := range targets {
		err := sc.searchObjects(ctx, t, filter, showDeleted, st, func(rec *record) error {
			cover.see(rec)
			return delta.add(rec)
		})
		if err != nil {
			return nil, "", err
		}
	}
	if !prev.Watermark.TombstonesReadable {
		reason, err := sc.findDeletions(ctx, dse, targets, prev.Snapshot.Objects, cover, delta, st)
		if err != nil || reason != "" {
			return nil, reason, err
		}
	}
	if err := sc.resolvePrincipals(ctx, targets, delta.updated, prev.Snapshot.Objects, st); err != nil {
		return nil, "", err
	}
	base := prev.Snapshot.Objects
	memo := sc.memoFor(base)
	m := delta.apply(base, memo.dns)
	// Membership changes do not move the members' uSNChanged: the groups
	// are read again and, unless they are as the last poll read them,
	// every object's privilege recomputed.
	membership, err := sc.readMembership(ctx, targets, st)
	if err != nil {
		return nil, "", err
	}
	owned := len(m.objects) > 0 && (len(base) == 0 || &m.objects[0] != &base[0])
	var privileged []int32
	if memo.hasMembership && inventory.SameMembership(memo.membership, membership) {
		m.objects, privileged = inventory.UpdatePrivilegesAt(m.objects, membership, owned, m.added)
	} else {
		m.objects, privileged = inventory.UpdatePrivileges(m.objects, membership, owned)
	}
	removedAt, addedAt := withPrivilegeChanges(m.removed, m.added, privileged)
	objects, removed := m.objects, m.gone
	st.stats.Removed = removed
	st.stats.NamingContexts = len(targets)
	snap := &inventory.Snapshot{
		Directory:      dir,
		Objects:        objects,
		Server:         dc.ep.url,
		Started:        started,
		Duration:       time.Since(started),
		NamingContexts: namingContexts(targets),
	}
	// How snap was made from prev, for the daemon's consumers (inventory.Change).
	if err := snap.SetChange(prev.Snapshot, removedAt, addedAt); err != nil {
		sc.log.Error("ldap incremental poll: cannot record its change", "err", err)
		sc.memo = nil
	} else {
		memo.advance(base, objects, removedAt, addedAt, membership)
	}
	sc.log.Debug("ldap incremental poll done", "server", dc.ep.url, "fetched", st.stats.Entries,
		"removed", removed, "objects", len(objects), "duration", snap.Duration)
	w := newWatermark(dc, dse, invocationID, targets)
	w.TombstonesReadable = prev.Watermark.TombstonesReadable
	return &Result{Snapshot: snap, Watermark: w, Stats: st.finish()}, "", nil
}

// findDeletions finds the objects deleted since the watermark without
// reading tombstones: it lists the objects' GUIDs unless every USN used
// since the watermark is accounted for. It returns a reason for a full scan
// when the listing cannot be trusted.
func (sc *Scanner) findDeletions(ctx context.Context, dse rootDSE, targets []target, prev []*inventory.Object, cover *usnCoverage, delta *changeSet, st *scanState) (string, error) {
	if !cover.complete() {
		if err := sc.accountOtherPartitions(ctx, dse, targets, cover, st); err != nil {
			return "", err
		}
	}
	if cover.complete() {
		return "", nil
	}
	return sc.markVanished(ctx, targets, prev, cover, delta, st)
}

// identifyReusing reads the DC's identity on the connection kept from the
// previous scan, reconnecting (with failover) when it was dropped. A kept
// connection that fails its first request is replaced once, since the
// server may have closed it while idle.
func (sc *Scanner) identifyReusing(ctx context.Context, st *scanState) (rootDSE, string, error) {
	reused := sc.dc.alive()
	if reused {
		sc.servers.note(sc.dc.ep.url, false, true)
	} else {
		sc.dropSessions()
		dc, err := sc.connectAny(ctx)
		if err != nil {
			return rootDSE{}, "", err
		}
		sc.dc = dc
	}
	dse, invocationID, err := sc.identify(ctx, sc.dc, &st.refs)
	if err == nil || !reused || ctx.Err() != nil || !isNetworkError(err) {
		return dse, invocationID, err
	}
	sc.log.Info("ldap connection lost, reconnecting", "server", sc.dc.ep.url, "err", err)
	sc.dropSessions()
	dc, err := sc.connectAny(ctx)
	if err != nil {
		return rootDSE{}, "", err
	}
	sc.dc = dc
	return sc.identify(ctx, dc, &st.refs)
}

// isNetworkError reports a failure of the connection itself, as opposed to
// an answer from the server.
func isNetworkError(err error) bool {
	var le *ldap.Error
	if errors.As(err, &le) {
		return le.ResultCode == ldap.ErrorNetwork
	}
	return true
}

// watermarkProblem explains why a watermark cannot be used, or returns "".
func watermarkProblem(w Watermark, server string, dse rootDSE, invocationID string) string {
	switch {
	case w.Server != server:
		return fmt.Sprintf("server changed from %s to %s", w.Server, server)
	case dse.highestUSN == 0:
		return "the server publishes no highestCommittedUSN"
	case !dse.supports(ldap.ControlTypeMicrosoftShowDeleted):
		return "the server does not support the Show Deleted control"
	case !strings.EqualFold(w.DSServiceName, dse.dsServiceName):
		return fmt.Sprintf("DC changed from %s to %s", w.DSServiceName, dse.dsServiceName)
	case w.InvocationID != invocationID:
		return "the DC's invocationId changed (database restored)"
	case dse.highestUSN < w.USN:
		return fmt.Sprintf("highestCommittedUSN went back from %d to %d", w.USN, dse.highestUSN)
	}
	return ""
}

// changeSet collects what a poll read: objects to replace or add, and keys
// of objects to drop.
type changeSet struct {
	updated []*inventory.Object
	touched map[objectID]struct{} // keys of every object read, updated or dropped
}

func newChangeSet() *changeSet { return &changeSet{touched: map[objectID]struct{}{}} }

// objectID identifies an object across renames: its objectGUID, or its
// lower-case DN for directories without GUIDs.
type objectID struct {
	guid inventory.GUID
	dn   string // "" when guid is set
}

// objectKey is the objectID of o.
func objectKey(o *inventory.Object) objectID { return keyOf(o.GUID, o.DN) }

// keyOf is the objectGUID, or the DN for directories without GUIDs.
func keyOf(guid inventory.GUID, dn string) objectID {
	if !guid.IsZero() {
		return objectID{guid: guid}
	}
	return objectID{dn: strings.ToLower(dn)}
}

func (c *changeSet) add(rec *record) error {
	o, err := objectFromRecord(rec)
	if err != nil {
		return err
	}
	key := objectKey(&o)
	if _, dup := c.touched[key]; dup {
		// Read twice (moved between naming contexts during the poll): keep the
		// later version.
		c.updated = slices.DeleteFunc(c.updated, func(u *inventory.Object) bool { return objectKey(u) == key })
	}
	c.touched[key] = struct{}{}
	if !rec.has("isDeleted", "TRUE") && len(o.SPNs) > 0 {
		c.updated = append(c.updated, &o)
	}
	return nil
}
