package audit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spnaudit/spnaudit/inventory"
)

// missingSPNPair reports a service account that holds class/name in only one
// of the host's two forms. Clients ask for a ticket to the name they were
// given (or its DNS canonical form), so the missing form means NTLM.
//
// Only service accounts (users, MSAs, gMSAs) are checked: Windows keeps a
// computer's own SPNs in step with its names. The NetBIOS-without-DNS-form
// case is checked for every class; the reverse only for HTTP, the class whose
// clients (browsers) use short names as typed, while SQL, LDAP and others
// canonicalise to the DNS name. A counterpart held by another account is left
// to duplicate-spn and farm-drift, and SPNs a farm declares to farm-drift.
type missingSPNPair struct{}

func (missingSPNPair) ID() string { return RuleMissingSPNPair }

func (missingSPNPair) Severities() []Severity {
	return []Severity{SeverityMedium, SeverityLow}
}

// pairEntry is one SPN of the account, reduced to what its counterpart must
// share: class, first host label, port and service name.
type pairEntry struct {
	spn  SPN
	raw  string
	dns  bool   // host in DNS form
	stem string // first label of the host
}

func comparePairEntries(a, b pairEntry) int {
	for _, c := range [...]int{
		inventory.CompareFold(a.spn.Class, b.spn.Class),
		inventory.CompareFold(a.stem, b.stem),
		inventory.CompareFold(a.spn.Port, b.spn.Port),
		inventory.CompareFold(a.spn.ServiceName, b.spn.ServiceName),
	} {
		if c != 0 {
			return c
		}
	}
	switch {
	case a.spn.HasPort != b.spn.HasPort:
		return boolCompare(a.spn.HasPort, b.spn.HasPort)
	case a.spn.HasServiceName != b.spn.HasServiceName:
		return boolCompare(a.spn.HasServiceName, b.spn.HasServiceName)
	}
	return 0
}

func boolCompare(a, b bool) int {
	if a == b {
		return 0
	}
	if !a {
		return -1
	}
	return 1
}

func (missingSPNPair) Check(ix *index) []Finding {
	var out []Finding
	var entries []pairEntry // reused across accounts
	for i := range ix.objs {
		if ix.objSummary[i]&(sumComputer|sumSPNs) != sumSPNs {
			continue
		}
		o := ix.objs[i]
		if o.Kind == inventory.KindComputer || isKrbtgt(o) || len(o.SPNs) == 0 {
			continue
		}
		entries = entries[:0]
		for _, raw := range o.SPNs {
			spn, problems := ParseSPN(raw)
			if problems != nil || ix.notAHostName(spn) || ix.farmCovers(int32(i), spn) {
				continue
			}
			stem, suffix, dns := strings.Cut(spn.Host, ".")
			if dns && !ix.isDomainName(suffix) {
				continue // a name outside the forest has no NetBIOS form
			}
			entries = append(entries, pairEntry{spn: spn, raw: raw, dns: dns, stem: stem})
		}
		slices.SortFunc(entries, comparePairEntries)
		for start := 0; start < len(entries); {
			end := start + 1
			for end < len(entries) && comparePairEntries(entries[start], entries[end]) == 0 {
				end++
			}
			out = append(out, pairFindings(ix, o, entries[start:end])...)
			start = end
		}
	}
	return out
}

// pairFindings judges one group of SPNs sharing class, stem, port and
// service name.
func pairFindings(ix *index, o *inventory.Object, group []pairEntry) []Finding {
	hasDNS := slices.ContainsFunc(group, func(e pairEntry) bool { return e.dns })
	hasNetBIOS := slices.ContainsFunc(group, func(e pairEntry) bool { return !e.dns })
	if hasDNS == hasNetBIOS {
		return nil
	}
	e := group[0]
	if hasDNS && !strings.EqualFold(e.spn.Class, "http") {
		return nil
	}
	want := e.spn
	sev := SeverityMedium
	if hasDNS {
		want.Host = e.stem
		sev = SeverityLow
	} else {
		want.Host = dnsNameFor(ix, e.stem, o)
	}
	missing := want.String()
	if len(ix.spns.holders(missing)) > 0 {
		return nil
	}
	form := "DNS"
	if hasDNS {
		form = "NetBIOS"
	}
	return []Finding{{
		Rule:     RuleMissingSPNPair,
		Severity: sev,
		SPN:      e.raw,
		Accounts: []string{o.DN},
		Message: fmt.Sprintf("%s holds %s but not the %s form %s: clients that use that name get no Kerberos ticket and fall back to NTLM.",
			ix.accountName(o), e.raw, form, missing),
		Remediation: []string{ix.setspnAdd(missing, o)},
		References:  []string{refSPNFormats, refSetspn},
	}}
}

// dnsNameFor returns the DNS name of a NetBIOS host: the dNSHostName of the
// computer of that name when there is exactly one, else the name in the
// account's own domain.
func dnsNameFor(ix *index, netbios string, o *inventory.Object) string {
	var found [4]int32
	if m := ix.machines(netbios, found[:0]); len(m) == 1 && ix.objs[m[0]].DNSHostName != "" {
		return strings.ToLower(ix.objs[m[0]].DNSHostName)
	}
	return strings.ToLower(netbios) + "." + domainOf(o)
}
