package audit

import (
	"fmt"
)

// disabledAccountSPN reports a disabled account that still holds SPNs: the
// service is gone (or broken, as the KDC refuses tickets for it), and the
// SPNs block registering them on the account that replaces it. krbtgt is
// disabled by design and exempt.
type disabledAccountSPN struct{}

func (disabledAccountSPN) ID() string { return RuleDisabledAccountSPN }

func (disabledAccountSPN) Severities() []Severity { return []Severity{SeverityLow} }

func (disabledAccountSPN) Check(ix *index) []Finding {
	var out []Finding
	for i := range ix.objs {
		if !ix.has(i, sumSPNs) || ix.has(i, sumEnabled) {
			continue
		}
		o := ix.objs[i]
		if o.Enabled() || isKrbtgt(o) || len(o.SPNs) == 0 {
			continue
		}
		out = append(out, Finding{
			Rule:     RuleDisabledAccountSPN,
			Severity: SeverityLow,
			Accounts: []string{o.DN},
			Message: fmt.Sprintf("%s is disabled but still holds %d SPN(s) (%s), which no service can use "+
				"and which block registering them elsewhere.", ix.accountName(o), len(o.SPNs), listNames(o.SPNs, 2)),
			Remediation: []string{
				"setspn -L " + psArg(ix.accountName(o)),
				"Set-ADObject -Identity " + psQuote(o.DN) + " -Clear servicePrincipalName",
			},
			References: []string{refSetspn, refSetADObject},
		})
	}
	return out
}
