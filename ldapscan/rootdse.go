package ldapscan

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/spnaudit/spnaudit/inventory"
)

// rootDSE holds what a scan needs from the server's rootDSE.
type rootDSE struct {
	defaultNC, configNC, rootDomainNC string
	namingContexts                    []string
	dnsHostName                       string
	dsServiceName                     string // DN of the DC's nTDSDSA object
	highestUSN                        int64  // highestCommittedUSN; 0 when not an AD DC
	supportedControls                 []string
}

func (r rootDSE) supports(oid string) bool { return slices.Contains(r.supportedControls, oid) }

var rootDSEAttributes = []string{
	"defaultNamingContext", "configurationNamingContext", "rootDomainNamingContext",
	"namingContexts", "dnsHostName", "highestCommittedUSN", "dsServiceName", "supportedControl",
}

func (s *session) readRootDSE(ctx context.Context, refs *referrals) (rootDSE, error) {
	e, err := s.readEntry(ctx, "", rootDSEAttributes, refs)
	if err != nil {
		return rootDSE{}, err
	}
	if e == nil {
		return rootDSE{}, fmt.Errorf("no rootDSE")
	}
	dse := rootDSE{
		defaultNC:         e.GetEqualFoldAttributeValue("defaultNamingContext"),
		configNC:          e.GetEqualFoldAttributeValue("configurationNamingContext"),
		rootDomainNC:      e.GetEqualFoldAttributeValue("rootDomainNamingContext"),
		namingContexts:    e.GetEqualFoldAttributeValues("namingContexts"),
		dnsHostName:       e.GetEqualFoldAttributeValue("dnsHostName"),
		dsServiceName:     e.GetEqualFoldAttributeValue("dsServiceName"),
		supportedControls: e.GetEqualFoldAttributeValues("supportedControl"),
	}
	if v := e.GetEqualFoldAttributeValue("highestCommittedUSN"); v != "" {
		if dse.highestUSN, err = strconv.ParseInt(v, 10, 64); err != nil {
			return rootDSE{}, fmt.Errorf("highestCommittedUSN %q: %w", v, err)
		}
	}
	if dse.defaultNC == "" && dse.rootDomainNC == "" {
		return rootDSE{}, fmt.Errorf("rootDSE has no defaultNamingContext: not an Active Directory domain controller, or access denied")
	}
	return dse, nil
}

// readInvocationID returns the invocationId of the DC's nTDSDSA object: it
// changes when the DC's database is restored, which invalidates any USN
// watermark taken before.
func (s *session) readInvocationID(ctx context.Context, dsServiceName string, refs *referrals) (string, error) {
	if dsServiceName == "" {
		return "", nil
	}
	e, err := s.readEntry(ctx, dsServiceName, []string{"invocationId"}, refs)
	if err != nil || e == nil {
		return "", err
	}
	raw := e.GetEqualFoldRawAttributeValue("invocationId")
	if len(raw) == 0 {
		return "", nil
	}
	return formatGUID(raw)
}

// readForest reads the forest's domains (crossRef objects) and the
// directory service settings (sPNMappings, dSHeuristics) from the
// configuration naming context.
func (s *session) readForest(ctx context.Context, dse rootDSE, b *directoryBuilder, refs *referrals) error {
	b.forestDNS = inventory.DomainFromDN(dse.rootDomainNC)
	if dse.configNC == "" {
		return nil
	}
	req := ldap.NewSearchRequest("CN=Partitions,"+dse.configNC, ldap.ScopeSingleLevel, ldap.NeverDerefAliases,
		0, 0, false, "(objectClass=crossRef)",
		[]string{"objectClass", "nCName", "dnsRoot", "nETBIOSName", "systemFlags"}, nil)
	_, err := s.stream(ctx, req, refs, func(e *ldap.Entry) error {
		rec, err := recordFromEntry(e)
		if err != nil {
			return err
		}
		b.add(rec)
		return nil
	})
	if err != nil {
		return err
	}
	if err := s.readDCs(ctx, dse, b, refs); err != nil { // replmeta.go
		return err
	}
	e, err := s.readEntry(ctx, directoryServiceRDN+dse.configNC, []string{"sPNMappings", "dSHeuristics"}, refs)
	if err != nil {
		return err
	}
	if e == nil {
		s.log.Warn("directory service settings not found, the audit uses defaults", "dn", directoryServiceRDN+dse.configNC)
		return nil
	}
	rec, err := recordFromEntry(e)
	if err != nil {
		return err
	}
	b.add(rec)
	return nil
}

// dnsPartitions lists where this DC keeps AD-integrated DNS zones: the
// DomainDnsZones and ForestDnsZones application partitions it holds, and
// the legacy container of Windows 2000 zones in the domain partition.
func dnsPartitions(dse rootDSE) []string {
	var out []string
	for _, nc := range dse.namingContexts {
		lower := strings.ToLower(nc)
		if strings.HasPrefix(lower, "dc=domaindnszones,") || strings.HasPrefix(lower, "dc=forestdnszones,") {
			out = append(out, nc)
		}
	}
	if dse.defaultNC != "" {
		out = append(out, "CN=MicrosoftDNS,CN=System,"+dse.defaultNC)
	}
	return out
}

var dnsNodeAttributes = []string{"objectClass", "name", "dNSTombstoned"}

// readDNSNames adds the owner names of every DNS record this DC holds.
func (s *session) readDNSNames(ctx context.Context, dse rootDSE, pageSize uint32, b *directoryBuilder, refs *referrals) error {
	for _, base := range dnsPartitions(dse) {
		req := ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=dnsNode)", dnsNodeAttributes, nil)
		err := s.pagedSearch(ctx, req, pageSize, refs, func(page []*ldap.Entry) error {
			for _, e := range page {
				rec, err := recordFromEntry(e)
				if err != nil {
					return err
				}
				b.add(rec)
			}
			return nil
		})
		if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			continue // no zones stored there
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// dnsChangedSince reports whether any DNS record was added, changed or
// deleted after usn, so a poll re-reads the names only when they changed.
func (s *session) dnsChangedSince(ctx context.Context, dse rootDSE, usn int64, refs *referrals) (bool, error) {
	filter := fmt.Sprintf("(&(objectClass=dnsNode)(uSNChanged>=%d))", usn+1)
	for _, base := range dnsPartitions(dse) {
		req := ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 1, 0, false,
			filter, []string{"uSNChanged"}, []ldap.Control{ldap.NewControlMicrosoftShowDeleted()})
		changed := false
		_, err := s.stream(ctx, req, refs, func(*ldap.Entry) error {
			changed = true
			return nil
		})
		switch {
		case changed:
			return true, nil
		case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		case err != nil:
			return false, err
		}
	}
	return false, nil
}

// recordFromEntry turns a go-ldap entry into a record, merging ranged values.
func recordFromEntry(e *ldap.Entry) (*record, error) {
	r := newRecord(e.DN)
	for _, a := range e.Attributes {
		if err := r.add(a.Name, a.ByteValues); err != nil {
			return nil, err
		}
	}
	return r, nil
}
