package audit

import (
	"slices"
	"strings"
	"time"

	"github.com/spnaudit/spnaudit/inventory"
)

// defaultSPNMappings is the sPNMappings value of a new Windows forest, used
// when the directory returned none: the service classes the KDC maps to HOST.
var defaultSPNMappings = []string{
	"host=alerter,appmgmt,cisvc,clipsrv,browser,dhcp,dnscache,replicator,eventlog," +
		"eventsystem,policyagent,oakley,dmserver,dns,mcsvc,fax,msiserver,ias,messenger," +
		"netlogon,netman,netdde,netddedsm,nmagent,plugplay,protectedstorage,rasman," +
		"rpclocator,rpc,rpcss,remoteaccess,rsvp,samss,scardsvr,scesrv,seclogon,scm,dcom," +
		"cifs,spooler,snmp,schedule,tapisrv,trksvr,trkwks,ups,time,wins,www,http,w3svc," +
		"iisadmin,msdtc",
}

// index is what every rule reads: the snapshot plus lookups computed once.
// It is built by one Run and never shared between goroutines.
type index struct {
	snap      *inventory.Snapshot
	objs      []inventory.Object
	now       time.Time // zero when neither Config.Now nor Snapshot.Started is set
	maxPwdAge time.Duration
	farms     []Farm
	resolved  map[string]bool // hostKey -> resolved, from Config.ResolvedHosts

	spns *spnTable
	// aliasTarget maps a folded service class to the folded class it is an
	// alias of in sPNMappings ("HTTP" -> "HOST").
	aliasTarget map[string]string
	// aliasTargets holds the folded classes that have aliases, mapped to
	// themselves.
	aliasTargets map[string]string
	// computers maps a hostKey (NetBIOS name or dNSHostName) to the computer
	// accounts of that name.
	computers map[string][]int32
	dnsNames  map[string]struct{} // hostKey of AD-integrated DNS record names
	domains   map[string]struct{} // hostKey of the forest's domain DNS names
	// netbiosDomains holds the first labels of the domain names, which is
	// what SPNs such as "HOST/dc1/CORP" use; a guess, as the inventory does
	// not carry nETBIOSName.
	netbiosDomains map[string]struct{}
	domainList     []string         // hostKey of the domain names, sorted as given
	farmHosts      map[string][]int // hostKey of every farm VIP and node name -> farms
	farmAccounts   [][]int32        // resolved Farm.Account per farm; built on first use
	byDN           map[string]int32 // folded DN -> object; built on first use
}

func newIndex(snap *inventory.Snapshot, cfg Config) *index {
	ix := &index{
		snap:      snap,
		objs:      snap.Objects,
		now:       cfg.Now,
		maxPwdAge: cfg.MaxPasswordAge,
		farms:     cfg.Farms,
	}
	if ix.now.IsZero() {
		ix.now = snap.Started
	}
	if ix.maxPwdAge <= 0 {
		ix.maxPwdAge = DefaultMaxPasswordAge
	}
	if len(cfg.ResolvedHosts) > 0 {
		ix.resolved = make(map[string]bool, len(cfg.ResolvedHosts))
		for h, ok := range cfg.ResolvedHosts {
			ix.resolved[hostKey(strings.TrimSuffix(h, "."))] = ok
		}
	}
	ix.spns = newSPNTable(ix.objs, snap.SPNCount(), foldHash)
	mappings := snap.Directory.SPNMappings
	if len(mappings) == 0 {
		mappings = defaultSPNMappings
	}
	ix.aliasTarget = parseSPNMappings(mappings)
	ix.aliasTargets = make(map[string]string)
	for _, target := range ix.aliasTarget {
		ix.aliasTargets[target] = target
	}
	ix.indexComputers()
	ix.indexNames()
	return ix
}

// parseSPNMappings reads values of the form "host=alerter,http,...".
func parseSPNMappings(values []string) map[string]string {
	out := make(map[string]string)
	for _, v := range values {
		target, aliases, ok := strings.Cut(v, "=")
		target = foldKey(strings.TrimSpace(target))
		if !ok || target == "" {
			continue
		}
		for a := range strings.SplitSeq(aliases, ",") {
			if a = foldKey(strings.TrimSpace(a)); a != "" && a != target {
				out[a] = target
			}
		}
	}
	return out
}

func (ix *index) indexComputers() {
	ix.computers = make(map[string][]int32)
	// ids lets a name held by one computer share a backing array instead of
	// allocating a one-element slice per name.
	var ids []int32
	for i := range ix.objs {
		o := &ix.objs[i]
		if o.Kind != inventory.KindComputer {
			continue
		}
		if ids == nil {
			ids = make([]int32, len(ix.objs))
			for j := range ids {
				ids[j] = int32(j)
			}
		}
		for _, name := range computerNames(o) {
			if name == "" {
				continue
			}
			key := hostKey(name)
			have := ix.computers[key]
			switch {
			case len(have) == 0:
				ix.computers[key] = ids[i : i+1 : i+1]
			case have[len(have)-1] != int32(i):
				ix.computers[key] = append(have, int32(i))
			}
		}
	}
}

// computerNames returns a computer's NetBIOS name and DNS host name; either
// may be empty.
func computerNames(o *inventory.Object) [2]string {
	return [2]string{
		strings.TrimSuffix(o.SAMAccountName, "$"),
		strings.TrimSuffix(o.DNSHostName, "."),
	}
}

func (ix *index) indexNames() {
	dir := &ix.snap.Directory
	ix.dnsNames = make(map[string]struct{}, len(dir.DNSNames))
	for _, n := range dir.DNSNames {
		ix.dnsNames[hostKey(strings.TrimSuffix(n, "."))] = struct{}{}
	}
	ix.domains = make(map[string]struct{})
	ix.netbiosDomains = make(map[string]struct{})
	for _, d := range append([]string{dir.ForestDNS}, dir.Domains...) {
		d = hostKey(strings.TrimSuffix(d, "."))
		if _, seen := ix.domains[d]; d == "" || seen {
			continue
		}
		ix.domains[d] = struct{}{}
		ix.domainList = append(ix.domainList, d)
		label, _, _ := strings.Cut(d, ".")
		ix.netbiosDomains[label] = struct{}{}
	}
	ix.farmHosts = make(map[string][]int)
	for i, f := range ix.farms {
		for _, n := range f.hostNames() {
			key := hostKey(n)
			if farms := ix.farmHosts[key]; !slices.Contains(farms, i) {
				ix.farmHosts[key] = append(farms, i)
			}
		}
	}
}

// machines returns the computer accounts a host name refers to: by NetBIOS
// name or dNSHostName, or, for a DNS name no computer has as dNSHostName, by
// its first label among the computers of the domain it names. The result
// must not be modified.
func (ix *index) machines(host string) []int32 {
	var buf [128]byte
	if found := ix.computers[string(appendLower(buf[:0], host))]; len(found) > 0 {
		return found
	}
	label, suffix, isFQDN := strings.Cut(host, ".")
	if !isFQDN {
		return nil
	}
	var out []int32
	for _, c := range ix.computers[string(appendLower(buf[:0], label))] {
		if strings.EqualFold(ix.objs[c].Domain, suffix) {
			out = append(out, c)
		}
	}
	return out
}

// knownHost reports whether a host name belongs to something the directory or
// the configuration vouches for: a computer, a record in AD-integrated DNS, a
// farm name, or (when the caller resolved names) a name that resolves.
func (ix *index) knownHost(host string) bool {
	if len(ix.machines(host)) > 0 {
		return true
	}
	var buf [256]byte
	key := appendLower(buf[:0], host)
	if _, ok := ix.dnsNames[string(key)]; ok {
		return true
	}
	if _, ok := ix.farmHosts[string(key)]; ok {
		return true
	}
	if ix.resolved[string(key)] {
		return true
	}
	if strings.IndexByte(host, '.') >= 0 {
		return false
	}
	n := len(key)
	for _, d := range ix.domainList {
		key = append(append(key[:n], '.'), d...)
		if _, ok := ix.dnsNames[string(key)]; ok {
			return true
		}
	}
	return false
}

// hostAliasTarget returns the folded class whose SPNs cover class through
// sPNMappings: "HOST" for HTTP, CIFS, RPCSS... and for HOST itself, which
// covers its host names directly.
func (ix *index) hostAliasTarget(class string) (string, bool) {
	var buf [64]byte
	key := appendFold(buf[:0], class)
	if target, ok := ix.aliasTarget[string(key)]; ok {
		return target, true
	}
	target, ok := ix.aliasTargets[string(key)]
	return target, ok
}

// isDomainName reports whether host is one of the forest's domains (DNS or
// NetBIOS form) or the realm, which SPNs such as krbtgt/REALM name.
func (ix *index) isDomainName(host string) bool {
	var buf [256]byte
	key := string(appendLower(buf[:0], host))
	if _, ok := ix.domains[key]; ok {
		return true
	}
	_, ok := ix.netbiosDomains[key]
	return ok
}

// object returns the object with the given DN, or -1.
func (ix *index) object(dn string) int32 {
	if ix.byDN == nil {
		ix.byDN = make(map[string]int32, len(ix.objs))
		for i := range ix.objs {
			ix.byDN[foldKey(ix.objs[i].DN)] = int32(i)
		}
	}
	if i, ok := ix.byDN[foldKey(dn)]; ok {
		return i
	}
	return -1
}

// isKrbtgt reports whether o is a domain's krbtgt account (or an RODC's
// krbtgt_NNNNN), which holds kadmin/changepw in every domain by design.
func isKrbtgt(o *inventory.Object) bool {
	sam := strings.ToLower(o.SAMAccountName)
	return sam == "krbtgt" || strings.HasPrefix(sam, "krbtgt_")
}

// passwordAge returns how old o's password is, and false when that is
// unknown (no reference time).
func (ix *index) passwordAge(o *inventory.Object) (time.Duration, bool) {
	if ix.now.IsZero() || o.PwdLastSet.IsZero() {
		return 0, false
	}
	return ix.now.Sub(o.PwdLastSet), true
}
