package audit

import (
	"fmt"
	"strings"

	"github.com/spnaudit/spnaudit/inventory"
)

// iisExtendedProtection reports Extended Protection settings that weaken or
// break Windows authentication:
//   - flags AllowDotlessSpn with a NetBIOS (dotless) SPN in the list: a
//     client that resolved the short name through a poisoned NetBIOS or LLMNR
//     answer binds to it and IIS accepts the relayed authentication (medium);
//   - flags NoServiceNameCheck: IIS does not check the service binding at
//     all, so authentication relayed from another service is accepted
//     (medium);
//   - tokenChecking Require without the Proxy flag on a site served only
//     over HTTP: the TLS channel ends at the balancer (SSL offloading), no
//     channel binding token reaches the node, and every Windows logon fails
//     (high).
type iisExtendedProtection struct{}

func (iisExtendedProtection) ID() string { return RuleIISExtendedProtection }

func (iisExtendedProtection) Severities() []Severity {
	return []Severity{SeverityHigh, SeverityMedium}
}

func (iisExtendedProtection) Check(ix *index) []Finding {
	var out []Finding
	seen := make(map[string]bool)
	farmSites := make(map[*inventory.IISSite]string)
	for _, f := range iisFarms(ix.iis) {
		for _, s := range f.sites {
			farmSites[s] = f.vip
		}
	}
	ix.eachIISApp(func(site *inventory.IISSite, app *inventory.IISApplication, id iisIdentity) {
		w := app.WindowsAuth
		ep := w.ExtendedProtection
		if !w.Enabled || ep.TokenChecking == inventory.IISTokenCheckingNone {
			return
		}
		// One finding per node, site, pool and setting: applications sharing
		// them inherit the same section.
		key := strings.ToLower(site.Node + "|" + site.Name + "|" + w.Source.File + "|" + fmt.Sprint(w.Source.Line))
		if seen[key] {
			return
		}
		seen[key] = true
		src := where(site, app, w.Source)
		add := func(sev Severity, spn, msg string, fix ...string) {
			out = append(out, Finding{
				Rule: RuleIISExtendedProtection, Severity: sev, SPN: spn, Accounts: ix.identityDNs(id),
				Message: src + " " + msg, Remediation: fix, References: []string{refIISExtProt},
			})
		}
		flagsWithout := func(drop string) string {
			var keep []string
			for _, f := range ep.Flags {
				if f != drop {
					keep = append(keep, f)
				}
			}
			if len(keep) == 0 {
				return "None"
			}
			return strings.Join(keep, ",")
		}
		if ep.HasFlag(inventory.IISFlagAllowDotlessSpn) {
			var dotless []string
			for _, spn := range ep.SPNs {
				if s, problems := ParseSPN(spn); problems == nil && !strings.Contains(s.Host, ".") {
					dotless = append(dotless, spn)
				}
			}
			if len(dotless) > 0 {
				add(SeverityMedium, dotless[0], fmt.Sprintf("sets extendedProtection flags AllowDotlessSpn with the NetBIOS SPN %s: "+
					"a client that resolved the short name through a poisoned NetBIOS or LLMNR answer binds to it, and IIS accepts the relayed logon.",
					strings.Join(dotless, ", ")),
					iisNodeComment(site.Node, "accept only fully qualified names; clients must use the DNS name:"),
					appcmdWindowsAuth(site, app, "/extendedProtection.flags:"+flagsWithout(inventory.IISFlagAllowDotlessSpn)))
			}
		}
		if ep.HasFlag(inventory.IISFlagNoServiceNameCheck) {
			add(SeverityMedium, "", "sets extendedProtection flags NoServiceNameCheck: IIS does not check the service name clients bound "+
				"their authentication to, so a logon relayed from another service is accepted.",
				iisNodeComment(site.Node, "check the service binding against the spn list:"),
				appcmdWindowsAuth(site, app, "/extendedProtection.flags:"+flagsWithout(inventory.IISFlagNoServiceNameCheck)))
		}
		if ep.TokenChecking == inventory.IISTokenCheckingRequire && !ep.HasFlag(inventory.IISFlagProxy) && httpOnly(site) {
			behind := "served only over HTTP"
			if vip, ok := farmSites[site]; ok {
				behind = "behind the SSL-offloading balancer of " + vip + " (HTTP only on the node)"
			}
			flags := flagsWithout("")
			if flags == "None" {
				flags = inventory.IISFlagProxy
			} else {
				flags += "," + inventory.IISFlagProxy
			}
			add(SeverityHigh, "", "requires channel binding (tokenChecking Require) "+behind+" without the Proxy flag: "+
				"the TLS channel ends before the node, no channel binding token can match, and every Windows logon fails.",
				iisNodeComment(site.Node, "TLS ends at the balancer: check the service binding only (Proxy), with the balancer's names in the spn list:"),
				appcmdWindowsAuth(site, app, "/extendedProtection.flags:"+flags))
		}
	})
	return out
}

// httpOnly reports whether the site has http bindings and no https one.
func httpOnly(site *inventory.IISSite) bool {
	var http, https bool
	for _, b := range site.Bindings {
		http = http || b.Protocol == "http"
		https = https || b.Protocol == "https"
	}
	return http && !https
}
