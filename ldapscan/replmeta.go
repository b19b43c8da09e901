package ldapscan

import (
	"context"
	"encoding/binary"
	"encoding/xml"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/spnaudit/spnaudit/inventory"
)

// The replication metadata of an object says, per attribute, when it last
// changed and on which DC the change was made (MS-ADTS 3.1.1.1.9). Windows
// DCs construct msDS-ReplAttributeMetaData, one XML fragment per attribute
// (MS-ADTS 3.1.1.4.5.15), readable by any authenticated user. Samba (4.17,
// measured on the lab DC) does not construct it and returns the stored
// replPropertyMetaData instead, the replPropertyMetaDataBlob of
// [MS-DRSR] 5.168 (drsblobs.idl in Samba), which Windows returns too. Both
// are asked for; the XML form wins when both come.
const (
	attrReplMetaXML    = "msDS-ReplAttributeMetaData"
	attrReplMetaBinary = "replPropertyMetaData"
)

// attidServicePrincipalName is servicePrincipalName's ATTRTYP: OID
// 1.2.840.113556.1.4.771 through the prefix table entry 1.2.840.113556.1.4
// = 0x0009 ([MS-DRSR] 5.16.4), as the lab DC's blobs show (0x90303).
const attidServicePrincipalName = 0x00090303

// spnChange is the last change of servicePrincipalName.
type spnChange struct {
	at  time.Time
	dsa string // invocation ID or NTDS Settings DN
}

// readSPNChange sets o.SPNChanged and o.SPNChangedBy from whichever form of
// the metadata the record carries. Metadata that does not parse is left
// out rather than failing the object: it only dates a finding, and a DC
// build that formats it differently must not stop the audit.
func readSPNChange(r *record, o *inventory.Object) error {
	c, ok := spnChangeFromXML(r.values(attrReplMetaXML))
	if !ok {
		if v := r.values(attrReplMetaBinary); len(v) > 0 {
			c, ok = spnChangeFromBlob(v[0])
		}
	}
	if ok {
		o.SPNChanged, o.SPNChangedBy = c.at, c.dsa
	}
	return nil
}

// replAttrMetaXML is one DS_REPL_ATTR_META_DATA fragment.
type replAttrMetaXML struct {
	Name     string `xml:"pszAttributeName"`
	Changed  string `xml:"ftimeLastOriginatingChange"`
	DSADN    string `xml:"pszLastOriginatingDsaDN"`
	DSAInvID string `xml:"uuidLastOriginatingDsaInvocationID"`
}

// spnChangeFromXML finds servicePrincipalName among the fragments. Windows
// ends each value with a NUL, which XML does not allow.
func spnChangeFromXML(values [][]byte) (spnChange, bool) {
	for _, v := range values {
		var m replAttrMetaXML
		if err := xml.Unmarshal([]byte(strings.TrimRight(string(v), "\x00 \r\n\t")), &m); err != nil {
			continue
		}
		if !strings.EqualFold(strings.TrimSpace(m.Name), "servicePrincipalName") {
			continue
		}
		at, err := time.Parse(time.RFC3339, strings.TrimSpace(m.Changed))
		if err != nil {
			return spnChange{}, false
		}
		dsa := strings.TrimSpace(m.DSADN)
		if dsa == "" {
			dsa = strings.ToLower(strings.TrimSpace(m.DSAInvID))
		}
		return spnChange{at: at.UTC(), dsa: dsa}, true
	}
	return spnChange{}, false
}

// Layout of replPropertyMetaDataBlob version 1: version, reserved, count,
// reserved (4 bytes each), then count replPropertyMetaData1 entries of 48
// bytes: attid, version (4 each), originating_change_time (8, NTTIME_1sec:
// seconds since 1601), originating_invocation_id (16, GUID),
// originating_usn, local_usn (8 each). Little-endian.
const (
	replBlobHeader = 16
	replEntrySize  = 48
	// secondsTo1970 is 1970-01-01 in seconds since 1601-01-01.
	secondsTo1970 = 11644473600
)

func spnChangeFromBlob(b []byte) (spnChange, bool) {
	if len(b) < replBlobHeader || binary.LittleEndian.Uint32(b) != 1 {
		return spnChange{}, false
	}
	count := int(binary.LittleEndian.Uint32(b[8:]))
	if count < 0 || count > (len(b)-replBlobHeader)/replEntrySize {
		return spnChange{}, false
	}
	for i := range count {
		e := b[replBlobHeader+i*replEntrySize:]
		if binary.LittleEndian.Uint32(e) != attidServicePrincipalName {
			continue
		}
		secs := int64(binary.LittleEndian.Uint64(e[8:]))
		if secs <= secondsTo1970 {
			return spnChange{}, false
		}
		inv, err := formatGUID(e[16:32])
		if err != nil {
			return spnChange{}, false
		}
		return spnChange{at: time.Unix(secs-secondsTo1970, 0).UTC(), dsa: inv}, true
	}
	return spnChange{}, false
}

// dcSet collects the forest's DCs from their server objects (dNSHostName)
// and the nTDSDSA objects below them (invocationId), to name the DC of a
// change. Its zero value is ready to use.
type dcSet struct {
	hosts map[string]string // server object DN (lower case) -> dNSHostName
	dsas  map[string]string // nTDSDSA DN (lower case) -> invocation ID
}

func (s *dcSet) add(r *record) {
	if s.hosts == nil {
		s.hosts, s.dsas = map[string]string{}, map[string]string{}
	}
	dn := strings.ToLower(r.dn)
	if r.has("objectClass", "nTDSDSA") {
		inv := ""
		if v := r.values("invocationId"); len(v) > 0 {
			inv, _ = formatGUID(v[0])
		}
		s.dsas[dn] = inv
		return
	}
	if host := strings.ToLower(r.first("dNSHostName")); host != "" {
		s.hosts[dn] = host
	}
}

// names maps each DC's invocation ID and NTDS Settings DN to its host name
// (inventory.Directory.DCs); nil when no DC was read.
func (s *dcSet) names() map[string]string {
	out := map[string]string{}
	for dsa, inv := range s.dsas {
		_, server, ok := strings.Cut(dsa, ",")
		host := s.hosts[server]
		if !ok || host == "" {
			continue
		}
		out[dsa] = host
		if inv != "" {
			out[inv] = host
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// readDCs reads the server and nTDSDSA objects of every site: a few
// entries per DC, read on every scan so a new DC is named at once. A
// directory without CN=Sites (the test server) has none.
func (s *session) readDCs(ctx context.Context, dse rootDSE, b *directoryBuilder, refs *referrals) error {
	if dse.configNC == "" {
		return nil
	}
	req := ldap.NewSearchRequest("CN=Sites,"+dse.configNC, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		0, 0, false, "(|(objectClass=server)(objectClass=nTDSDSA))",
		[]string{"objectClass", "dNSHostName", "invocationId"}, nil)
	_, err := s.stream(ctx, req, refs, func(e *ldap.Entry) error {
		rec, err := recordFromEntry(e)
		if err != nil {
			return err
		}
		b.add(rec)
		return nil
	})
	if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return nil // no sites to read: changes are dated without a DC name
	}
	return err
}
