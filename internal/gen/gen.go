// Package gen writes deterministic directory exports for the benchmarks of
// issue 9: the realistic forest (computers with HOST/ and RestrictedKrbHost/
// SPNs, SQL service accounts, a few duplicates), the flood (user accounts
// whose SPNs name hosts nothing backs, so every rule fires everywhere), and
// the daemon's directory (100,000 objects, 250,000 SPNs at full size).
//
// The exports are LDIF as `ldapsearch -LLL` writes it (lines folded at 76
// columns, base64 for binary values), with the configuration objects the
// LDIF reader takes the forest from: the domain's crossRef and the Directory
// Service object with its sPNMappings. The same arguments always give the
// same bytes, so a figure measured on one machine can be reproduced on
// another.
package gen

import (
	"bufio"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The forest every export describes.
const (
	DNSDomain = "corp.example.test"
	BaseDN    = "DC=corp,DC=example,DC=test"
	NetBIOS   = "CORP"
	configDN  = "CN=Configuration," + BaseDN
)

// Full sizes, as measured in issue 9.
const (
	RealisticComputers  = 250_000
	RealisticServices   = 5_000
	RealisticDuplicates = 50
	FloodUsers          = 250_000
	DirectoryObjects    = 100_000
)

// uac values (MS-ADTS 2.2.16).
const (
	uacNormalAccount      = 0x200
	uacWorkstationTrust   = 0x1000
	uacDontExpirePassword = 0x10000
	uacTrustedForDeleg    = 0x80000
)

// Supported encryption types: AES128 and AES256 (MS-KILE 2.2.7).
const aesOnly = 0x18

// Stats describes what an export holds.
type Stats struct {
	Entries    int   // LDIF records, configuration objects included
	Objects    int   // objects with SPNs
	SPNs       int   // servicePrincipalName values
	Duplicates int   // SPNs registered on two accounts
	Bytes      int64 // size of the LDIF
}

// writer writes LDIF records and counts what it wrote.
type writer struct {
	w     *bufio.Writer
	stats Stats
	err   error
}

func newWriter(w io.Writer) *writer {
	return &writer{w: bufio.NewWriterSize(w, 1<<20)}
}

// attr writes one "name: value" line, base64 when the value is not safe
// (RFC 2849), folded at 76 columns as ldapsearch does.
func (lw *writer) attr(name, value string) {
	line := name + ": " + value
	if !safeString(value) {
		line = name + ":: " + base64.StdEncoding.EncodeToString([]byte(value))
	}
	if name == "servicePrincipalName" {
		lw.stats.SPNs++
	}
	const width = 76
	for len(line) > width {
		lw.write(line[:width])
		lw.write("\n ")
		line = line[width:]
	}
	lw.write(line)
	lw.write("\n")
}

func (lw *writer) write(s string) {
	if lw.err != nil {
		return
	}
	n, err := lw.w.WriteString(s)
	lw.stats.Bytes += int64(n)
	lw.err = err
}

// end closes the current record.
func (lw *writer) end() {
	lw.write("\n")
	lw.stats.Entries++
}

func (lw *writer) finish() (Stats, error) {
	if lw.err == nil {
		lw.err = lw.w.Flush()
	}
	return lw.stats, lw.err
}

// safeString reports whether RFC 2849 allows the value unencoded.
func safeString(s string) bool {
	if s == "" {
		return true
	}
	switch s[0] {
	case ' ', ':', '<':
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 0 || c == '\n' || c == '\r' || c >= 0x80 {
			return false
		}
	}
	return s[len(s)-1] != ' '
}

// guid is a deterministic objectGUID for object i of a kind.
func guid(kind byte, i int) string {
	var b [16]byte
	b[0] = kind
	binary.BigEndian.PutUint64(b[8:], uint64(i)*0x9E3779B97F4A7C15)
	binary.BigEndian.PutUint32(b[4:], uint32(i))
	return string(b[:])
}

// config writes the domain's crossRef and the Directory Service object.
func (lw *writer) config() {
	lw.attr("dn", "CN="+NetBIOS+",CN=Partitions,"+configDN)
	lw.attr("objectClass", "top")
	lw.attr("objectClass", "crossRef")
	lw.attr("nCName", BaseDN)
	lw.attr("dnsRoot", DNSDomain)
	lw.attr("nETBIOSName", NetBIOS)
	lw.attr("systemFlags", "3")
	lw.end()
	lw.attr("dn", "CN=Directory Service,CN=Windows NT,CN=Services,"+configDN)
	lw.attr("objectClass", "top")
	lw.attr("objectClass", "nTDSService")
	lw.attr("sPNMappings", "host=alerter,appmgmt,cisvc,clipsrv,browser,dhcp,dnscache,replicator,eventlog,eventsystem,"+
		"policyagent,oakley,dmserver,dns,mcsvc,fax,msiserver,ias,messenger,netlogon,netman,netdde,netddedsm,nmagent,"+
		"plugplay,protectedstorage,rasman,rpclocator,rpc,rpcss,remoteaccess,rsvp,samss,scardsvr,scesrv,seclogon,scm,"+
		"dcom,cifs,spooler,snmp,schedule,tapisrv,trksvr,trkwks,ups,time,wins,www,http,w3svc,iisadmin,msdtc")
	lw.end()
}

// account is one object with SPNs.
type account struct {
	cn, ou, sam string
	computer    bool
	uac         int
	enctypes    int // 0: not set
	usn         int
	spns        []string
	guidKind    byte
	index       int
}

func (lw *writer) account(a account) {
	lw.attr("dn", "CN="+a.cn+","+a.ou+","+BaseDN)
	lw.attr("objectClass", "top")
	lw.attr("objectClass", "person")
	lw.attr("objectClass", "organizationalPerson")
	lw.attr("objectClass", "user")
	if a.computer {
		lw.attr("objectClass", "computer")
	}
	lw.attr("objectGUID", guid(a.guidKind, a.index))
	lw.attr("sAMAccountName", a.sam)
	lw.attr("userAccountControl", strconv.Itoa(a.uac))
	if a.computer {
		lw.attr("dNSHostName", strings.ToLower(a.cn)+"."+DNSDomain)
	}
	if a.enctypes != 0 {
		lw.attr("msDS-SupportedEncryptionTypes", strconv.Itoa(a.enctypes))
	}
	// 2024-01-01 and a day per thousand objects earlier: a plausible spread.
	lw.attr("pwdLastSet", strconv.FormatInt(133485408000000000-int64(a.index/1000)*864000000000, 10))
	lw.attr("uSNChanged", strconv.Itoa(a.usn))
	for _, s := range a.spns {
		lw.attr("servicePrincipalName", s)
	}
	lw.end()
	lw.stats.Objects++
}

// hostName is the NetBIOS name of computer i.
func hostName(i int) string { return fmt.Sprintf("SRV%06d", i) }

// computer writes computer i with HOST/ and RestrictedKrbHost/ SPNs in
// NetBIOS and FQDN form and AES enctypes, as a domain-joined Windows
// server registers them.
func (lw *writer) computer(i int, nSPNs int) {
	name := hostName(i)
	fqdn := strings.ToLower(name) + "." + DNSDomain
	spns := []string{"HOST/" + fqdn, "HOST/" + name, "RestrictedKrbHost/" + fqdn, "RestrictedKrbHost/" + name}
	lw.account(account{
		cn: name, ou: "OU=Servers", sam: name + "$", computer: true,
		uac: uacWorkstationTrust, enctypes: aesOnly, usn: 100000 + i,
		spns: spns[:nSPNs], guidKind: 'c', index: i,
	})
}

// WriteRealistic writes the realistic forest: computers, then services
// SQL service accounts with MSSQLSvc SPNs (instance port and bare FQDN) on
// computers' hosts, the first duplicates of which also register the SPN of
// another account: computers*4 + services*2 + duplicates SPNs in all.
func WriteRealistic(w io.Writer, computers, services, duplicates int) (Stats, error) {
	if computers < 1 || services < 0 || duplicates > services/2 {
		return Stats{}, fmt.Errorf("gen: realistic export wants at least one computer and duplicates <= services/2")
	}
	lw := newWriter(w)
	lw.config()
	for i := range computers {
		lw.computer(i, 4)
	}
	for i := range services {
		host := strings.ToLower(hostName(i*7919%computers)) + "." + DNSDomain
		spns := []string{"MSSQLSvc/" + host + ":1433", "MSSQLSvc/" + host}
		if i < duplicates {
			// The second half's instance SPN, registered here too: a
			// service account copied from another's template.
			other := services - 1 - i
			spns = append(spns, "MSSQLSvc/"+strings.ToLower(hostName(other*7919%computers))+"."+DNSDomain+":1433")
			lw.stats.Duplicates++
		}
		name := fmt.Sprintf("svc_sql%05d", i)
		lw.account(account{
			cn: name, ou: "OU=Service Accounts", sam: name,
			uac: uacNormalAccount | uacDontExpirePassword, enctypes: aesOnly, usn: 400000 + i,
			spns: spns, guidKind: 's', index: i,
		})
	}
	return lw.finish()
}

// WriteFlood writes users user accounts with four SPNs each on hosts that
// no computer account or DNS record backs, with RC4 (no enctypes set),
// unconstrained delegation and passwords that never expire: every rule
// that judges an account fires on every one.
func WriteFlood(w io.Writer, users int) (Stats, error) {
	if users < 1 {
		return Stats{}, fmt.Errorf("gen: flood export wants at least one user")
	}
	lw := newWriter(w)
	lw.config()
	for i := range users {
		name := fmt.Sprintf("app%06d", i)
		fqdn := name + "." + DNSDomain
		lw.account(account{
			cn: "svc_" + name, ou: "OU=Apps", sam: "svc_" + name,
			uac: uacNormalAccount | uacDontExpirePassword | uacTrustedForDeleg, usn: 500000 + i,
			spns:     []string{"HTTP/" + fqdn, "HTTP/" + strings.ToUpper(name), "MSSQLSvc/" + fqdn + ":1433", "MSSQLSvc/" + fqdn},
			guidKind: 'f', index: i,
		})
	}
	return lw.finish()
}

// WriteDirectory writes the daemon benchmark's directory: objects/2
// computers with four SPNs each and objects/2 SQL service accounts with
// one each on those computers, 2.5 SPNs per object (100,000 objects and
// 250,000 SPNs at full size), and the domain's protected groups, which
// make the first few service accounts privileged.
func WriteDirectory(w io.Writer, objects int) (Stats, error) {
	if objects < 2 {
		return Stats{}, fmt.Errorf("gen: directory wants at least two objects")
	}
	lw := newWriter(w)
	lw.config()
	computers := objects / 2
	for i := range computers {
		lw.computer(i, 4)
	}
	for i := range objects - computers {
		name := fmt.Sprintf("svc_app%06d", i)
		lw.account(account{
			cn: name, ou: "OU=Service Accounts", sam: name,
			uac: uacNormalAccount, enctypes: aesOnly, usn: 400000 + i,
			spns:     []string{"MSSQLSvc/" + strings.ToLower(hostName(i%computers)) + "." + DNSDomain + ":1433"},
			guidKind: 'a', index: i,
		})
	}
	lw.protectedGroups(min(directoryAdmins, objects-computers))
	return lw.finish()
}

// directoryAdmins are how many of the directory's service accounts are
// members of Domain Admins: the privileged kerberoastable accounts most
// audits turn up.
const directoryAdmins = 3

// domainSID is the SID of the generated domain.
const domainSID = "S-1-5-21-1000-2000-3000"

// protectedGroups writes the domain head with its SID and the two groups
// every AD domain holds and the LDIF reader tells privilege from: Domain
// Admins (RID 512), whose members are the built-in Administrator and the
// first admins service accounts, and BUILTIN\Administrators holding it.
// The daemon reads them on every live scan; without them every
// kerberoastable finding would say its privilege is unknown, which the
// live daemon never writes (issue 9: the daemon's memory is measured on
// what it holds live).
func (lw *writer) protectedGroups(admins int) {
	lw.attr("dn", BaseDN)
	lw.attr("objectClass", "top")
	lw.attr("objectClass", "domain")
	lw.attr("objectClass", "domainDNS")
	lw.attr("objectSid", binarySID(domainSID))
	lw.end()
	domainAdmins := "CN=Domain Admins,CN=Users," + BaseDN
	lw.attr("dn", domainAdmins)
	lw.attr("objectClass", "top")
	lw.attr("objectClass", "group")
	lw.attr("objectSid", binarySID(domainSID+"-512"))
	lw.attr("member", "CN=Administrator,CN=Users,"+BaseDN)
	for i := range admins {
		lw.attr("member", "CN="+fmt.Sprintf("svc_app%06d", i)+",OU=Service Accounts,"+BaseDN)
	}
	lw.end()
	lw.attr("dn", "CN=Administrators,CN=Builtin,"+BaseDN)
	lw.attr("objectClass", "top")
	lw.attr("objectClass", "group")
	lw.attr("objectSid", binarySID("S-1-5-32-544"))
	lw.attr("member", domainAdmins)
	lw.end()
}

// binarySID encodes a SID's text form as objectSid holds it (MS-DTYP
// 2.4.2.2): revision, sub-authority count, 48-bit big-endian identifier
// authority, little-endian 32-bit sub-authorities.
func binarySID(text string) string {
	parts := strings.Split(strings.TrimPrefix(text, "S-"), "-")
	rev, _ := strconv.Atoi(parts[0])
	auth, _ := strconv.ParseUint(parts[1], 10, 48)
	b := []byte{byte(rev), byte(len(parts) - 2), 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint16(b[2:], uint16(auth>>32))
	binary.BigEndian.PutUint32(b[4:], uint32(auth))
	for _, p := range parts[2:] {
		v, _ := strconv.ParseUint(p, 10, 32)
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	return string(b)
}
