package audit

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/spnaudit/spnaudit/inventory"
)

// dirGen makes random directories and random changes to them for the
// differential test of the incremental audit: few host names and SPN
// values shared by many objects, so that every relation a rule follows
// (duplicates, look-alikes, aliases of HOST, pairs, ghosts, delegation,
// resource-based delegation, the Samba DNS account) occurs often.
type dirGen struct {
	r     *rand.Rand
	hosts int // host names h0..h(hosts-1)
	next  int // next object number
	home  int // the host the object being made mostly serves
	away  int // percentage of SPNs for a host other than home
}

const genDomain = "corp.example.com"

func (g *dirGen) host() string {
	if g.r.IntN(100) >= g.away {
		if g.r.IntN(10) == 0 {
			return "web" + fmt.Sprint(g.home) // a computer's DNS name, when its NetBIOS name is H<home>
		}
		return "h" + fmt.Sprint(g.home)
	}
	switch n := g.r.IntN(g.hosts + 3); {
	case n == g.hosts:
		return "gone" + fmt.Sprint(g.r.IntN(3)) // a ghost
	case n == g.hosts+1:
		return "web" + fmt.Sprint(g.r.IntN(3)) // a computer's other DNS name
	case n == g.hosts+2:
		return "h" + fmt.Sprint(g.r.IntN(g.hosts)) + "\u200b" // an invisible character: malformed
	default:
		return "h" + fmt.Sprint(n)
	}
}

// hostForm qualifies h half the time.
func (g *dirGen) hostForm(h string) string {
	if g.r.IntN(2) == 0 {
		return h + "." + genDomain
	}
	return h
}

func (g *dirGen) spn() string {
	h := g.hostForm(g.host())
	switch g.r.IntN(24) {
	case 0:
		return "HOST/" + h
	case 1, 12, 13, 14, 15:
		return "HTTP/" + h
	case 2:
		return "http/" + strings.ToUpper(h) // a duplicate in another case
	case 3:
		return "MSSQLSvc/" + h + ":1433"
	case 4:
		return "CIFS/" + h
	case 5:
		return "HTTP/" + strings.Replace(h, "h", "\u04bb", 1) // Cyrillic shha: a look-alike
	case 6:
		return "HTTP/" + strings.Replace(h, "h", "\uff48", 1) // fullwidth h
	case 7:
		if g.r.IntN(100) < g.away {
			return "kadmin/changepw"
		}
		return "kadmin/" + h
	case 8:
		return "DNS/" + h
	case 9:
		if g.r.IntN(100) < g.away {
			return "ldap/" + genDomain
		}
		return "ldap/" + h + "/" + genDomain
	case 10:
		return "WSMAN/" + h
	case 11:
		return "RestrictedKrbHost/" + h
	default:
		return fmt.Sprintf("svc%d/%s", g.r.IntN(4), h)
	}
}

func (g *dirGen) spns(n int) []string {
	out := make([]string, 0, n)
	for range n {
		if s := g.spn(); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func (g *dirGen) sid(n int) string { return fmt.Sprintf("S-1-5-21-1-2-3-%d", 1000+n) }

// object makes a random object; kind picks user, computer or another.
func (g *dirGen) object() inventory.Object {
	n := g.next
	g.next++
	g.home = g.r.IntN(g.hosts)
	o := inventory.Object{
		GUID:       inventory.MustParseGUID(fmt.Sprintf("00000000-0000-0000-0000-%012d", n)),
		Domain:     genDomain,
		ObjectSID:  g.sid(n),
		USNChanged: int64(n),
		PwdLastSet: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Duration(g.r.IntN(900*24)) * time.Hour),
	}
	kind := g.r.IntN(40)
	if kind == 16 && g.r.IntN(5) != 0 {
		kind = 39 // krbtgt accounts are few: every one holds kadmin/changepw
	}
	switch kind {
	case 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15:
		name := fmt.Sprintf("H%d", g.home)
		if g.r.IntN(10) == 0 {
			name = fmt.Sprintf("H%d", g.r.IntN(g.hosts+2))
		}
		o.Kind = inventory.KindComputer
		o.DN = fmt.Sprintf("CN=%s-%d,OU=Computers,DC=corp,DC=example,DC=com", name, n)
		o.SAMAccountName = name + "$"
		o.UserAccountControl = inventory.UACWorkstationTrustAccount
		switch g.r.IntN(4) {
		case 0:
			o.DNSHostName = "web" + fmt.Sprint(g.home) + "." + genDomain
			if g.r.IntN(100) < g.away {
				o.DNSHostName = "web" + fmt.Sprint(g.r.IntN(3)) + "." + genDomain
			}
		case 1:
		default:
			o.DNSHostName = strings.ToLower(name) + "." + genDomain
		}
		if g.r.IntN(8) == 0 {
			o.UserAccountControl = inventory.UACServerTrustAccount | inventory.UACTrustedForDelegation
		}
		if g.r.IntN(6) == 0 {
			o.Additional = &inventory.AdditionalNames{DNSHostNames: []string{g.host() + "." + genDomain}}
		}
		o.SPNs = []string{"HOST/" + name, "HOST/" + strings.ToLower(name) + "." + genDomain}
		o.SPNs = append(o.SPNs, g.spns(g.r.IntN(3))...)
	case 16:
		o.Kind = inventory.KindUser
		o.DN = fmt.Sprintf("CN=krbtgt,CN=Users-%d,DC=corp,DC=example,DC=com", n)
		o.SAMAccountName = "krbtgt"
		o.UserAccountControl = inventory.UACAccountDisable
		o.SPNs = []string{"kadmin/changepw"}
	case 17, 18:
		dc := fmt.Sprintf("h%d", g.home)
		o.Kind = inventory.KindUser
		o.DN = fmt.Sprintf("CN=dns-%s,CN=Users-%d,DC=corp,DC=example,DC=com", dc, n)
		o.SAMAccountName = "dns-" + dc
		o.SPNs = []string{"DNS/" + g.hostForm(dc)}
		if g.r.IntN(2) == 0 {
			o.SPNs = []string{"DNS/" + g.hostForm(g.host())} // for another host than the DC it names
		}
	default:
		o.Kind = inventory.KindUser
		if g.r.IntN(5) == 0 {
			o.Kind = inventory.KindGMSA
		}
		o.DN = fmt.Sprintf("CN=svc%d,OU=Service Accounts,DC=corp,DC=example,DC=com", n)
		if g.r.IntN(10) == 0 {
			o.DN = strings.ToUpper(o.DN) // the same DN in another case, sometimes
		}
		o.SAMAccountName = fmt.Sprintf("svc%d", n)
		o.SPNs = g.spns(1 + g.r.IntN(3))
	}
	g.mutateFlags(&o)
	return o
}

// mutateFlags sets the attributes most rules read besides SPNs.
func (g *dirGen) mutateFlags(o *inventory.Object) {
	if g.r.IntN(8) == 0 {
		o.UserAccountControl ^= inventory.UACAccountDisable
	}
	if g.r.IntN(10) == 0 {
		o.UserAccountControl |= inventory.UACTrustedForDelegation
	}
	if g.r.IntN(10) == 0 {
		o.UserAccountControl |= inventory.UACTrustedToAuthForDelegation
	}
	if g.r.IntN(8) == 0 {
		o.SetAllowedToDelegateTo(g.spns(1 + g.r.IntN(2)))
	}
	if g.r.IntN(4) == 0 {
		e := []uint32{inventory.EncRC4HMAC, inventory.EncAES256, inventory.EncDESCBCMD5 | inventory.EncRC4HMAC, 0}[g.r.IntN(4)]
		o.SupportedEncryptionTypes = &e
	}
	if g.r.IntN(10) == 0 {
		o.AdminCount = 1
	}
	if g.r.IntN(12) == 0 {
		o.Privilege = &inventory.Privilege{Group: "Domain Admins", SID: "S-1-5-21-1-2-3-512", Chain: []string{"CN=Domain Admins,CN=Users,DC=corp,DC=example,DC=com"}}
	}
	if g.r.IntN(15) == 0 {
		o.PwdLastSet = time.Time{}
	}
	if g.r.IntN(3) == 0 {
		o.SPNChanged = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(g.r.IntN(1000)) * time.Hour)
		o.SPNChangedBy = "dc1"
	}
	if g.r.IntN(8) == 0 {
		p := inventory.Principal{SID: g.sid(g.r.IntN(g.next + 1))}
		switch g.r.IntN(4) {
		case 0:
			p.SID = "S-1-1-0"
		case 1:
			p.CreatorSID = g.sid(g.r.IntN(g.next + 1))
		case 2:
			p.DN = fmt.Sprintf("CN=svc%d,OU=Service Accounts,DC=corp,DC=example,DC=com", g.r.IntN(g.next+1))
		}
		o.SetAllowedToActOnBehalf([]inventory.Principal{p})
	}
}

// directory makes a snapshot of n random objects.
func (g *dirGen) directory(n int, dns bool) *inventory.Snapshot {
	snap := &inventory.Snapshot{
		Directory: inventory.Directory{
			ForestDNS:      genDomain,
			Domains:        []string{genDomain},
			NetBIOSDomains: map[string]string{genDomain: "CORP"},
		},
		Started: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
	}
	if dns {
		snap.Directory.DNSNames = []string{"h1." + genDomain, "web1." + genDomain}
	}
	if g.r.IntN(2) == 0 {
		// Directory-wide settings some rules read: SPN uniqueness off,
		// the AES threshold of the domain, the DCs that made changes.
		snap.Directory.DSHeuristics = "00000000010000000002000000011"
		snap.Directory.AESThresholds = map[string]time.Time{genDomain: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
		snap.Directory.DCs = map[string]string{"dc1": "DC1"}
	}
	for range n {
		snap.Objects = append(snap.Objects, new(g.object()))
	}
	sortGenObjects(snap.Objects)
	return snap
}

// sortGenObjects orders objects as ldapscan does (folded DN, then GUID).
func sortGenObjects(objs []*inventory.Object) {
	slices.SortFunc(objs, func(a, b *inventory.Object) int {
		if c := inventory.CompareFold(a.DN, b.DN); c != 0 {
			return c
		}
		return a.GUID.Compare(b.GUID)
	})
}

// change returns a copy of snap after k random edits, sharing the objects
// it did not edit as ldapscan's poll does, and a description of the edits.
func (g *dirGen) change(snap *inventory.Snapshot, k int) (*inventory.Snapshot, []string) {
	next := *snap
	objs := slices.Clone(snap.Objects)
	var what []string
	// The GUIDs of the objects a poll would report: added, deleted or
	// edited (an edit may leave the values as they were, as a poll's
	// changed copy may).
	touched := map[inventory.GUID]bool{}
	defer func() {
		if g.r.IntN(4) != 0 {
			g.setChange(snap, &next, touched)
		}
	}()
	for range k {
		i := g.r.IntN(len(objs) + 1)
		if i == len(objs) || g.r.IntN(12) == 0 {
			o := g.object()
			objs = append(objs, &o)
			touched[o.GUID] = true
			what = append(what, "add "+o.DN)
			continue
		}
		o := *objs[i] // a copy: the previous snapshot's object stays as it was
		touched[o.GUID] = true
		var edit string
		switch g.r.IntN(11) {
		case 0:
			objs = slices.Delete(objs, i, i+1)
			what = append(what, "delete "+o.DN)
			continue
		case 1:
			o.SPNs = append(slices.Clip(o.SPNs), g.spn())
			edit = "add SPN"
		case 2:
			if len(o.SPNs) > 0 {
				o.SPNs = slices.Delete(slices.Clone(o.SPNs), 0, 1)
			}
			edit = "remove SPN"
		case 3:
			// Copy an SPN of another object: a duplicate, or a look-alike.
			other := objs[g.r.IntN(len(objs))]
			if len(other.SPNs) > 0 {
				s := other.SPNs[g.r.IntN(len(other.SPNs))]
				if g.r.IntN(2) == 0 {
					s = strings.Replace(s, "o", "\u043e", 1) // Cyrillic o
				}
				o.SPNs = append(slices.Clip(o.SPNs), s)
			}
			edit = "copy SPN"
		case 4:
			if o.Kind == inventory.KindComputer {
				name := fmt.Sprintf("H%d", g.r.IntN(g.hosts+2))
				o.SAMAccountName = name + "$"
				o.DNSHostName = []string{"", strings.ToLower(name) + "." + genDomain, "web1." + genDomain}[g.r.IntN(3)]
			} else {
				o.SAMAccountName = []string{"dns-h1", "svcx", "krbtgt"}[g.r.IntN(3)]
			}
			edit = "rename host"
		case 5:
			o.SetAllowedToDelegateTo(g.spns(g.r.IntN(3)))
			edit = "delegation"
		case 6:
			if o.Privilege == nil {
				o.Privilege = &inventory.Privilege{Group: "Domain Admins", SID: "S-1-5-21-1-2-3-512"}
			} else {
				o.Privilege = nil
			}
			edit = "privilege"
		case 7:
			e := []uint32{inventory.EncRC4HMAC, inventory.EncAES256 | inventory.EncAES128, 0}[g.r.IntN(3)]
			o.SupportedEncryptionTypes = &e
			edit = "enctypes"
		case 8:
			o.UserAccountControl ^= []uint32{inventory.UACAccountDisable, inventory.UACTrustedForDelegation,
				inventory.UACServerTrustAccount, inventory.UACTrustedToAuthForDelegation}[g.r.IntN(4)]
			edit = "userAccountControl"
		case 9:
			g.mutateFlags(&o)
			edit = "flags"
		default:
			o.SPNs = g.spns(g.r.IntN(4))
			o.PwdLastSet = o.PwdLastSet.Add(-time.Duration(g.r.IntN(400*24)) * time.Hour)
			edit = "replace SPNs, password"
		}
		objs[i] = &o
		what = append(what, edit+" "+o.DN)
	}
	sortGenObjects(objs)
	next.Objects = objs
	return &next, what
}

// setChange records, as ldapscan's poll does, how next was made from
// snap: the objects whose GUID is touched removed and added again.
func (g *dirGen) setChange(snap, next *inventory.Snapshot, touched map[inventory.GUID]bool) {
	var removed, added []int32
	for i := range snap.Objects {
		if touched[snap.Objects[i].GUID] {
			removed = append(removed, int32(i))
		}
	}
	for i := range next.Objects {
		if touched[next.Objects[i].GUID] {
			added = append(added, int32(i))
		}
	}
	if err := next.SetChange(snap, removed, added); err != nil {
		panic(err)
	}
}
