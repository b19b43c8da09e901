package audit

import (
	"fmt"
	"strings"

	"github.com/spnaudit/spnaudit/inventory"
)

// iisExtendedProtectionSPN checks the SPN list of IIS Extended Protection
// (<extendedProtection><spn name="HTTP/..."/>): IIS accepts only the listed
// service names in the client's service binding. A listed SPN nobody holds
// gets no Kerberos ticket (clients fall back to NTLM, or fail where NTLM is
// off); one held by another account than the pool identity yields tickets
// the site cannot decrypt.
type iisExtendedProtectionSPN struct{}

func (iisExtendedProtectionSPN) ID() string { return RuleIISExtendedProtectionSPN }

func (iisExtendedProtectionSPN) Severities() []Severity {
	return []Severity{SeverityHigh, SeverityMedium}
}

func (iisExtendedProtectionSPN) Check(ix *index) []Finding {
	var out []Finding
	seen := make(map[string]bool)
	ix.eachIISApp(func(site *inventory.IISSite, app *inventory.IISApplication, id iisIdentity) {
		ep := app.WindowsAuth.ExtendedProtection
		if !app.WindowsAuth.Enabled || ep.TokenChecking == inventory.IISTokenCheckingNone || len(id.objs) == 0 {
			return
		}
		for _, spn := range ep.SPNs {
			key := strings.ToLower(site.Node + "|" + site.Name + "|" + app.Pool.Name + "|" + spn)
			if seen[key] {
				continue
			}
			seen[key] = true
			p := ix.placeSPN(spn, id)
			if p.onIdentity {
				continue
			}
			acct := ix.objs[id.objs[0]]
			src := where(site, app, app.WindowsAuth.Source)
			if len(p.others) == 0 {
				out = append(out, Finding{
					Rule: RuleIISExtendedProtectionSPN, Severity: SeverityMedium, SPN: spn,
					Accounts: ix.identityDNs(id),
					Message: fmt.Sprintf("%s lists %s in extendedProtection, but no account holds it: clients using that name get no Kerberos ticket "+
						"and fall back to NTLM, or fail where NTLM is off.", src, quotedSPN(spn)),
					Remediation: []string{
						"# Register it on the pool identity " + id.name + ":",
						ix.setspnAdd(spn, acct),
						"# Or, if clients never use that name, take it off the list:",
						fmt.Sprintf(`%s set config %s /section:system.webServer/security/authentication/windowsAuthentication /-"extendedProtection.[name='%s']" /commit:apphost`,
							appcmdExe, psArg(appPath(site, app)), spn),
					},
					References: []string{refIISExtProt, refSetspn},
				})
				continue
			}
			lines := []string{"# Tickets for it are encrypted with the key of " + ix.names(p.others) + "; move it to the pool identity " + id.name + ":"}
			for _, o := range p.others {
				lines = append(lines, ix.setspnDelete(spn, ix.objs[o]))
			}
			lines = append(lines, ix.setspnAdd(spn, acct))
			out = append(out, Finding{
				Rule: RuleIISExtendedProtectionSPN, Severity: SeverityHigh, SPN: spn,
				Accounts: append(ix.identityDNs(id), ix.dnsOf(p.others)...),
				Message: fmt.Sprintf("%s lists %s in extendedProtection, but it is registered on %s, not on the pool identity %s: "+
					"Kerberos tickets for that name fail to decrypt on this site.", src, quotedSPN(spn), ix.names(p.others), id.name),
				Remediation: lines,
				References:  []string{refIISExtProt, refSetspn},
			})
		}
	})
	return out
}

// appPath is the configuration path of app: Site or Site/app.
func appPath(site *inventory.IISSite, app *inventory.IISApplication) string {
	if app == nil || app.Path == "/" {
		return site.Name
	}
	return site.Name + app.Path
}
