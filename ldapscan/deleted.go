package ldapscan

import (
	"context"
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/spnaudit/spnaudit/inventory"
)

// Deleted objects are visible to a poll only if the account may list the
// Deleted Objects container, which AD and Samba reserve to administrators
// by default. Without that right a poll accounts for every USN the DC used
// since the watermark: each write gives the object written a new
// uSNChanged, so when every USN in (watermark, highestCommittedUSN] belongs
// to an object the poll saw, nothing was deleted out of its sight. Only when
// some USN is unexplained (a deletion, an object changed twice, an object it
// may not read) does it list the GUIDs of the objects with SPNs to find the
// deleted ones.

// tombstonesReadable reports whether the account can list deleted objects
// in every naming context read. A container without tombstones reads as
// not readable: the GUID listing is the safe side.
func (sc *Scanner) tombstonesReadable(ctx context.Context, targets []target, st *scanState) (bool, error) {
	for _, t := range targets {
		s, err := sc.sessionFor(ctx, t)
		if err != nil {
			return false, err
		}
		req := ldap.NewSearchRequest("CN=Deleted Objects,"+t.nc, ldap.ScopeSingleLevel, ldap.NeverDerefAliases,
			1, 0, false, "(isDeleted=TRUE)", []string{"objectGUID"}, []ldap.Control{ldap.NewControlMicrosoftShowDeleted()})
		found := false
		_, err = s.stream(ctx, req, &st.refs, func(*ldap.Entry) error {
			found = true
			return nil
		})
		switch {
		case found:
			continue
		case err == nil, ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
			return false, nil
		default:
			return false, stageError(StageSearch, s.ep.url, err)
		}
	}
	return true, nil
}

// markVanished lists the keys of the objects with SPNs that still exist and
// marks every object of prev that is not among them as removed. A listing
// it cannot trust never marks objects deleted; the reason returned asks for
// a full scan instead, which reads the objects themselves:
//   - a naming context whose listing comes back empty while prev held
//     objects there (a lost permission, a server answering from an empty
//     replica);
//   - more objects missing than the USNs the poll could not explain: each
//     deletion (or move, or change of rights that hides an object) is a
//     write that used a USN of this DC, so a listing short of more objects
//     than that lost some that still exist.
func (sc *Scanner) markVanished(ctx context.Context, targets []target, prev []*inventory.Object, cover *usnCoverage, delta *changeSet, st *scanState) (string, error) {
	present := make(map[objectID]struct{}, len(prev))
	held := objectsPerTarget(targets, prev)
	for _, t := range targets {
		s, err := sc.sessionFor(ctx, t)
		if err != nil {
			return "", err
		}
		listed := 0
		req := ldap.NewSearchRequest(t.nc, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
			"(servicePrincipalName=*)", []string{"objectGUID"}, nil)
		err = s.pagedSearch(ctx, req, sc.cfg.PageSize, &st.refs, func(page []*ldap.Entry) error {
			for _, e := range page {
				var guid inventory.GUID
				if raw := e.GetEqualFoldRawAttributeValue("objectGUID"); len(raw) > 0 {
					var err error
					if guid, err = inventory.GUIDFromBytes(raw); err != nil {
						return fmt.Errorf("%s: objectGUID: %w", e.DN, err)
					}
				}
				present[keyOf(guid, e.DN)] = struct{}{}
			}
			listed += len(page)
			st.stats.Listed += len(page)
			return nil
		})
		if err != nil {
			return "", stageError(StageSearch, s.ep.url, err)
		}
		if listed == 0 && held[t.String()] > 0 {
			return fmt.Sprintf("listing the objects of %s returned none where the last scan held %d", t, held[t.String()]), nil
		}
	}
	var vanished []objectID // neither listed nor read by the poll's change search
	for i := range prev {
		if key := objectKey(prev[i]); !containsKey(present, key) && !containsKey(delta.touched, key) {
			vanished = append(vanished, key)
		}
	}
	if unexplained := cover.unexplained(); int64(len(vanished)) > unexplained {
		return fmt.Sprintf("the GUID listing lacks %d objects of the last scan but only %d changes since it are unexplained", len(vanished), unexplained), nil
	}
	for _, key := range vanished {
		delta.touched[key] = struct{}{}
	}
	return "", nil
}

// objectsPerTarget counts objects by the target (naming context) that holds
// them, keyed by target.String().
func objectsPerTarget(targets []target, objects []*inventory.Object) map[string]int {
	byNC := make(map[string]string, len(targets))
	ncs := make([]string, len(targets))
	for i, t := range targets {
		ncs[i] = t.nc
		byNC[t.nc] = t.String()
	}
	counts := make(map[string]int, len(targets))
	for i := range objects {
		if nc, ok := inventory.NamingContextOf(objects[i].DN, ncs); ok {
			counts[byNC[nc]]++
		}
	}
	return counts
}

func containsKey(set map[objectID]struct{}, key objectID) bool {
	_, ok := set[key]
	return ok
}

// usnCoverage records which USNs of the window (from, to] the poll saw.
type usnCoverage struct {
	from, to int64
	seen     map[int64]struct{}
}

func newUSNCoverage(from, to int64) *usnCoverage {
	return &usnCoverage{from: from, to: to, seen: map[int64]struct{}{}}
}

func (c *usnCoverage) see(rec *record) {
	if usn, err := intAttr(rec, "uSNChanged"); err == nil && usn > c.from && usn <= c.to {
		c.seen[usn] = struct{}{}
	}
}

// complete reports whether every USN of the window was seen.
func (c *usnCoverage) complete() bool { return c.unexplained() == 0 }

// unexplained counts the USNs of the window the poll did not see.
func (c *usnCoverage) unexplained() int64 { return c.to - c.from - int64(len(c.seen)) }

// accountOtherPartitions looks for the USNs still unexplained in the naming
// contexts the inventory does not read (configuration, schema, DNS zones):
// writes there use the DC's USNs too.
func (sc *Scanner) accountOtherPartitions(ctx context.Context, dse rootDSE, targets []target, cover *usnCoverage, st *scanState) error {
	read := map[string]bool{}
	for _, t := range targets {
		if !t.gc {
			read[strings.ToLower(t.nc)] = true
		}
	}
	filter := fmt.Sprintf("(uSNChanged>=%d)", cover.from+1)
	for _, nc := range dse.namingContexts {
		if read[strings.ToLower(nc)] || cover.complete() {
			continue
		}
		req := ldap.NewSearchRequest(nc, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
			filter, []string{"uSNChanged"}, []ldap.Control{ldap.NewControlMicrosoftShowDeleted()})
		err := sc.dc.pagedSearch(ctx, req, sc.cfg.PageSize, &st.refs, func(page []*ldap.Entry) error {
			for _, e := range page {
				rec, err := recordFromEntry(e)
				if err != nil {
					return err
				}
				cover.see(rec)
			}
			st.stats.OtherEntries += len(page)
			return nil
		})
		if err != nil {
			return stageError(StageSearch, sc.dc.ep.url, err)
		}
	}
	return nil
}
