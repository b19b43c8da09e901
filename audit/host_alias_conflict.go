package audit

import (
	"fmt"
	"strings"

	"github.com/spnaudit/spnaudit/inventory"
)

// hostAliasConflict reports the machine-vs-service-account trap: account A
// holds class/host where class is an alias of HOST in sPNMappings (HTTP is),
// while a different computer account holds HOST/ SPNs for that same machine.
// The KDC looks for the explicit SPN first, so A wins and every ticket for
// class/host is encrypted with A's key: services of that class running as the
// machine (WinRM for HTTP, SMB for CIFS...) fail Kerberos.
//
// NetBIOS and DNS forms name the same machine: HTTP/node.corp.example.test on
// A conflicts with node$ holding HOST/node. Port and service name must match
// the computer's HOST SPN (HOST SPNs have none), so HTTP/node:8080 is the fix,
// not a conflict. Samba's dns-<DC> account takes DNS/<dc> on purpose and is
// left alone.
type hostAliasConflict struct{}

func (hostAliasConflict) ID() string { return RuleHostAliasConflict }

func (hostAliasConflict) Severities() []Severity {
	return []Severity{SeverityHigh, SeverityMedium}
}

func (hostAliasConflict) Check(ix *index) []Finding {
	var out []Finding
	plainCovered := make(map[aliasKey]bool)
	for a := range ix.objs {
		holder := &ix.objs[a]
		if ix.isSambaDNSAccount(holder) {
			continue
		}
		for j, raw := range holder.SPNs {
			if ix.flags(a, j)&(spnMalformed|spnOwnName) != 0 {
				continue // malformed-spn reports those; a computer cannot conflict with itself
			}
			spn, _ := ParseSPN(raw)
			target, ok := ix.hostAliasTarget(spn.Class)
			if !ok {
				continue
			}
			var found [4]int32
			for _, m := range ix.machines(spn.Host, found[:0]) {
				if int(m) == a || holdsExactly(ix, m, raw) {
					continue // the same account, or a duplicate, reported as such
				}
				key := aliasKey{m, target}
				covered, known := plainCovered[key]
				if !spn.Plain() || !known {
					covered = coversByAlias(&ix.objs[m], target, spn)
					if spn.Plain() {
						plainCovered[key] = covered
					}
				}
				if covered {
					out = append(out, aliasConflictFinding(ix, holder, &ix.objs[m], raw, spn, target))
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

// coversByAlias reports whether computer m holds a target-class SPN (HOST/...)
// for one of its own names with the same port and service name as spn.
func coversByAlias(m *inventory.Object, target string, spn SPN) bool {
	for _, own := range m.SPNs {
		o, problems := ParseSPN(own)
		if problems == nil && strings.EqualFold(o.Class, target) &&
			o.HasPort == spn.HasPort && strings.EqualFold(o.Port, spn.Port) &&
			o.HasServiceName == spn.HasServiceName && strings.EqualFold(o.ServiceName, spn.ServiceName) &&
			namesComputer(m, o.Host) {
			return true
		}
	}
	return false
}

func aliasConflictFinding(ix *index, holder, machine *inventory.Object, raw string, spn SPN, target string) Finding {
	sev := SeverityMedium
	if machine.IsDC() {
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
