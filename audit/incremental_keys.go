package audit

import (
	"hash/maphash"
	"strings"

	"github.com/spnaudit/spnaudit/inventory"
)

// The incremental audit (incremental.go) must know which objects a change
// can reach. Every rule relates objects through a few keys, and two objects
// a rule relates share one of them:
//
//   - an SPN, compared as Windows compares SPNs (duplicate-spn and its
//     look-alikes, holders() lookups: delegation-target, host-alias-conflict,
//     missing-spn-pair), and, for a malformed SPN, the value it imitates
//     (malformed-spn's lookalikeOf);
//   - a host name's first label, folded: the SPN hosts, the allowed
//     delegation targets' hosts, a computer's sAMAccountName, dNSHostName and
//     additional names (machines(), knownHost(), namesComputer), and the DC
//     a Samba "dns-<dc>" account is named after (isSambaDNSAccount);
//   - a DN (dateFindings, suppressions, object()) and a SID
//     (objectBySID: resource-based-delegation's principals and their
//     creators).
//
// A key is a hash: a collision only makes the neighbourhood larger. A
// computer bridges its names (missing-spn-pair looks up a computer by its
// NetBIOS name, then holders of its dNSHostName), so a host key reached
// through a computer brings that computer's other names (starKeys).

// seed hashes DNs and SIDs; the keys live no longer than the process.
var seed = maphash.MakeSeed()

// Key kinds are mixed into the hash so that an SPN, a host label and a DN
// with the same text do not meet by accident (they would only widen the
// neighbourhood).
const (
	keySPN  = 0x9e3779b97f4a7c15
	keyHost = 0xc2b2ae3d27d4eb4f
	keyDN   = 0x165667b19e3779f9
	keySID  = 0x27d4eb2f165667c5
)

func spnKey(raw string) uint64 { return looseHash(raw) ^ keySPN }

// hostLabelKey is the key of a host name's first label, compared as
// Windows compares SPNs (looseKey), not only by case as machines() does: a
// holder of "HTTP/ｈ11.corp" is the holder of the "HTTP/h11.corp" that
// missing-spn-pair looks for. A look-alike may also spell the dot in
// another width, so the label is cut after folding.
func hostLabelKey(host string) uint64 {
	if !isASCII(host) {
		host = looseKey(host)
	}
	label, _, _ := strings.Cut(host, ".")
	return looseHash(label) ^ keyHost
}

// dnKey is the key of a DN, folded as object() and dateFindings compare
// DNs (values equal in lower case fold equal too).
func dnKey(dn string) uint64 { return foldHash(dn) ^ keyDN }

func sidKey(sid string) uint64 { return maphash.String(seed, sid) ^ keySID }

// omit drops one relation from the neighbourhood; only
// TestNeighbourhoodNeedsEveryRelation sets it, to show that the
// differential test fails without each.
var omit struct {
	spn, skeleton, host, delegation, computerNames, dnsAccount, dn, sid, principals, bridge, hop, answers bool
}

// objectKeys appends to keys every key of o, and to hosts those that are
// host labels.
func objectKeys(o *inventory.Object, keys, hosts []uint64) ([]uint64, []uint64) {
	addHost := func(host string) {
		if omit.host {
			return
		}
		k := hostLabelKey(host)
		keys = append(keys, k)
		hosts = append(hosts, k)
	}
	spnKeys := func(raw string) {
		if !omit.spn {
			keys = append(keys, spnKey(raw))
		}
		host := spnHost(raw)
		if host != "" {
			addHost(host)
		}
		if mayImitate(raw, host) && !omit.skeleton {
			if look := skeleton(raw); look != "" {
				keys = append(keys, spnKey(look))
			}
		}
	}
	for _, raw := range o.SPNs {
		spnKeys(raw)
	}
	if !omit.delegation {
		for _, raw := range o.AllowedToDelegateTo() {
			spnKeys(raw)
		}
	}
	if o.Kind == inventory.KindComputer && !omit.computerNames {
		for _, k := range nameKeys(o, nil) {
			keys = append(keys, k)
			hosts = append(hosts, k)
		}
	}
	if dc, ok := strings.CutPrefix(strings.ToLower(o.SAMAccountName), "dns-"); ok && dc != "" && !omit.dnsAccount {
		addHost(dc)
	}
	if !omit.dn {
		keys = append(keys, dnKey(o.DN))
	}
	if o.ObjectSID != "" && !omit.sid {
		keys = append(keys, sidKey(o.ObjectSID))
	}
	if !omit.principals {
		for i := range o.AllowedToActOnBehalf() {
			keys = principalKeys(&o.AllowedToActOnBehalf()[i], keys)
		}
	}
	return keys, hosts
}

// spnHost is ParseSPN(raw).Host without the checks (the keys of every
// SPN of the directory are computed with the full audit).
func spnHost(raw string) string {
	_, rest, ok := strings.Cut(raw, "/")
	if !ok {
		return ""
	}
	instance, _, _ := strings.Cut(rest, "/")
	host, _, _ := splitHostPort(instance)
	return host
}

// mayImitate reports whether skeleton(raw) may differ from raw, the value a
// malformed SPN imitates (malformed-spn's lookalikeOf): it drops control
// and space characters, maps non-ASCII look-alikes and a trailing host dot.
// Otherwise the skeleton's key is the SPN's own.
func mayImitate(raw, host string) bool {
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c >= 0x7f {
			return true
		}
	}
	return strings.HasSuffix(host, ".")
}

// principalKeys appends the keys by which a principal names an object: its
// SID and DN, and its creator's.
func principalKeys(p *inventory.Principal, keys []uint64) []uint64 {
	if p.SID != "" {
		keys = append(keys, sidKey(p.SID))
	}
	if p.DN != "" {
		keys = append(keys, dnKey(p.DN))
	}
	if p.CreatorSID != "" {
		keys = append(keys, sidKey(p.CreatorSID))
	}
	if p.Creator != nil {
		keys = principalKeys(p.Creator, keys)
	}
	return keys
}

// nameKeys appends the host-label keys of a computer's names: what
// indexComputers files it under.
func nameKeys(o *inventory.Object, keys []uint64) []uint64 {
	netbios, dnsName := computerNames(o)
	if netbios != "" {
		keys = append(keys, hostLabelKey(netbios))
	}
	if dnsName != "" {
		keys = append(keys, hostLabelKey(dnsName))
	}
	for _, n := range additionalNames(o) {
		if n != "" {
			keys = append(keys, hostLabelKey(n))
		}
	}
	return keys
}
