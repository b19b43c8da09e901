package audit

import (
	"slices"
	"strings"
	"sync"
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
// It is built by one Run; the rules read it concurrently (checkAll), so
// what is built on first use is built under a sync.Once.
type index struct {
	snap      *inventory.Snapshot
	objs      []*inventory.Object
	now       time.Time // zero when neither Config.Now nor Snapshot.Started is set
	maxPwdAge time.Duration
	farms     []Farm
	resolved  map[string]bool // hostKey -> resolves, from Config.ResolvedHosts; nil when not resolved

	spns *spnTable
	// spnFlags classifies every SPN once, so that rules skip the common case
	// (a computer's SPN for its own name) without parsing it again; the flags
	// of Objects[i].SPNs[j] are spnFlags[spnStart[i]+j].
	spnFlags []spnFlag
	spnStart []int32
	// objFlags sums up spnFlags per object, so that rules skip an object
	// none of whose SPNs concerns them without reading them (issue 9).
	objFlags []objFlag
	// objSummary answers the rules' first questions per object.
	objSummary []objSummary
	// anyDated: some object has SPNChanged; without one, dateFindings
	// dates nothing and Run skips its walk (issue 9).
	anyDated bool
	// aliasTarget maps a folded service class to the folded class it is an
	// alias of in sPNMappings ("HTTP" -> "HOST").
	aliasTarget map[string]string
	// aliasTargets holds the folded classes that have aliases, mapped to
	// themselves.
	aliasTargets map[string]string
	// computers holds, per computer, the hash of the folded first label of
	// its names (its NetBIOS name, and its dNSHostName's first label when
	// that differs), with ref.obj the computer.
	computers []hashedRef
	dnsNames  nameIndex           // AD-integrated DNS record names
	domains   map[string]struct{} // hostKey of the forest's domain DNS names
	// netbiosDomains holds the lower-case NetBIOS names of the domains,
	// which SPNs such as "HOST/dc1/CORP" use.
	netbiosDomains map[string]struct{}
	domainList     []string         // hostKey of the domain names, in the order given
	farmHosts      map[string][]int // hostKey of every farm VIP and node name -> farms
	farmAccounts   [][]int32        // resolved Farm.Account per farm; built on first use
	byDN           map[string]int32 // folded DN -> object; built on first use
	bySID          map[string]int32 // objectSid -> object; built on first use (delegation.go)
	farmOnce       sync.Once        // guards farmAccounts
	byDNOnce       sync.Once        // guards byDN
	bySIDOnce      sync.Once        // guards bySID
	kdcDefault     KDCDefaultEncTypes

	// iis is Config.IIS (iis.go).
	iis []inventory.IISSite
}

func newIndex(snap *inventory.Snapshot, cfg Config) *index {
	ix := &index{
		snap:      snap,
		objs:      snap.Objects,
		now:       cfg.Now,
		maxPwdAge: cfg.MaxPasswordAge,
		farms:     cfg.Farms,
		iis:       cfg.IIS,
	}
	ix.kdcDefault = cfg.KDCDefaultEncTypes
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
	mappings := snap.Directory.SPNMappings
	if len(mappings) == 0 {
		mappings = defaultSPNMappings
	}
	ix.aliasTarget = parseSPNMappings(mappings)
	ix.aliasTargets = make(map[string]string)
	for _, target := range ix.aliasTarget {
		ix.aliasTargets[target] = target
	}
	// The computers and names are indexed while the SPNs are (issue 9):
	// neither reads what the other builds.
	var wg sync.WaitGroup
	wg.Go(func() {
		ix.indexComputers()
		ix.indexNames()
	})
	ix.indexSPNs(snap.SPNCount())
	wg.Wait()
	return ix
}

type spnFlag uint8

const (
	spnMalformed spnFlag = 1 << iota // ParseSPN reported problems
	spnOwnName                       // a computer's SPN for one of its own names
)

// objSummary holds the answers to the questions most rules ask of every
// object first, so that their passes skip the objects they cannot report
// on by reading one byte each instead of the object (312 bytes, several
// cache lines; issue 9).
type objSummary uint8

const (
	sumUser                 objSummary = 1 << iota // Kind == KindUser
	sumComputer                                    // Kind == KindComputer
	sumEnabled                                     // Enabled()
	sumSPNs                                        // len(SPNs) > 0
	sumDelegatesTo                                 // len(AllowedToDelegateTo) > 0
	sumActOnBehalf                                 // len(AllowedToActOnBehalf) > 0
	sumTrustedForDelegation                        // UACTrustedForDelegation, not a DC
)

func summarize(o *inventory.Object) objSummary {
	var s objSummary
	switch o.Kind {
	case inventory.KindUser:
		s |= sumUser
	case inventory.KindComputer:
		s |= sumComputer
	}
	if o.Enabled() {
		s |= sumEnabled
	}
	if len(o.SPNs) > 0 {
		s |= sumSPNs
	}
	if len(o.AllowedToDelegateTo()) > 0 {
		s |= sumDelegatesTo
	}
	if len(o.AllowedToActOnBehalf()) > 0 {
		s |= sumActOnBehalf
	}
	if o.UserAccountControl&inventory.UACTrustedForDelegation != 0 && !o.IsDC() {
		s |= sumTrustedForDelegation
	}
	return s
}

// has reports whether object i has every property in want.
func (ix *index) has(i int, want objSummary) bool { return ix.objSummary[i]&want == want }

type objFlag uint8

const (
	objAnyMalformed objFlag = 1 << iota // some SPN is spnMalformed
	objAnyOther                         // some SPN is neither spnMalformed nor spnOwnName
)

// indexSPNs builds the SPN table and classifies every SPN in the same pass.
func (ix *index) indexSPNs(count int) {
	ix.spnStart = make([]int32, len(ix.objs)+1)
	n := int32(0)
	for i := range ix.objs {
		ix.spnStart[i] = n
		n += int32(len(ix.objs[i].SPNs))
	}
	ix.spnStart[len(ix.objs)] = n
	ix.spnFlags = make([]spnFlag, n)
	ix.objFlags = make([]objFlag, len(ix.objs))
	// visit runs on several cores: each call writes its own SPN's flags,
	// and its object's, whose SPNs are all visited by one core.
	ix.spns = newSPNTable(ix.objs, int(n), looseHash, func(obj, j int, raw string) {
		var f spnFlag
		host, plain := plainHost(raw)
		malformed := false
		if !plain {
			spn, problems := ParseSPN(raw)
			host, malformed = spn.Host, problems != nil
		}
		o := ix.objs[obj]
		switch {
		case malformed:
			f = spnMalformed
		case o.Kind == inventory.KindComputer && namesComputer(o, host):
			f = spnOwnName
		}
		ix.spnFlags[int(ix.spnStart[obj])+j] = f
		switch f {
		case spnMalformed:
			ix.objFlags[obj] |= objAnyMalformed
		case 0:
			ix.objFlags[obj] |= objAnyOther
		}
	})
}

// flags returns the classification of Objects[obj].SPNs[j].
func (ix *index) flags(obj, j int) spnFlag { return ix.spnFlags[int(ix.spnStart[obj])+j] }

// parseSPNMappings reads values of the form "host=alerter,http,...". When an
// alias is listed twice (in one value or two), the first mapping wins: the
// KDC and the DC's alias check walk the values in order and stop at the first
// that names the class (the later one can never be reached).
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
				if _, mapped := out[a]; !mapped {
					out[a] = target
				}
			}
		}
	}
	return out
}

func (ix *index) indexComputers() {
	n := 0
	ix.objSummary = make([]objSummary, len(ix.objs))
	for i := range ix.objs {
		o := ix.objs[i]
		if o.Kind == inventory.KindComputer {
			n++
		}
		ix.objSummary[i] = summarize(o)
		ix.anyDated = ix.anyDated || !o.SPNChanged.IsZero()
	}
	ix.computers = make([]hashedRef, 0, n)
	for i := range ix.objs {
		o := ix.objs[i]
		if o.Kind != inventory.KindComputer {
			continue
		}
		netbios, dnsName := computerNames(o)
		dnsLabel, _, _ := strings.Cut(dnsName, ".")
		for _, label := range [2]string{netbios, dnsLabel} {
			if label != "" && (label == netbios || !strings.EqualFold(label, netbios)) {
				ix.computers = append(ix.computers, hashedRef{hash: foldHash(label), ref: spnRef{obj: int32(i)}})
			}
		}
		// msDS-AdditionalDnsHostName and msDS-AdditionalSamAccountName
		// name the machine as well (MS-ADTS 3.1.1.5.3.1.1.4).
		for _, name := range additionalNames(o) {
			label, _, _ := strings.Cut(name, ".")
			if label != "" && !strings.EqualFold(label, netbios) && !strings.EqualFold(label, dnsLabel) {
				ix.computers = append(ix.computers, hashedRef{hash: foldHash(label), ref: spnRef{obj: int32(i)}})
			}
		}
	}
	ix.computers = sortedByHash(ix.computers)
}

// additionalNames returns a computer's msDS-AdditionalDnsHostName values and
// its msDS-AdditionalSamAccountName values without the "$".
func additionalNames(o *inventory.Object) []string {
	if o.Additional == nil {
		return nil
	}
	out := make([]string, 0, len(o.Additional.DNSHostNames)+len(o.Additional.SAMAccountNames))
	for _, n := range o.Additional.DNSHostNames {
		out = append(out, strings.TrimSuffix(n, "."))
	}
	for _, n := range o.Additional.SAMAccountNames {
		out = append(out, strings.TrimSuffix(n, "$"))
	}
	return out
}

// computerNames returns a computer's NetBIOS name and DNS host name; either
// may be empty.
func computerNames(o *inventory.Object) (netbios, dnsName string) {
	return strings.TrimSuffix(o.SAMAccountName, "$"), strings.TrimSuffix(o.DNSHostName, ".")
}

func (ix *index) indexNames() {
	dir := &ix.snap.Directory
	ix.dnsNames = newNameIndex(dir.DNSNames)
	ix.domains = make(map[string]struct{})
	ix.netbiosDomains = make(map[string]struct{})
	for _, d := range append([]string{dir.ForestDNS}, dir.Domains...) {
		d = hostKey(strings.TrimSuffix(d, "."))
		if _, seen := ix.domains[d]; d == "" || seen {
			continue
		}
		ix.domains[d] = struct{}{}
		ix.domainList = append(ix.domainList, d)
		ix.netbiosDomains[strings.ToLower(ix.netbiosDomain(d))] = struct{}{}
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

// machines appends to buf the computer accounts a host name refers to: by
// NetBIOS name or dNSHostName (or an additional name), or, for a DNS name no
// computer has as dNSHostName, by its first label among the computers of the
// domain it names. Passing a stack array's buf[:0] keeps lookups
// allocation-free.
func (ix *index) machines(host string, buf []int32) []int32 {
	label, _, _ := strings.Cut(host, ".")
	for _, e := range hashRun(ix.computers, foldHash(label)) {
		if !slices.Contains(buf, e.ref.obj) && namesComputer(ix.objs[e.ref.obj], host) {
			buf = append(buf, e.ref.obj)
		}
	}
	return buf
}

// namesComputer reports whether host is the computer's NetBIOS or DNS name,
// or its NetBIOS name qualified with its domain (for computers without
// dNSHostName).
func namesComputer(m *inventory.Object, host string) bool {
	// The common case first, exact (as computers register their SPNs):
	// it implies the EqualFold comparisons below (issue 9).
	if netbios, dnsName := computerNames(m); host != "" && (host == dnsName || host == netbios) {
		return true
	}
	for _, n := range m.AdditionalDNSHostNames() {
		if strings.EqualFold(host, strings.TrimSuffix(n, ".")) {
			return true
		}
	}
	for _, n := range m.AdditionalSAMAccountNames() {
		// A NetBIOS name, bare or qualified with the computer's domain.
		n = strings.TrimSuffix(n, "$")
		if label, suffix, ok := strings.Cut(host, "."); strings.EqualFold(host, n) ||
			ok && strings.EqualFold(label, n) && strings.EqualFold(suffix, domainOf(m)) {
			return true
		}
	}
	netbios, dnsName := computerNames(m)
	if strings.EqualFold(host, netbios) && netbios != "" || strings.EqualFold(host, dnsName) && dnsName != "" {
		return true
	}
	label, suffix, ok := strings.Cut(host, ".")
	if !ok {
		dnsLabel, _, _ := strings.Cut(dnsName, ".")
		return dnsLabel != "" && strings.EqualFold(label, dnsLabel)
	}
	return strings.EqualFold(label, netbios) && strings.EqualFold(suffix, domainOf(m))
}

// knownHost reports whether a host name belongs to something the directory or
// the configuration vouches for: a computer, a record in AD-integrated DNS, a
// farm name, or (when the caller resolved names) a name that resolves.
func (ix *index) knownHost(host string) bool {
	var found [4]int32
	if len(ix.machines(host, found[:0])) > 0 {
		return true
	}
	if ix.dnsNames.contains(host) {
		return true
	}
	var buf [256]byte
	key := appendLower(buf[:0], host)
	if _, ok := ix.farmHosts[string(key)]; ok {
		return true
	}
	if ix.resolved != nil {
		// The caller resolved the candidates: a name that resolves is known,
		// and so is one DNS could not answer for (absent from the map), since
		// only a definite "no such host" may make a ghost.
		if resolves, answered := ix.resolved[string(key)]; resolves || !answered {
			return true
		}
	}
	if strings.IndexByte(host, '.') >= 0 {
		return false
	}
	for _, d := range ix.domainList {
		if ix.dnsNames.containsQualified(host, d) {
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
	key := appendLower(buf[:0], host)
	if _, ok := ix.domains[string(key)]; ok {
		return true
	}
	_, ok := ix.netbiosDomains[string(key)]
	return ok
}

// object returns the object with the given DN, or -1.
func (ix *index) object(dn string) int32 {
	ix.byDNOnce.Do(func() {
		ix.byDN = make(map[string]int32, len(ix.objs))
		for i := range ix.objs {
			ix.byDN[foldKey(ix.objs[i].DN)] = int32(i)
		}
	})
	if i, ok := ix.byDN[foldKey(dn)]; ok {
		return i
	}
	return -1
}

// isKrbtgt reports whether o is a domain's krbtgt account (or an RODC's
// krbtgt_NNNNN), which holds kadmin/changepw in every domain by design.
func isKrbtgt(o *inventory.Object) bool {
	sam := o.SAMAccountName
	// k folds with K and the Kelvin sign (U+212A, first byte 0xE2) only:
	// any other first byte is no krbtgt, found without a fold per rule and
	// account (issue 9).
	if len(sam) == 0 || sam[0] != 'k' && sam[0] != 'K' && sam[0] != 0xE2 {
		return false
	}
	return strings.EqualFold(sam, "krbtgt") || len(sam) > 7 && strings.EqualFold(sam[:7], "krbtgt_")
}

// isSambaDNSAccount reports whether o is the account a Samba domain
// controller provisions for its DNS server: user dns-<DC name> holding only
// DNS/ SPNs, with a random password Samba sets. The DNS/<dc> SPN on it is
// intended (it takes DNS from the DC's HOST alias on purpose) and the
// password is not a human's.
func (ix *index) isSambaDNSAccount(o *inventory.Object) bool {
	// Only ASCII letters lower-case to d, n and s: a name whose first four
	// bytes are not "dns-" in any case is not one, found without lowering
	// every account's name (issue 9).
	if sam := o.SAMAccountName; len(sam) < 4 || !strings.EqualFold(sam[:4], "dns-") {
		return false
	}
	dc, ok := strings.CutPrefix(strings.ToLower(o.SAMAccountName), "dns-")
	if o.Kind != inventory.KindUser || !ok || dc == "" {
		return false
	}
	for _, raw := range o.SPNs {
		if spn, _ := ParseSPN(raw); !strings.EqualFold(spn.Class, "dns") {
			return false
		}
	}
	var found [4]int32
	for _, m := range ix.machines(dc, found[:0]) {
		if ix.objs[m].IsDC() {
			return true
		}
	}
	return false
}

// passwordAge returns how old o's password is, and false when that is
// unknown (no reference time).
func (ix *index) passwordAge(o *inventory.Object) (time.Duration, bool) {
	if ix.now.IsZero() || o.PwdLastSet.IsZero() {
		return 0, false
	}
	return ix.now.Sub(o.PwdLastSet), true
}
