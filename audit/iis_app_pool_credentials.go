package audit

import (
	"fmt"
	"strings"

	"github.com/spnaudit/spnaudit/inventory"
)

// iisAppPoolCredentials reports a mismatch between where a site's HTTP SPNs
// are registered and the key kernel-mode Windows authentication decrypts
// tickets with. With useKernelMode, http.sys decrypts with the computer
// account's key unless useAppPoolCredentials is true, when it uses the
// application pool identity's key. So:
//   - SPNs on the pool's domain account, useAppPoolCredentials false: the
//     ticket is encrypted with the account's key and the machine's key
//     cannot decrypt it (KRB_AP_ERR_MODIFIED, then NTLM or a 401);
//   - useAppPoolCredentials true on a pool running as a domain account while
//     the SPNs sit on a computer account: the reverse.
type iisAppPoolCredentials struct{}

func (iisAppPoolCredentials) ID() string { return RuleIISAppPoolCredentials }

func (iisAppPoolCredentials) Severities() []Severity { return []Severity{SeverityHigh} }

func (iisAppPoolCredentials) Check(ix *index) []Finding {
	var out []Finding
	seen := make(map[string]bool)
	ix.eachIISApp(func(site *inventory.IISSite, app *inventory.IISApplication, id iisIdentity) {
		w := app.WindowsAuth
		if !usesKerberos(app) || !w.UseKernelMode || id.machine || len(id.objs) != 1 {
			return
		}
		key := strings.ToLower(site.Node + "|" + site.Name + "|" + app.Pool.Name)
		if seen[key] {
			return
		}
		domain := ix.identityDomain(site, id)
		var onPool, onMachine []string
		var machines []int32
		for _, h := range site.HostHeaders() {
			netbios, fqdn := hostForms(h, domain)
			for _, host := range []string{netbios, fqdn} {
				if host == "" {
					continue
				}
				spn := "HTTP/" + host
				p := ix.placeSPN(spn, id)
				switch {
				case p.onIdentity:
					onPool = appendFoldUnique(onPool, spn)
				case ix.heldByComputer(p.others):
					onMachine = appendFoldUnique(onMachine, spn)
					for _, o := range p.others {
						if ix.objs[o].Kind == inventory.KindComputer {
							machines = append(machines, o)
						}
					}
				}
			}
		}
		acct := ix.objs[id.objs[0]]
		switch {
		case !w.UseAppPoolCredentials && len(onPool) > 0:
			seen[key] = true
			out = append(out, Finding{
				Rule: RuleIISAppPoolCredentials, Severity: SeverityHigh, SPN: onPool[0],
				Accounts: []string{acct.DN},
				Message: fmt.Sprintf("%s authenticates in kernel mode without useAppPoolCredentials while %s %s on the pool identity %s: "+
					"http.sys decrypts tickets with the computer account's key, so every Kerberos ticket for the site fails to decrypt.",
					where(site, app, w.Source), strings.Join(onPool, ", "), isAre(len(onPool)), id.name),
				Remediation: []string{
					iisNodeComment(site.Node, "decrypt tickets with the pool identity's key (the same on every node of a farm):"),
					appcmdWindowsAuth(site, app, "/useKernelMode:true /useAppPoolCredentials:true"),
				},
				References: []string{refIISWindowsAuth, refIISKernelMode},
			})
		case w.UseAppPoolCredentials && len(onPool) == 0 && len(onMachine) > 0:
			seen[key] = true
			lines := []string{"# Move the SPNs to the pool identity (the farm's account):"}
			for _, spn := range onMachine {
				for _, m := range machines {
					if holdsExactly(ix, m, spn) {
						lines = append(lines, ix.setspnDelete(spn, ix.objs[m]))
					}
				}
				lines = append(lines, ix.setspnAdd(spn, acct))
			}
			lines = append(lines, "# Or, if the site is not load balanced, decrypt with the machine key:",
				appcmdWindowsAuth(site, app, "/useAppPoolCredentials:false"))
			out = append(out, Finding{
				Rule: RuleIISAppPoolCredentials, Severity: SeverityHigh, SPN: onMachine[0],
				Accounts: append([]string{acct.DN}, ix.dnsOf(machines)...),
				Message: fmt.Sprintf("%s sets useAppPoolCredentials, so http.sys decrypts tickets with the key of %s, "+
					"but %s %s registered on computer %s: every Kerberos ticket for the site fails to decrypt.",
					where(site, app, w.Source), id.name, strings.Join(onMachine, ", "), isAre(len(onMachine)), ix.names(uniq(machines))),
				Remediation: lines,
				References:  []string{refIISWindowsAuth, refIISKernelMode, refSetspn},
			})
		}
	})
	return out
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func appendFoldUnique(list []string, s string) []string {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return list
		}
	}
	return append(list, s)
}

func uniq(objs []int32) []int32 {
	var out []int32
	for _, o := range objs {
		dup := false
		for _, v := range out {
			dup = dup || v == o
		}
		if !dup {
			out = append(out, o)
		}
	}
	return out
}

func (ix *index) dnsOf(objs []int32) []string {
	var out []string
	for _, o := range uniq(objs) {
		out = append(out, ix.objs[o].DN)
	}
	return out
}
