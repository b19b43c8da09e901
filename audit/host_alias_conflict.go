package audit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spnaudit/spnaudit/inventory"
)

// refADTSUniqueness is MS-ADTS 3.1.1.5.1.3 "Uniqueness Constraints", which
// states SPN alias uniqueness: "setting the servicePrincipalName to CIFS/foo
// will actually check uniqueness for both CIFS/foo and HOST/foo".
const refADTSUniqueness = "https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-adts/3c154285-454c-4353-9a99-fb586e806944"

// hostAliasConflict reports one service instance held by two objects under a
// class and its sPNMappings alias: HOST/r on one object and X/r on another,
// where sPNMappings maps X to HOST (CIFS, HTTP, RPCSS...). The KDC takes an
// explicit SPN first and falls back to the alias, so tickets for X/r are
// encrypted with one account's key and tickets for every other aliased class
// on r with the other's: whichever account the service runs as, Kerberos
// fails for part of it.
//
// This is AD's own rule, whatever the two objects are (two users, a user and
// a DC, two computers): MS-ADTS 3.1.1.5.1.3 (alias uniqueness, KB5008382,
// CVE-2021-42282). The remainder r is compared as Samba's samldb.c compares
// it (samldb_spn_uniqueness_check runs check_spn_direct_collision, then
// check_spn_alias_collision, which finds the other holder of
// "<other class>/<everything after the first '/'>" with get_spn_dn): host,
// ":port" and "/service name" must match whole, case-insensitively, with no
// NetBIOS/DNS or trailing-dot equivalence. CIFS/x:445 meets HOST/x:445, not
// HOST/x; HOST/web01 does not meet CIFS/web01.corp. (Measured on the lab DC,
// Samba 4.17: TestLabAliasDifferential in cmd/spnaudit.) The DC
// checks one direction only when an admin writes (it refuses HOST/r while
// X/r is held elsewhere, and takes X/r while HOST/r is held elsewhere from
// anyone allowed to write both objects; Samba's ldap_spn.py "add a conflict,
// host first, as admin"), but the pair is the same conflict either way, and
// replication lets both in: the audit reports it whichever came first.
//
// Beyond the DC's string match, a computer's names count as its HOST names:
// the KDC resolves HOST/<NetBIOS>, HOST/<dNSHostName> and the additional
// names (msDS-AdditionalDnsHostName, msDS-AdditionalSamAccountName; MS-ADTS
// 3.1.1.5.3.1.1.4) to the same machine, so HTTP/node.corp.example.test on A
// conflicts with node$ holding HOST/node. That is the WinRM trap: a machine's
// own services shadowed by a pool account. Samba's dns-<DC> account takes
// DNS/<dc> on purpose and is left alone.
type hostAliasConflict struct{}

func (hostAliasConflict) ID() string { return RuleHostAliasConflict }

func (hostAliasConflict) Severities() []Severity {
	return []Severity{SeverityHigh, SeverityMedium}
}

func (hostAliasConflict) Check(ix *index) []Finding {
	var out []Finding
	plainCovered := make(map[aliasKey]string)
	var buf []byte
	// The last classes asked about and their answers: the SPNs of an
	// account, and of its neighbours, repeat a few classes (issue 9).
	var memo [4]struct {
		class, target string
		ok            bool
	}
	memoNext := 0
	aliasTarget := func(class string) (string, bool) {
		for i := range memo {
			if memo[i].class == class && class != "" {
				return memo[i].target, memo[i].ok
			}
		}
		target, ok := ix.hostAliasTarget(class)
		memo[memoNext].class, memo[memoNext].target, memo[memoNext].ok = class, target, ok
		memoNext = (memoNext + 1) % len(memo)
		return target, ok
	}
	for a := range ix.objs {
		holder := ix.objs[a]
		// Samba's DNS account is left alone; asked only of an account with
		// an SPN to look at, since it reads the name, a cache line per
		// object (issue 9).
		samba := -1
		for j, raw := range holder.SPNs {
			flags := ix.flags(a, j)
			if flags&spnMalformed != 0 {
				continue // malformed-spn reports those
			}
			// Well formed: the class is the text before the first "/".
			slash := strings.IndexByte(raw, '/')
			target, ok := aliasTarget(raw[:slash])
			if !ok {
				continue
			}
			isAlias := !strings.EqualFold(raw[:slash], target)
			if !isAlias && flags&spnOwnName != 0 {
				continue // a computer's own HOST SPN: found from the alias side
			}
			if samba < 0 {
				samba = 0
				if ix.isSambaDNSAccount(holder) {
					samba = 1
				}
			}
			if samba == 1 {
				break
			}
			var pairedBuf [4]int32
			paired := pairedBuf[:0]
			// AD's rule: the target class with the same remainder, on any
			// other object. Looked up from the alias side only, so each pair
			// is found once, by hash (near-linear, no pairwise scan).
			if isAlias {
				buf = append(append(append(buf[:0], target...), '/'), raw[slash+1:]...)
				for _, h := range ix.spns.holders(string(buf)) {
					if int(h.obj) == a || holdsExactly(ix, h.obj, raw) {
						continue // the same object, or a duplicate reported as such
					}
					paired = append(paired, h.obj)
					spn, _ := ParseSPN(raw)
					other := ix.objs[h.obj]
					hostRaw := ix.spns.raw(h)
					if other.Kind == inventory.KindComputer && ix.flags(int(h.obj), int(h.spn))&spnOwnName != 0 {
						out = append(out, aliasConflictFinding(ix, holder, other, raw, spn, target, hostRaw))
					} else {
						out = append(out, aliasPairFinding(ix, holder, other, raw, spn, target, hostRaw, flags&spnOwnName != 0))
					}
				}
			}
			if flags&spnOwnName != 0 {
				continue // a computer cannot shadow its own HOST names
			}
			spn, _ := ParseSPN(raw)
			// The machine's names: HOST/<any of its names> covers them all.
			var found [4]int32
			for _, m := range ix.machines(spn.Host, found[:0]) {
				if int(m) == a || slices.Contains(paired, m) || holdsExactly(ix, m, raw) {
					continue
				}
				key := aliasKey{m, target}
				covering, known := plainCovered[key]
				if !spn.Plain() || !known {
					covering = coversByAlias(ix.objs[m], target, spn)
					if spn.Plain() {
						plainCovered[key] = covering
					}
				}
				if covering != "" {
					out = append(out, aliasConflictFinding(ix, holder, ix.objs[m], raw, spn, target, covering))
				}
			}
		}
	}
	return out
}

type aliasKey struct {
	machine int32
	target  string
}

func holdsExactly(ix *index, obj int32, raw string) bool {
	for _, r := range ix.spns.holders(raw) {
		if r.obj == obj {
			return true
		}
	}
	return false
}

// coversByAlias returns the target-class SPN (HOST/...) computer m holds for
// one of its own names with the same port and service name as spn, or "".
func coversByAlias(m *inventory.Object, target string, spn SPN) string {
	for _, own := range m.SPNs {
		o, problems := ParseSPN(own)
		if problems == nil && strings.EqualFold(o.Class, target) &&
			o.HasPort == spn.HasPort && strings.EqualFold(o.Port, spn.Port) &&
			o.HasServiceName == spn.HasServiceName && strings.EqualFold(o.ServiceName, spn.ServiceName) &&
			namesComputer(m, o.Host) {
			return own
		}
	}
	return ""
}

// aliasConflictFinding explains the machine case: holder's explicit SPN
// takes a class from the HOST alias of computer machine, whose own services
// (running as the machine) then fail.
func aliasConflictFinding(ix *index, holder, machine *inventory.Object, raw string, spn SPN, target, covering string) Finding {
	sev := SeverityMedium
	if machine.IsDC() || holder.IsDC() {
		sev = SeverityHigh
	}
	targetClass := strings.ToUpper(target)
	hostSPN := targetClass + "/" + spn.Host
	return Finding{
		Rule:     RuleHostAliasConflict,
		Severity: sev,
		SPN:      raw,
		Accounts: []string{holder.DN, machine.DN},
		Message: fmt.Sprintf("%s on %s overrides the %s alias of computer %s: the explicit SPN wins, "+
			"so the KDC encrypts %s tickets for %s with %s's key and Kerberos to %s running as the machine fails.",
			raw, ix.accountName(holder), targetClass, ix.accountName(machine),
			spn.Class, spn.Host, holder.SAMAccountName, aliasVictims(spn.Class)) + ix.iisWinRMNote(holder, machine, spn),
		Remediation: aliasConflictRemediation(ix, holder, machine, raw, spn, hostSPN),
		References:  []string{refSPNMappings, refKB5008382, refSetspn, refPSSessionOption},
		partner:     &covering,
	}
}

// aliasPairFinding explains every other pair: holder has class/r, other has
// HOST/r and is not the machine r names (a user, a gMSA, another computer).
//
// When holder is the computer the name belongs to (its own CIFS/<name>, say),
// the HOST SPN on the other account takes the machine's name: the fix is to
// take it back.
func aliasPairFinding(ix *index, holder, other *inventory.Object, raw string, spn SPN, target, hostRaw string, holderOwnsName bool) Finding {
	sev := SeverityMedium
	if other.IsDC() || holder.IsDC() {
		sev = SeverityHigh
	}
	targetClass := strings.ToUpper(target)
	rest := raw[strings.IndexByte(raw, '/')+1:]
	return Finding{
		Rule:     RuleHostAliasConflict,
		Severity: sev,
		SPN:      raw,
		Accounts: []string{holder.DN, other.DN},
		Message: fmt.Sprintf("%s on %s and %s on %s are one service instance: sPNMappings makes %s an alias of %s, "+
			"and AD allows one account per instance (it refuses %s while %s is held elsewhere). "+
			"The KDC takes the explicit SPN, so %s tickets for %s are encrypted with %s's key, while every other "+
			"%s-aliased class on %s resolves to %s through %s: if the service runs as %s, Kerberos fails for %s (%s); "+
			"if it runs as %s, for every %s-aliased class but %s.",
			raw, ix.accountName(holder), hostRaw, ix.accountName(other), spn.Class, targetClass,
			hostRaw, raw,
			spn.Class, rest, holder.SAMAccountName,
			targetClass, rest, other.SAMAccountName, hostRaw,
			other.SAMAccountName, spn.Class, aliasVictims(spn.Class),
			holder.SAMAccountName, targetClass, spn.Class),
		Remediation: aliasPairRemediation(ix, holder, other, raw, spn, rest, hostRaw, holderOwnsName),
		References:  []string{refSPNMappings, refADTSUniqueness, refKB5008382, refSetspn},
		partner:     &hostRaw,
	}
}

func aliasPairRemediation(ix *index, holder, other *inventory.Object, raw string, spn SPN, rest, hostRaw string, holderOwnsName bool) []string {
	if holderOwnsName {
		return []string{
			fmt.Sprintf("# %s names computer %s, whose services run as the machine: take the name back from %s:",
				rest, ix.accountName(holder), ix.accountName(other)),
			ix.setspnDelete(hostRaw, other),
			ix.setspnAdd(hostRaw, holder),
			fmt.Sprintf("# If %s really runs a service there, register its own class (not HOST) with a port, or publish it "+
				"under its own name.", ix.accountName(other)),
		}
	}
	return []string{
		fmt.Sprintf("# Decide which account runs the service at %s. If it is %s, remove the explicit SPN (%s covers %s):",
			rest, ix.accountName(other), hostRaw, spn.Class),
		ix.setspnDelete(raw, holder),
		fmt.Sprintf("# If it is %s, move %s to it (remove it first: AD refuses it while %s is on another account):",
			ix.accountName(holder), hostRaw, raw),
		ix.setspnDelete(hostRaw, other),
		ix.setspnAdd(hostRaw, holder),
	}
}

// aliasVictims names what breaks when class is taken from the machine.
func aliasVictims(class string) string {
	switch strings.ToLower(class) {
	case "http", "www", "w3svc":
		return "WinRM/PowerShell remoting and web sites (IIS ApplicationPoolIdentity, NetworkService)"
	case "cifs":
		return "SMB file and admin shares"
	case "rpc", "rpcss", "dcom":
		return "DCOM and WMI"
	case "host":
		return "every HOST-aliased service (SMB, WinRM, DCOM/WMI, scheduled tasks...)"
	}
	return "the " + class + " service"
}

func aliasConflictRemediation(ix *index, holder, machine *inventory.Object, raw string, spn SPN, hostSPN string) []string {
	ported := spn.Class + "/" + spn.Host + ":8080"
	lines := []string{
		fmt.Sprintf("# The explicit SPN wins over %s; remove it from %s:", hostSPN, ix.accountName(holder)),
		ix.setspnDelete(raw, holder),
		"# If the service needs Kerberos under this name, register a port-qualified SPN for the port it really " +
			"listens on (8080 here; clients must request it) or publish it under its own VIP/alias name:",
		ix.setspnAdd(ported, holder),
		fmt.Sprintf("# Or run the service as the machine (LocalSystem, NetworkService, ApplicationPoolIdentity) "+
			"so %s covers it with no explicit SPN.", hostSPN),
	}
	if strings.EqualFold(spn.Class, "http") {
		wsman := "HTTP/" + spn.Host + ":5985"
		lines = append(lines,
			"# Meanwhile WinRM keeps Kerberos when it requests a port-qualified SPN registered on the computer:",
			ix.setspnAdd(wsman, machine),
			"Enter-PSSession -ComputerName "+psArg(spn.Host)+" -SessionOption (New-PSSessionOption -IncludePortInSPN)",
		)
	}
	return lines
}
