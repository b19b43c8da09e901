package ldapscan

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/spnaudit/spnaudit/internal/secdesc"
	"github.com/spnaudit/spnaudit/inventory"
)

// Resource-based constrained delegation (RBCD) is configured on the target
// account: msDS-AllowedToActOnBehalfOfOtherIdentity holds a self-relative
// security descriptor whose DACL names the principals that may obtain
// tickets to this account's services on behalf of any user (MS-SFU 3.2.5.2,
// MS-ADA2). The scan reads it with objectSid, and names the principals.

const attrAllowedToAct = "msDS-AllowedToActOnBehalfOfOtherIdentity"

// wellKnownSIDs are the principals of MS-DTYP 2.4.2.4 that have no object in
// a domain naming context, so a search cannot name them.
var wellKnownSIDs = map[string]string{
	"S-1-1-0":  "Everyone",
	"S-1-3-0":  "Creator Owner",
	"S-1-5-7":  "Anonymous Logon",
	"S-1-5-9":  "Enterprise Domain Controllers",
	"S-1-5-10": "Principal Self",
	"S-1-5-11": "Authenticated Users",
	"S-1-5-18": "Local System",
}

// readDelegation sets the object's SID and RBCD principals from the record.
func readDelegation(r *record, o *inventory.Object) error {
	if v := r.values("objectSid"); len(v) > 0 {
		sid, _, err := secdesc.ParseSID(v[0])
		if err != nil {
			return fmt.Errorf("%s: objectSid: %w", r.dn, err)
		}
		o.ObjectSID = sid
	}
	v := r.values(attrAllowedToAct)
	if len(v) == 0 {
		return nil
	}
	sd, err := secdesc.Parse(v[0])
	if err != nil {
		return fmt.Errorf("%s: %s: %w", r.dn, attrAllowedToAct, err)
	}
	sids := sd.Allowed()
	if sd.OpenToEveryone() {
		sids = []string{"S-1-1-0"}
	}
	principals := make([]inventory.Principal, len(sids))
	for i, sid := range sids {
		principals[i] = inventory.Principal{SID: sid, WellKnown: wellKnownSIDs[sid]}
	}
	o.SetAllowedToActOnBehalf(principals)
	return nil
}

// principalAttributes are read for a principal named by an RBCD descriptor.
var principalAttributes = []string{"objectSid", "sAMAccountName", "objectClass", "mS-DS-CreatorSID"}

// maxSIDsPerSearch bounds the OR filter of one principal search.
const maxSIDsPerSearch = 100

// resolvePrincipals names the RBCD principals of objects (which must not be
// shared with a published snapshot: they are filled in place) by searching
// the naming contexts for their objectSid: even a principal the inventory
// holds is searched, for its mS-DS-CreatorSID. A SID no search answers for
// is named from known and objects when it is one of them (a naming context
// read through the Global Catalog), and stays a bare SID otherwise (deleted,
// or in another forest).
func (sc *Scanner) resolvePrincipals(ctx context.Context, targets []target, objects []*inventory.Object, known []*inventory.Object, st *scanState) error {
	var missing []string
	seen := make(map[string]bool)
	for i := range objects {
		for _, p := range objects[i].AllowedToActOnBehalf() {
			if !seen[p.SID] && p.WellKnown == "" {
				seen[p.SID] = true
				missing = append(missing, p.SID)
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	found := make(map[string]inventory.Principal)
	for start := 0; start < len(missing); start += maxSIDsPerSearch {
		chunk := missing[start:min(start+maxSIDsPerSearch, len(missing))]
		for _, t := range targets {
			if err := sc.searchPrincipals(ctx, t, chunk, found, st); err != nil {
				return err
			}
		}
	}
	for _, set := range [2][]*inventory.Object{known, objects} {
		for _, o := range set {
			if _, ok := found[o.ObjectSID]; !ok && seen[o.ObjectSID] {
				found[o.ObjectSID] = principalOf(o)
			}
		}
	}
	// The creators of quota-made computers, named in a second round.
	var creators []string
	for _, p := range found {
		if p.CreatorSID != "" && !seen[p.CreatorSID] {
			seen[p.CreatorSID] = true
			creators = append(creators, p.CreatorSID)
		}
	}
	slices.Sort(creators)
	for start := 0; start < len(creators); start += maxSIDsPerSearch {
		chunk := creators[start:min(start+maxSIDsPerSearch, len(creators))]
		for _, t := range targets {
			if err := sc.searchPrincipals(ctx, t, chunk, found, st); err != nil {
				return err
			}
		}
	}
	for i := range objects {
		for j, p := range objects[i].AllowedToActOnBehalf() {
			q, ok := found[p.SID]
			if !ok {
				continue
			}
			if c, ok := found[q.CreatorSID]; ok && q.CreatorSID != "" {
				q.Creator = &c
			}
			objects[i].AllowedToActOnBehalf()[j] = q
		}
	}
	return nil
}

func (sc *Scanner) searchPrincipals(ctx context.Context, t target, sids []string, found map[string]inventory.Principal, st *scanState) error {
	s, err := sc.sessionFor(ctx, t)
	if err != nil {
		return err
	}
	var filter strings.Builder
	filter.WriteString("(|")
	for _, sid := range sids {
		raw, err := secdesc.EncodeSID(sid)
		if err != nil {
			return err
		}
		filter.WriteString("(objectSid=" + ldap.EscapeFilter(string(raw)) + ")")
	}
	filter.WriteString(")")
	req := ldap.NewSearchRequest(t.nc, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		filter.String(), principalAttributes, nil)
	err = s.pagedSearch(ctx, req, sc.cfg.PageSize, &st.refs, func(page []*ldap.Entry) error {
		for _, e := range page {
			rec, err := recordFromEntry(e)
			if err != nil {
				return err
			}
			p, err := principalFromRecord(rec)
			if err != nil {
				return err
			}
			found[p.SID] = p
		}
		return nil
	})
	return stageError(StageSearch, s.ep.url, err)
}

// principalOf describes an inventory object as an RBCD principal.
func principalOf(o *inventory.Object) inventory.Principal {
	return inventory.Principal{SID: o.ObjectSID, DN: o.DN, Domain: o.Domain, SAMAccountName: o.SAMAccountName, Kind: o.Kind}
}

func principalFromRecord(r *record) (inventory.Principal, error) {
	p := inventory.Principal{DN: r.dn, Domain: inventory.DomainFromDN(r.dn), SAMAccountName: r.first("sAMAccountName"),
		Kind: kindOf(r), Group: r.has("objectClass", "group")}
	if v := r.values("objectSid"); len(v) > 0 {
		sid, _, err := secdesc.ParseSID(v[0])
		if err != nil {
			return p, fmt.Errorf("%s: objectSid: %w", r.dn, err)
		}
		p.SID = sid
	}
	if v := r.values("mS-DS-CreatorSID"); len(v) > 0 {
		sid, _, err := secdesc.ParseSID(v[0])
		if err != nil {
			return p, fmt.Errorf("%s: mS-DS-CreatorSID: %w", r.dn, err)
		}
		p.CreatorSID = sid
	}
	return p, nil
}
