package ldapscan

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/spnaudit/spnaudit/inventory"
)

// The domain's AES threshold: passwords set before the domain could derive
// AES keys have none. The whenCreated of the domain's Read-only Domain
// Controllers group (RID 521, created when the first Windows Server 2008
// domain controller arrived, MS-ADTS 6.1.1.6.11) is the proxy PingCastle and
// Microsoft's RC4 assessment scripts use.

// rodcGroupRID is the relative identifier of the Read-only Domain
// Controllers group (MS-DTYP 2.4.2.4).
const rodcGroupRID = 521

var aesThresholdAttributes = []string{"objectSid", "whenCreated"}

// isRODCGroupSID reports whether sid (binary objectSid) is a domain's RID-521
// group: S-1-5-21-a-b-c-521 (MS-DTYP 2.4.2.2).
func isRODCGroupSID(sid []byte) bool {
	// revision 1, 5 sub-authorities, authority 5 (NT), first sub-authority 21.
	if len(sid) != 8+5*4 || sid[0] != 1 || sid[1] != 5 || string(sid[2:8]) != "\x00\x00\x00\x00\x00\x05" {
		return false
	}
	return binary.LittleEndian.Uint32(sid[8:]) == 21 && binary.LittleEndian.Uint32(sid[8+4*4:]) == rodcGroupRID
}

// addAESThreshold records the whenCreated of a domain's RID-521 group and
// reports whether r was that group, with a readable whenCreated.
func (b *directoryBuilder) addAESThreshold(r *record) bool {
	sid := r.values("objectSid")
	if len(sid) == 0 || !isRODCGroupSID(sid[0]) {
		return false
	}
	domain := inventory.DomainFromDN(r.dn)
	created, err := ber.ParseGeneralizedTime([]byte(r.first("whenCreated")))
	if domain == "" || err != nil {
		return false
	}
	if b.aesThresholds == nil {
		b.aesThresholds = map[string]time.Time{}
	}
	b.aesThresholds[domain] = created.UTC()
	return true
}

// rodcGroupFilter returns the filter that finds the RID-521 group of the
// domain whose SID is domainSID (binary), escaped for an LDAP filter.
func rodcGroupFilter(domainSID []byte) (string, error) {
	if len(domainSID) < 8 || int(domainSID[1]) != (len(domainSID)-8)/4 || (len(domainSID)-8)%4 != 0 {
		return "", fmt.Errorf("objectSid of %d bytes is not a SID", len(domainSID))
	}
	sid := append([]byte{}, domainSID...)
	sid[1]++
	sid = binary.LittleEndian.AppendUint32(sid, rodcGroupRID)
	var f strings.Builder
	f.WriteString("(objectSid=")
	for _, c := range sid {
		fmt.Fprintf(&f, "\\%02x", c)
	}
	f.WriteString(")")
	return f.String(), nil
}

// readAESThresholds reads the RID-521 group of each target's domain: its
// SID is the domain's (the naming context head's objectSid) plus 521. Other
// domains are read through the Global Catalog, which holds both attributes
// (objectSid and whenCreated are in the partial attribute set, MS-ADA3 2.371
// for whenCreated) and every global group such as this one. A
// domain whose group cannot be found is left out, and the audit does not
// judge its passwords' keys; only errors of the directory fail the scan.
func (sc *Scanner) readAESThresholds(ctx context.Context, targets []target, b *directoryBuilder) error {
	for _, t := range targets {
		nc := domainNC(t.nc)
		if nc == "" {
			continue
		}
		s, err := sc.sessionFor(ctx, t)
		if err != nil {
			return err
		}
		// A referral here repeats one the inventory search already counted.
		var refs referrals
		found, err := s.readAESThreshold(ctx, nc, b, &refs)
		if err != nil {
			return stageError(StageConfig, s.ep.url, err)
		}
		if !found {
			sc.log.Warn("cannot tell which accounts lack AES keys: the domain's Read-only Domain Controllers group (RID 521) "+
				"was not readable, so missing-aes-keys skips the domain", "domain", inventory.DomainFromDN(nc),
				"fix", "let the scan account read objectSid and whenCreated of the domain head and of CN=Read-only Domain Controllers")
		}
	}
	return nil
}

// readAESThreshold reads one domain's RID-521 group into b and reports
// whether it was found.
func (s *session) readAESThreshold(ctx context.Context, nc string, b *directoryBuilder, refs *referrals) (bool, error) {
	head, err := s.readEntry(ctx, nc, []string{"objectSid"}, refs)
	if err != nil || head == nil {
		return false, err
	}
	filter, err := rodcGroupFilter(head.GetRawAttributeValue("objectSid"))
	if err != nil {
		return false, nil
	}
	req := ldap.NewSearchRequest(nc, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		filter, aesThresholdAttributes, nil)
	found := false
	_, err = s.stream(ctx, req, refs, func(e *ldap.Entry) error {
		rec, err := recordFromEntry(e)
		if err != nil {
			return err
		}
		found = b.addAESThreshold(rec) || found
		return nil
	})
	return found, err
}

// unknownAESThresholds lists the domains holding SPN accounts whose RID-521
// group the export lacks: missing-aes-keys cannot judge their accounts.
func (lr *ldifReader) unknownAESThresholds(dir inventory.Directory) []string {
	var unknown []string
	for d := range lr.domains {
		if _, ok := dir.AESThresholds[d]; !ok {
			unknown = append(unknown, d)
		}
	}
	slices.Sort(unknown)
	return unknown
}

// AESThresholdHint says what an export without the RID-521 group misses and
// how to include it.
const AESThresholdHint = "the export lacks the domain's Read-only Domain Controllers group (RID 521), so missing-aes-keys " +
	"cannot tell which accounts lack AES keys; export it too, e.g. with the filter " +
	"(|(servicePrincipalName=*)(sAMAccountName=Read-only Domain Controllers)) and its objectSid and whenCreated"
