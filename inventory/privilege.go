package inventory

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// ProtectedGroup is a group whose members administer the domain or the
// forest (the groups AdminSDHolder protects, MS-ADTS 3.1.1.6.1.1 and
// "Appendix C: Protected Accounts and Groups in Active Directory"). It is
// identified by its well-known RID, never by its name, which can be renamed
// or localised.
type ProtectedGroup struct {
	RID uint32
	// Builtin groups have the SID S-1-5-32-<RID> in every domain; the others
	// the domain's SID followed by the RID.
	Builtin bool
	// Name is the default English name, for messages only.
	Name string
}

// ProtectedGroups lists the groups that make their (transitive) members
// privileged, most powerful first: that order breaks ties between chains.
var ProtectedGroups = []ProtectedGroup{
	{RID: 519, Name: "Enterprise Admins"},
	{RID: 512, Name: "Domain Admins"},
	{RID: 544, Builtin: true, Name: `BUILTIN\Administrators`},
	{RID: 518, Name: "Schema Admins"},
	{RID: 527, Name: "Enterprise Key Admins"},
	{RID: 526, Name: "Key Admins"},
	{RID: 548, Builtin: true, Name: `BUILTIN\Account Operators`},
	{RID: 549, Builtin: true, Name: `BUILTIN\Server Operators`},
	{RID: 550, Builtin: true, Name: `BUILTIN\Print Operators`},
	{RID: 551, Builtin: true, Name: `BUILTIN\Backup Operators`},
}

// The RIDs of the two protected groups every domain has: a read or an
// export that holds neither cannot tell privilege.
const (
	ridDomainAdmins   = 512
	ridAdministrators = 544 // BUILTIN
)

// BuiltinDomainSID is the SID of the BUILTIN domain.
const BuiltinDomainSID = "S-1-5-32"

// SID returns the group's SID in the domain whose SID is domainSID.
func (p ProtectedGroup) SID(domainSID string) string {
	if p.Builtin {
		return fmt.Sprintf("%s-%d", BuiltinDomainSID, p.RID)
	}
	return fmt.Sprintf("%s-%d", domainSID, p.RID)
}

// Privilege says how an account is privileged through group membership.
type Privilege struct {
	// Group is the protected group reached, by its default name
	// ("Domain Admins", "BUILTIN\Administrators").
	Group string `json:"group"`
	// SID is the protected group's SID.
	SID string `json:"sid"`
	// Chain lists the distinguished names of the groups from the one the
	// account belongs to directly to the protected group (the last element).
	Chain []string `json:"chain"`
	// PrimaryGroup says the account belongs to Chain[0] through its
	// primaryGroupID, which no member value shows.
	PrimaryGroup bool `json:"primary_group,omitempty"`
}

// Group is a security group of the membership graph: a protected group or
// a group nested in one, with its direct members.
type Group struct {
	DN  string `json:"dn"`
	SID string `json:"sid,omitempty"`
	// Domain is the DNS name of the group's domain, lower case.
	Domain string `json:"domain"`
	// Members are the distinguished names of its direct members (member).
	Members []string `json:"members,omitempty"`
}

// Membership is the part of the directory's group membership that can make
// an account privileged.
type Membership struct {
	Groups []Group
	// DomainSIDs maps a domain's DNS name (lower case) to its SID, to
	// resolve primaryGroupID.
	DomainSIDs map[string]string
	// PartialDomains are domains whose membership could not be read whole
	// (read through the Global Catalog, which does not publish the members
	// of global and domain-local groups): an account there found in no chain
	// may still be privileged.
	PartialDomains []string
}

// membershipIndex is Membership prepared for lookups.
type membershipIndex struct {
	chains    map[string]*Privilege // lower-case group DN -> its chain to a protected group
	parents   map[string][]string   // lower-case member DN -> lower-case DNs of the graph's groups holding it
	bySID     map[string]string     // group SID -> lower-case DN
	domains   map[string]string
	complete  map[string]bool // domains whose privilege can be told
	protected map[string]int  // lower-case DN -> index in ProtectedGroups
	// memberLens holds the lengths of the member DNs: most accounts are in
	// no group of the graph, and checking the length first spares lowering
	// their DN (a poll of 250,000 accounts recomputes every one).
	memberLens map[int]bool
	primary    map[primaryRef]string // resolved primaryGroupIDs, "" when none
}

type primaryRef struct {
	domain string
	rid    int
}

// ApplyPrivileges returns objects with Privilege and PrivilegeUnknown set
// from m. objects is not modified; when nothing changes it is returned
// as is (snapshots are immutable and may share it).
func ApplyPrivileges(objects []*Object, m Membership) []*Object {
	out, _ := UpdatePrivileges(objects, m, false)
	return out
}

// SetPrivileges is ApplyPrivileges for objects the caller owns: it sets
// each object's privilege in place instead of copying every object it
// changes, which for a large LDIF export is nearly every one (issue 9).
func SetPrivileges(objects []*Object, m Membership) {
	ix := m.index()
	for _, o := range objects {
		o.Privilege, o.PrivilegeUnknown = ix.privilegeOf(o)
	}
}

func equalPrivilege(a, b *Privilege) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Group == b.Group && a.SID == b.SID && a.PrimaryGroup == b.PrimaryGroup && slices.Equal(a.Chain, b.Chain)
}

// index finds, for every group of the graph, its shortest chain to a
// protected group: a breadth-first search from the protected groups down
// their member values. A cycle of nested groups (AD allows one) is visited
// once.
func (m Membership) index() *membershipIndex {
	ix := &membershipIndex{
		chains:     map[string]*Privilege{},
		parents:    map[string][]string{},
		bySID:      map[string]string{},
		domains:    m.DomainSIDs,
		complete:   map[string]bool{},
		protected:  map[string]int{},
		memberLens: map[int]bool{},
		primary:    map[primaryRef]string{},
	}
	groups := map[string]*Group{}
	for i := range m.Groups {
		g := &m.Groups[i]
		key := strings.ToLower(g.DN)
		groups[key] = g
		if g.SID != "" {
			ix.bySID[g.SID] = key
		}
		for _, member := range g.Members {
			mk := strings.ToLower(member)
			ix.memberLens[len(member)], ix.memberLens[len(mk)] = true, true
			if !slices.Contains(ix.parents[mk], key) {
				ix.parents[mk] = append(ix.parents[mk], key)
			}
		}
	}
	var queue []string
	for domain, sid := range m.DomainSIDs {
		if slices.Contains(m.PartialDomains, domain) {
			continue
		}
		// The export or the read holds the domain's groups when it holds its
		// Domain Admins and its BUILTIN\Administrators.
		_, da := ix.bySID[fmt.Sprintf("%s-%d", sid, ridDomainAdmins)]
		admins := slices.ContainsFunc(m.Groups, func(g Group) bool {
			return g.SID == fmt.Sprintf("%s-%d", BuiltinDomainSID, ridAdministrators) && g.Domain == domain
		})
		ix.complete[domain] = da && admins
	}
	// Seed the protected groups in ProtectedGroups order, then by DN, so
	// that ties go to the most powerful group, stably.
	type seed struct {
		rank int
		key  string
	}
	var seeds []seed
	for key, g := range groups {
		if rank, ok := protectedRank(g.SID); ok {
			seeds = append(seeds, seed{rank, key})
			ix.protected[key] = rank
		}
	}
	slices.SortFunc(seeds, func(a, b seed) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), strings.Compare(a.key, b.key))
	})
	for _, s := range seeds {
		g := groups[s.key]
		ix.chains[s.key] = &Privilege{Group: ProtectedGroups[s.rank].Name, SID: g.SID, Chain: []string{g.DN}}
		queue = append(queue, s.key)
	}
	for len(queue) > 0 {
		key := queue[0]
		queue = queue[1:]
		parent := ix.chains[key]
		g := groups[key]
		members := slices.Clone(g.Members)
		slices.SortFunc(members, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
		for _, member := range members {
			mk := strings.ToLower(member)
			child, isGroup := groups[mk]
			if _, seen := ix.chains[mk]; !isGroup || seen {
				continue
			}
			ix.chains[mk] = &Privilege{Group: parent.Group, SID: parent.SID, Chain: append([]string{child.DN}, parent.Chain...)}
			queue = append(queue, mk)
		}
	}
	return ix
}

// protectedRank reports whether a group SID is a protected group's and
// its index in ProtectedGroups: BUILTIN (S-1-5-32) or a domain's SID
// (S-1-5-21-<three sub-authorities>) followed by a protected RID.
func protectedRank(sid string) (int, bool) {
	prefix, ridText, ok := cutLast(sid, "-")
	if !ok || (prefix != BuiltinDomainSID && !(strings.HasPrefix(prefix, "S-1-5-21-") && strings.Count(prefix, "-") == 6)) {
		return 0, false
	}
	for i, p := range ProtectedGroups {
		if fmt.Sprint(p.RID) == ridText && p.Builtin == (prefix == BuiltinDomainSID) {
			return i, true
		}
	}
	return 0, false
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return "", "", false
	}
	return s[:i], s[i+len(sep):], true
}

// privilegeOf returns the account's shortest chain to a protected group,
// and whether its privilege is unknown (no chain, and the membership of its
// domain could not be read whole).
func (ix *membershipIndex) privilegeOf(o *Object) (*Privilege, bool) {
	var best *Privilege
	consider := func(groupKey string, primary bool) {
		c, ok := ix.chains[groupKey]
		if !ok {
			return
		}
		if best == nil || len(c.Chain) < len(best.Chain) ||
			(len(c.Chain) == len(best.Chain) && ix.protectedRankOf(c) < ix.protectedRankOf(best)) {
			p := *c
			p.PrimaryGroup = primary
			best = &p
		}
	}
	if ix.memberLens[len(o.DN)] {
		for _, g := range ix.parents[strings.ToLower(o.DN)] {
			consider(g, false)
		}
	}
	if g := ix.primaryGroup(o.Domain, int(o.PrimaryGroupID)); g != "" {
		consider(g, true)
	}
	if best != nil {
		return best, false
	}
	return nil, !ix.complete[o.Domain]
}

// primaryGroup returns the lower-case DN of the graph's group that is the
// primary group rid of an account of domain, or "".
func (ix *membershipIndex) primaryGroup(domain string, rid int) string {
	if rid == 0 {
		return ""
	}
	ref := primaryRef{domain, rid}
	if g, ok := ix.primary[ref]; ok {
		return g
	}
	var g string
	if sid, ok := ix.domains[domain]; ok {
		g = ix.bySID[fmt.Sprintf("%s-%d", sid, rid)]
	}
	ix.primary[ref] = g
	return g
}

func (ix *membershipIndex) protectedRankOf(p *Privilege) int {
	return ix.protected[strings.ToLower(p.Chain[len(p.Chain)-1])]
}
