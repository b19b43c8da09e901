package audit

import (
	"fmt"
	"slices"

	"github.com/spnaudit/spnaudit/inventory"
)

// ghostSPN reports an SPN whose host nobody vouches for: no computer account
// has that name, no record exists in the AD-integrated DNS zones, no farm
// declares it, and (when the caller resolved names) it does not resolve.
// Whoever registers that name (by default any authenticated user can create
// a record in AD-integrated DNS) receives the Kerberos tickets meant for the
// holder, and with them its delegated credentials.
//
// Not host names, so never ghosts: domain names and the realm, GUID-based
// names (DC replication SPNs, <guid>._msdcs), IP literals, kadmin/changepw.
type ghostSPN struct{}

func (ghostSPN) ID() string { return RuleGhostSPN }

func (ghostSPN) Severities() []Severity {
	return []Severity{SeverityHigh, SeverityMedium, SeverityInfo}
}

func (ghostSPN) Check(ix *index) []Finding {
	if f, blind := ghostBlind(ix); blind {
		return []Finding{f}
	}
	var out []Finding
	eachGhost(ix, func(o *inventory.Object, raw string, spn SPN) {
		out = append(out, ghostFinding(ix, o, raw, spn))
	})
	return out
}

// ghostBlind reports, once and as info, an inventory that vouches for no
// host at all (no computer account, no AD-integrated DNS record, no DNS
// resolution): an LDIF export of user accounts only, say. Every SPN of it
// would be a ghost, which says nothing about the directory.
func ghostBlind(ix *index) (Finding, bool) {
	if len(ix.computers) > 0 || len(ix.snap.Directory.DNSNames) > 0 || ix.resolved != nil {
		return Finding{}, false
	}
	n := 0
	eachGhost(ix, func(*inventory.Object, string, SPN) { n++ })
	if n == 0 {
		return Finding{}, false
	}
	return Finding{
		Rule:     RuleGhostSPN,
		Severity: SeverityInfo,
		Message: fmt.Sprintf("ghost-spn cannot judge the %d SPNs that name a host: the inventory holds no computer account "+
			"and no AD-integrated DNS record, so nothing vouches for any host name and every one would be reported.", n),
		Remediation: []string{
			"# Export the computers and the DNS zones too, e.g.:",
			`ldifde -f export.ldf -r "(|(servicePrincipalName=*)(objectClass=computer)(objectClass=dnsNode))" -l servicePrincipalName,sAMAccountName,dNSHostName,userAccountControl,objectClass,name`,
			"# or let spnaudit read the directory itself, or set audit.resolve_dns: true to ask DNS.",
		},
		References: []string{refSPNFormats},
	}, true
}

// eachGhost calls fn for every SPN whose host is unknown.
func eachGhost(ix *index, fn func(o *inventory.Object, raw string, spn SPN)) {
	for i := range ix.objs {
		if ix.objFlags[i]&objAnyOther == 0 {
			continue // every SPN malformed or the computer's own name
		}
		o := ix.objs[i]
		krbtgt := -1 // isKrbtgt(o) once asked: it reads the name, another cache line per object (issue 9)
		for j, raw := range o.SPNs {
			if ix.flags(i, j)&(spnMalformed|spnOwnName) != 0 {
				continue // malformed-spn reports those; a computer's own name is known
			}
			if krbtgt < 0 {
				krbtgt = 0
				if isKrbtgt(o) {
					krbtgt = 1
				}
			}
			if krbtgt == 1 {
				break
			}
			spn, _ := ParseSPN(raw)
			if !ix.notAHostName(spn) && !ix.knownHost(spn.Host) {
				fn(o, raw, spn)
			}
		}
	}
}

// GhostCandidates returns the host names (lower case, sorted, unique) that
// ghost-spn would report because nothing in the directory or configuration
// vouches for them. A caller with audit.resolve_dns resolves these, and only
// these, and passes the answers in Config.ResolvedHosts.
func GhostCandidates(snap *inventory.Snapshot, cfg Config) []string {
	cfg.ResolvedHosts = nil
	ix := newIndex(snap, cfg)
	var hosts []string
	eachGhost(ix, func(_ *inventory.Object, _ string, spn SPN) {
		hosts = append(hosts, hostKey(spn.Host))
	})
	slices.Sort(hosts)
	return slices.Compact(hosts)
}

// trustedToDelegate reports whether tickets sent to o can be used on the
// sender's behalf elsewhere.
func trustedToDelegate(o *inventory.Object) bool {
	return o.UserAccountControl&(inventory.UACTrustedForDelegation|inventory.UACTrustedToAuthForDelegation) != 0 ||
		len(o.AllowedToDelegateTo()) > 0
}

func ghostFinding(ix *index, o *inventory.Object, raw string, spn SPN) Finding {
	sev := SeverityMedium
	impact := "tickets meant for it"
	if trustedToDelegate(o) {
		sev = SeverityHigh
		impact = "tickets meant for it and, as the account is trusted for delegation, the credentials delegated with them"
	}
	return Finding{
		Rule:     RuleGhostSPN,
		Severity: sev,
		SPN:      raw,
		Accounts: []string{o.DN},
		Message: fmt.Sprintf("%s on %s names host %s, which matches no computer account, AD DNS record or farm: "+
			"whoever registers that name receives %s.", raw, ix.accountName(o), spn.Host, impact),
		Remediation: []string{
			ix.setspnDelete(raw, o),
			fmt.Sprintf("# If %s still exists outside AD DNS, declare it as a farm VIP in audit.farms or enable audit.resolve_dns.", spn.Host),
		},
		References: []string{refSPNFormats, refSetspn},
	}
}
