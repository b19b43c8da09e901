package audit

import (
	"fmt"
	"strings"
)

// uniquenessCheckDisabled reports the 21st character of dSHeuristics
// (DoNotVerifyUPNAndOrSPNUniqueness, MS-ADTS 6.1.1.2.4.1.2 and 3.1.1.5.1.3),
// a bit mask: 1 disables UPN uniqueness, 2 SPN uniqueness, 4 SPN alias
// uniqueness (KB5008382). Any other character leaves the checks on.
type uniquenessCheckDisabled struct{}

func (uniquenessCheckDisabled) ID() string { return RuleUniquenessCheckDisabled }

func (uniquenessCheckDisabled) Severities() []Severity {
	return []Severity{SeverityHigh, SeverityMedium}
}

// dsHeuristicsUniqueness is the index of DoNotVerifyUPNAndOrSPNUniqueness.
const dsHeuristicsUniqueness = 20

func (uniquenessCheckDisabled) Check(ix *index) []Finding {
	heuristics := []rune(ix.snap.Directory.DSHeuristics)
	if len(heuristics) <= dsHeuristicsUniqueness {
		return nil
	}
	c := heuristics[dsHeuristicsUniqueness]
	if c < '0' || c > '9' {
		return nil
	}
	bits := c - '0'
	var off []string
	sev := SeverityMedium
	if bits&2 != 0 {
		off = append(off, "SPN uniqueness (domain controllers accept duplicate SPNs)")
		sev = SeverityHigh
	}
	if bits&4 != 0 {
		off = append(off, "SPN alias uniqueness (non-admins can register HTTP/host over a computer's HOST/host)")
	}
	if bits&1 != 0 {
		off = append(off, "UPN uniqueness")
	}
	if len(off) == 0 {
		return nil
	}
	heuristics[dsHeuristicsUniqueness] = '0'
	var accounts []string
	if forest := ix.snap.Directory.ForestDNS; forest != "" {
		accounts = []string{"CN=Directory Service,CN=Windows NT,CN=Services,CN=Configuration," + dcComponents(forest)}
	}
	return []Finding{{
		Rule:     RuleUniquenessCheckDisabled,
		Severity: sev,
		Accounts: accounts,
		Message: fmt.Sprintf("dSHeuristics character 21 (DoNotVerifyUPNAndOrSPNUniqueness) is '%c', which disables %s, "+
			"so the problems this audit reports can be re-created at any time.", c, strings.Join(off, ", ")),
		Remediation: []string{
			"# Set character 21 back to 0 and keep every other character as it is:",
			fmt.Sprintf(`Set-ADObject -Identity "CN=Directory Service,CN=Windows NT,CN=Services,$((Get-ADRootDSE).configurationNamingContext)" -Replace @{dSHeuristics=%s}`,
				psQuote(string(heuristics))),
		},
		References: []string{refDSHeuristics, refUniqueness, refKB5008382},
	}}
}

// dcComponents turns corp.example.test into DC=corp,DC=example,DC=test.
func dcComponents(dnsName string) string {
	labels := strings.Split(strings.TrimSuffix(dnsName, "."), ".")
	for i, l := range labels {
		labels[i] = "DC=" + l
	}
	return strings.Join(labels, ",")
}
