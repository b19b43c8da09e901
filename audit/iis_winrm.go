package audit

import (
	"fmt"
	"strings"

	"github.com/spnaudit/spnaudit/inventory"
)

// iisWinRM judges the WinRM IIS extension (system.management.wsmanagement.
// config in a web.config): PowerShell remoting served by IIS, inside an
// application pool, under the pool's identity. Clients still request
// HTTP/<node>. When the pool runs as a domain account and http.sys decrypts
// with that account's key (useAppPoolCredentials, or user-mode
// authentication), HTTP/<node> must be on that account; while it sits on the
// computer (its HOST SPN), every Kerberos logon to the IIS-hosted endpoint
// fails. When HTTP/<node> is on the pool identity, it is meant for this
// endpoint: host-alias-conflict then says the WinRM service on 5985 is what
// still breaks (iisWinRMNote).
type iisWinRM struct{}

func (iisWinRM) ID() string { return RuleIISWinRM }

func (iisWinRM) Severities() []Severity { return []Severity{SeverityHigh} }

func (iisWinRM) Check(ix *index) []Finding {
	var out []Finding
	ix.eachIISApp(func(site *inventory.IISSite, app *inventory.IISApplication, id iisIdentity) {
		w := app.WindowsAuth
		if !app.WinRM || id.machine || len(id.objs) != 1 || !usesKerberos(app) || w.UseKernelMode && !w.UseAppPoolCredentials {
			return
		}
		acct := ix.objs[id.objs[0]]
		netbios, fqdn := hostForms(site.Node, ix.identityDomain(site, id))
		var missing, lines []string
		var others []int32
		for _, host := range []string{netbios, fqdn} {
			if host == "" {
				continue
			}
			spn := "HTTP/" + host
			p := ix.placeSPN(spn, id)
			if p.onIdentity {
				continue
			}
			missing = append(missing, spn)
			for _, o := range p.others {
				lines = append(lines, ix.setspnDelete(spn, ix.objs[o]))
			}
			others = append(others, p.others...)
			lines = append(lines, ix.setspnAdd(spn, acct))
		}
		if len(missing) == 0 {
			return
		}
		out = append(out, Finding{
			Rule: RuleIISWinRM, Severity: SeverityHigh, SPN: missing[0],
			Accounts: append([]string{acct.DN}, ix.dnsOf(others)...),
			Message: fmt.Sprintf("%s hosts the WinRM IIS extension under the pool identity %s, which lacks %s: "+
				"tickets for the node are encrypted with the computer's key and PowerShell remoting through IIS fails Kerberos.",
				where(site, app, app.WinRMSource), id.name, strings.Join(missing, " and ")),
			Remediation: append(append([]string{"# The IIS-hosted endpoint decrypts with " + id.name + "'s key; register the node's names on it:"}, lines...),
				"# The WinRM service (5985/5986, as the machine) then needs a port-qualified SPN on the computer, and clients -IncludePortInSPN:",
				"setspn -S "+psArg("HTTP/"+fqdn+":5985")+" "+psArg(ix.machineName(site.Node))),
			References: []string{refWinRMIIS, refIISWindowsAuth, refPSSessionOption},
		})
	})
	return out
}

// machineName is the account name of the node's computer, or NODE$ when
// the inventory has none.
func (ix *index) machineName(node string) string {
	var buf [4]int32
	if m := ix.machines(node, buf[:0]); len(m) == 1 {
		return ix.accountName(ix.objs[m[0]])
	}
	label, _, _ := strings.Cut(node, ".")
	return strings.ToUpper(label) + "$"
}

// iisWinRMNote completes host-alias-conflict's message when the explicit
// SPN on holder is the one the WinRM IIS extension on machine uses: its pool
// runs as holder, so the SPN is intended, and what still fails is the WinRM
// service on 5985, which runs as the machine. "" when no IIS data says so.
func (ix *index) iisWinRMNote(holder, machine *inventory.Object, spn SPN) string {
	if !strings.EqualFold(spn.Class, "http") || spn.HasPort {
		return ""
	}
	for i := range ix.iis {
		site := &ix.iis[i]
		if !namesComputer(machine, site.Node) {
			continue
		}
		for j := range site.Applications {
			app := &site.Applications[j]
			if !app.WinRM {
				continue
			}
			id := ix.poolIdentity(site, app.Pool)
			if id.machine || len(id.objs) != 1 || ix.objs[id.objs[0]].DN != holder.DN {
				continue
			}
			return fmt.Sprintf(" The WinRM IIS extension in %s runs as %s and uses this SPN as intended; "+
				"what still fails is the WinRM service on port 5985, which runs as the machine (clients: -IncludePortInSPN with HTTP/%s:5985 on %s).",
				where(site, app, app.WinRMSource), id.name, spn.Host, ix.accountName(machine))
		}
	}
	return ""
}
