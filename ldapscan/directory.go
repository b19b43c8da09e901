package ldapscan

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/spnaudit/spnaudit/inventory"
)

// directoryServiceRDN locates the sPNMappings/dSHeuristics object in the
// configuration naming context.
const directoryServiceRDN = "CN=Directory Service,CN=Windows NT,CN=Services,"

// crossRef systemFlags (MS-ADTS 2.2.12).
const (
	crossRefNTDSNC     = 0x1
	crossRefNTDSDomain = 0x2
)

// domainRef is a domain of the forest as described by its crossRef object.
type domainRef struct {
	dns     string // lower case
	netbios string
	nc      string // nCName, the domain naming context
}

// directoryBuilder collects the forest-wide settings from the entries that
// describe them; the LDAP scan and the LDIF reader both feed it.
type directoryBuilder struct {
	forestDNS    string
	domains      map[string]domainRef // by DNS name
	spnMappings  []string
	dsHeuristics string
	dnsNames     map[string]struct{}
	// aesThresholds: whenCreated of each domain's RID-521 group (aes_threshold.go)
	aesThresholds map[string]time.Time
	dcs           dcSet // replmeta.go
}

func newDirectoryBuilder() *directoryBuilder {
	return &directoryBuilder{domains: map[string]domainRef{}, dnsNames: map[string]struct{}{}}
}

// add feeds an entry that describes the directory and reports whether it
// was one (a domain crossRef, the directory service settings, a DNS record).
func (b *directoryBuilder) add(r *record) bool {
	switch {
	case r.has("objectClass", "crossRef"):
		b.addCrossRef(r)
	case r.has("objectClass", "dnsNode"):
		b.addDNSNode(r)
	case r.has("objectClass", "nTDSDSA"), r.has("objectClass", "server"):
		b.dcs.add(r)
	case isDirectoryService(r.dn):
		b.spnMappings = r.strings("sPNMappings")
		b.dsHeuristics = r.first("dSHeuristics")
	case b.addAESThreshold(r):
	default:
		return false
	}
	if b.forestDNS == "" {
		b.forestDNS = forestFromConfigDN(r.dn)
	}
	return true
}

// forestFromConfigDN returns the forest root domain of an object in the
// configuration naming context (CN=...,CN=Configuration,<forest root>), or "".
func forestFromConfigDN(dn string) string {
	i := strings.Index(strings.ToLower(dn), "cn=configuration,")
	if i < 0 {
		return ""
	}
	return inventory.DomainFromDN(dn[i:])
}

func isDirectoryService(dn string) bool {
	return len(dn) > len(directoryServiceRDN) && strings.EqualFold(dn[:len(directoryServiceRDN)], directoryServiceRDN)
}

// addCrossRef records the forest's domains: crossRefs flagged as AD domain
// naming contexts (others describe the configuration, schema, application
// partitions or external directories).
func (b *directoryBuilder) addCrossRef(r *record) {
	flags, err := strconv.ParseInt(r.first("systemFlags"), 10, 64)
	if err != nil || flags&(crossRefNTDSNC|crossRefNTDSDomain) != crossRefNTDSNC|crossRefNTDSDomain {
		return
	}
	dns := strings.ToLower(strings.TrimSuffix(r.first("dnsRoot"), "."))
	if dns == "" {
		return
	}
	b.domains[dns] = domainRef{dns: dns, netbios: r.first("nETBIOSName"), nc: r.first("nCName")}
}

func (b *directoryBuilder) addDNSNode(r *record) {
	if name := dnsOwnerName(r.dn, r.first("name"), r.has("dNSTombstoned", "TRUE")); name != "" {
		b.dnsNames[name] = struct{}{}
	}
}

// dnsOwnerName returns the lower-case FQDN of a dnsNode object, or "" when
// the record names no host an SPN could point at: the zone apex ("@"),
// service locator records ("_ldap._tcp", the _msdcs zone), root hints, the
// trust anchors, reverse lookup zones, and tombstoned (deleted) records.
func dnsOwnerName(dn, name string, tombstoned bool) string {
	if tombstoned {
		return ""
	}
	parsed, err := ldap.ParseDN(dn)
	if err != nil || len(parsed.RDNs) < 2 || len(parsed.RDNs[0].Attributes) != 1 || len(parsed.RDNs[1].Attributes) != 1 {
		return ""
	}
	if name == "" {
		name = parsed.RDNs[0].Attributes[0].Value
	}
	zone := strings.ToLower(strings.TrimSuffix(parsed.RDNs[1].Attributes[0].Value, "."))
	node := strings.ToLower(strings.TrimSuffix(name, "."))
	switch {
	case node == "" || node == "@" || zone == "":
		return ""
	case zone == "rootdnsservers", strings.HasPrefix(zone, ".."), strings.HasSuffix(zone, ".arpa"):
		return ""
	}
	fqdn := node + "." + zone
	for label := range strings.SplitSeq(fqdn, ".") {
		if label == "" || strings.HasPrefix(label, "_") {
			return ""
		}
	}
	return fqdn
}

// directory returns the collected settings. forestDNS is the DNS name of the
// forest root domain.
func (b *directoryBuilder) directory() inventory.Directory {
	d := inventory.Directory{
		ForestDNS:    b.forestDNS,
		SPNMappings:  b.spnMappings,
		DSHeuristics: b.dsHeuristics,
	}
	for dns, ref := range b.domains {
		d.Domains = append(d.Domains, dns)
		if ref.netbios != "" {
			if d.NetBIOSDomains == nil {
				d.NetBIOSDomains = map[string]string{}
			}
			d.NetBIOSDomains[dns] = ref.netbios
		}
	}
	slices.Sort(d.Domains)
	d.DNSNames = b.sortedDNSNames()
	d.AESThresholds = b.aesThresholds
	d.DCs = b.dcs.names()
	return d
}

func (b *directoryBuilder) sortedDNSNames() []string {
	if len(b.dnsNames) == 0 {
		return nil
	}
	names := make([]string, 0, len(b.dnsNames))
	for n := range b.dnsNames {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
