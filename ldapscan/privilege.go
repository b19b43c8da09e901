package ldapscan

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/spnaudit/spnaudit/inventory"
)

// matchingRuleInChain is LDAP_MATCHING_RULE_IN_CHAIN (LDAP_MATCHING_RULE_TRANSITIVE_EVAL,
// MS-ADTS 3.1.1.3.4.4.3; Windows Server 2008 and later):
// "memberOf:1.2.840.113556.1.4.1941:=<group>" matches every object that is
// a member of the group through any depth of nesting. Samba supports it too
// (TestLabPrivilegeFromGroups relies on it).
const matchingRuleInChain = "1.2.840.113556.1.4.1941"

// groupAttributes are the attributes read from protected and nested groups.
var groupAttributes = []string{"objectClass", "objectSid", "member"}

// readMembership reads, in the domain of every target, the protected groups
// (by objectSid: the domain's SID and a well-known RID, or BUILTIN) and every
// group nested in them, with their members (range retrieval completes member
// lists longer than MaxValRange). Full scans and polls both read it whole: a
// change of membership bumps the group's uSNChanged, not the member's, so a
// poll that re-read only changed accounts would miss it. It is a few small
// groups.
func (sc *Scanner) readMembership(ctx context.Context, targets []target, st *scanState) (inventory.Membership, error) {
	b := newMembershipBuilder()
	done := map[string]bool{}
	// The object searches reported the referrals of these naming contexts.
	outer := st
	st = &scanState{stats: outer.stats}
	defer func() { outer.stats = st.stats }()
	for _, t := range targets {
		nc := domainNC(t.nc)
		if nc == "" || done[strings.ToLower(nc)] {
			continue
		}
		done[strings.ToLower(nc)] = true
		domain := inventory.DomainFromDN(nc)
		if t.gc {
			// The Global Catalog does not publish member of global and
			// domain-local groups (only of universal ones).
			b.partial = append(b.partial, domain)
		}
		s, err := sc.sessionFor(ctx, t)
		if err != nil {
			return inventory.Membership{}, err
		}
		head, err := s.readEntry(ctx, nc, []string{"objectSid"}, &st.refs)
		if err != nil {
			return inventory.Membership{}, stageError(StageSearch, s.ep.url, err)
		}
		if head == nil || len(head.GetRawAttributeValue("objectSid")) == 0 {
			sc.log.Warn("cannot read the domain's SID: privilege through group membership is unknown", "domain", nc)
			continue
		}
		domainSID, err := formatSID(head.GetRawAttributeValue("objectSid"))
		if err != nil {
			return inventory.Membership{}, fmt.Errorf("%s: objectSid: %w", nc, err)
		}
		b.domainSIDs[domain] = domainSID
		var protected []string
		err = sc.searchGroups(ctx, s, nc, protectedGroupsFilter(domainSID), st, func(rec *record) error {
			protected = append(protected, rec.dn)
			return b.add(rec)
		})
		if err != nil {
			return inventory.Membership{}, err
		}
		if len(protected) == 0 {
			sc.log.Warn("no protected group readable: privilege through group membership is unknown", "domain", nc)
			continue
		}
		if err := sc.searchGroups(ctx, s, nc, nestedGroupsFilter(protected), st, b.add); err != nil {
			return inventory.Membership{}, err
		}
	}
	return b.membership(), nil
}

// searchGroups runs a paged subtree search for groups and completes their
// ranged member values.
func (sc *Scanner) searchGroups(ctx context.Context, s *session, base, filter string, st *scanState, each func(*record) error) error {
	req := ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, groupAttributes, nil)
	err := s.pagedSearch(ctx, req, sc.cfg.PageSize, &st.refs, func(page []*ldap.Entry) error {
		for _, e := range page {
			rec, err := recordFromEntry(e)
			if err != nil {
				return err
			}
			if err := s.completeRanges(ctx, rec, st); err != nil {
				return stageError(StageRange, s.ep.url, err)
			}
			if err := each(rec); err != nil {
				return err
			}
		}
		st.stats.Groups += len(page)
		return nil
	})
	return stageError(StageSearch, s.ep.url, err)
}

// protectedGroupsFilter matches the protected groups of the domain whose
// SID is domainSID, by objectSid (binary, escaped: both AD and Samba take it).
func protectedGroupsFilter(domainSID string) string {
	var b strings.Builder
	b.WriteString("(&(objectClass=group)(|")
	for _, p := range inventory.ProtectedGroups {
		raw, err := encodeSID(p.SID(domainSID))
		if err != nil {
			continue // domainSID comes from formatSID: cannot happen
		}
		b.WriteString("(objectSid=" + escapeBinary(raw) + ")")
	}
	b.WriteString("))")
	return b.String()
}

// escapeBinary writes every byte of a binary assertion value as \xx
// (RFC 4515 3).
func escapeBinary(raw []byte) string {
	var b strings.Builder
	for _, c := range raw {
		fmt.Fprintf(&b, "\\%02x", c)
	}
	return b.String()
}

// nestedGroupsFilter matches the groups nested, at any depth, in the given
// groups.
func nestedGroupsFilter(groupDNs []string) string {
	var b strings.Builder
	b.WriteString("(&(objectClass=group)(|")
	for _, dn := range groupDNs {
		b.WriteString("(memberOf:" + matchingRuleInChain + ":=" + ldap.EscapeFilter(dn) + ")")
	}
	b.WriteString("))")
	return b.String()
}

// domainNC returns the domain naming context holding dn: its trailing DC=
// components ("OU=Farm,DC=corp,DC=test" -> "DC=corp,DC=test").
func domainNC(dn string) string {
	parsed, err := ldap.ParseDN(dn)
	if err != nil {
		return ""
	}
	i := len(parsed.RDNs)
	for i > 0 {
		rdn := parsed.RDNs[i-1]
		if len(rdn.Attributes) != 1 || !strings.EqualFold(rdn.Attributes[0].Type, "DC") {
			break
		}
		i--
	}
	var parts []string
	for _, rdn := range parsed.RDNs[i:] {
		parts = append(parts, "DC="+rdn.Attributes[0].Value)
	}
	return strings.Join(parts, ",")
}

// membershipBuilder collects the membership graph from group entries and,
// in LDIF exports, the memberOf values of accounts; the LDAP scan and the
// LDIF reader both feed it.
type membershipBuilder struct {
	groups     map[string]*inventory.Group // by lower-case DN
	order      []string
	domainSIDs map[string]string
	partial    []string
	// memberOf counts the memberOf values read from accounts (LDIF).
	memberOf int
}

func newMembershipBuilder() *membershipBuilder {
	return &membershipBuilder{groups: map[string]*inventory.Group{}, domainSIDs: map[string]string{}}
}

func (b *membershipBuilder) group(dn string) *inventory.Group {
	key := strings.ToLower(dn)
	g, ok := b.groups[key]
	if !ok {
		g = &inventory.Group{DN: dn, Domain: inventory.DomainFromDN(dn)}
		b.groups[key] = g
		b.order = append(b.order, key)
	}
	return g
}

// add feeds one entry: a group (its SID and members), a domain head (its
// SID), and any object's memberOf values (edges from the groups to it).
func (b *membershipBuilder) add(rec *record) error {
	if rec.has("objectClass", "domainDNS") || rec.has("objectClass", "domain") {
		if raw := rec.values("objectSid"); len(raw) > 0 {
			sid, err := formatSID(raw[0])
			if err != nil {
				return fmt.Errorf("%s: objectSid: %w", rec.dn, err)
			}
			b.domainSIDs[inventory.DomainFromDN(rec.dn)] = sid
		}
		return nil
	}
	if rec.has("objectClass", "group") {
		g := b.group(rec.dn)
		if raw := rec.values("objectSid"); len(raw) > 0 {
			sid, err := formatSID(raw[0])
			if err != nil {
				return fmt.Errorf("%s: objectSid: %w", rec.dn, err)
			}
			g.SID = sid
			// A domain group's SID is its domain's SID and a RID: an LDIF
			// export without the domain object still gives the domain's SID.
			if i := strings.LastIndex(sid, "-"); strings.HasPrefix(sid, "S-1-5-21-") && g.Domain != "" {
				if _, known := b.domainSIDs[g.Domain]; !known {
					b.domainSIDs[g.Domain] = sid[:i]
				}
			}
		}
		for _, m := range rec.strings("member") {
			if !slices.ContainsFunc(g.Members, func(x string) bool { return strings.EqualFold(x, m) }) {
				g.Members = append(g.Members, m)
			}
		}
	}
	for _, parent := range rec.strings("memberOf") {
		b.memberOf++
		g := b.group(parent)
		if !slices.ContainsFunc(g.Members, func(x string) bool { return strings.EqualFold(x, rec.dn) }) {
			g.Members = append(g.Members, rec.dn)
		}
	}
	return nil
}

func (b *membershipBuilder) membership() inventory.Membership {
	m := inventory.Membership{DomainSIDs: b.domainSIDs, PartialDomains: b.partial}
	for _, key := range b.order {
		m.Groups = append(m.Groups, *b.groups[key])
	}
	return m
}

// formatSID renders a binary SID (MS-DTYP 2.4.2.2) as S-1-<authority>-<sub>...
func formatSID(raw []byte) (string, error) {
	if len(raw) < 8 || raw[0] != 1 {
		return "", fmt.Errorf("not a SID (%d bytes)", len(raw))
	}
	n := int(raw[1])
	if len(raw) != 8+4*n {
		return "", fmt.Errorf("SID with %d sub-authorities has %d bytes", n, len(raw))
	}
	var auth uint64
	for _, c := range raw[2:8] {
		auth = auth<<8 | uint64(c)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "S-1-%d", auth)
	for i := range n {
		fmt.Fprintf(&b, "-%d", binary.LittleEndian.Uint32(raw[8+4*i:]))
	}
	return b.String(), nil
}

// encodeSID is the inverse of formatSID.
func encodeSID(sid string) ([]byte, error) {
	parts := strings.Split(sid, "-")
	if len(parts) < 3 || parts[0] != "S" || parts[1] != "1" || len(parts)-3 > 15 {
		return nil, fmt.Errorf("not a SID: %q", sid)
	}
	auth, err := strconv.ParseUint(parts[2], 10, 48)
	if err != nil {
		return nil, fmt.Errorf("SID %q: authority: %w", sid, err)
	}
	raw := make([]byte, 8, 8+4*(len(parts)-3))
	raw[0], raw[1] = 1, byte(len(parts)-3)
	for i := range 6 {
		raw[7-i] = byte(auth >> (8 * i))
	}
	for _, p := range parts[3:] {
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("SID %q: sub-authority: %w", sid, err)
		}
		raw = binary.LittleEndian.AppendUint32(raw, uint32(v))
	}
	return raw, nil
}

// applyPrivileges sets the privilege of the objects of an LDIF export from
// its group entries and memberOf values, and says when the export cannot
// tell: without the protected groups of an account's domain (found by
// objectSid), "no chain found" does not mean "not privileged".
func (lr *ldifReader) applyPrivileges(objects []*inventory.Object) []*inventory.Object {
	inventory.SetPrivilegesParallel(objects, lr.groups.membership()) // the reader's own objects: set in place, on every core
	for i := range objects {
		if objects[i].PrivilegeUnknown {
			lr.res.PrivilegeUnknown++
		}
	}
	if lr.res.PrivilegeUnknown > 0 {
		lr.res.PrivilegeNote = fmt.Sprintf("privilege through group membership is unknown for %d of %d accounts: "+
			"the export holds no Domain Admins and BUILTIN\\Administrators group entries (with objectSid) of their domain; "+
			`export the groups too, e.g. ldifde -f export.ldf -r "(|(servicePrincipalName=*)(objectClass=group))"`,
			lr.res.PrivilegeUnknown, len(objects))
	}
	return objects
}
