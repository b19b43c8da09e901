package audit

import (
	"fmt"
	"strings"
)

// iisHostHeaderSPN reports a site host header without HTTP SPNs in both
// forms (NetBIOS and DNS) on the pool's identity. Browsers request
// HTTP/<the name typed>, so each form a client may use needs its SPN on the
// account that decrypts the tickets; without it the client falls back to
// NTLM (or fails where NTLM is off). A machine identity's HOST SPNs cover
// only the node's own names, not a host header.
type iisHostHeaderSPN struct{}

func (iisHostHeaderSPN) ID() string { return RuleIISHostHeaderSPN }

func (iisHostHeaderSPN) Severities() []Severity { return []Severity{SeverityMedium} }

func (iisHostHeaderSPN) Check(ix *index) []Finding {
	var out []Finding
	for i := range ix.iis {
		site := &ix.iis[i]
		app, ok := site.Root()
		if !ok || !usesKerberos(app) {
			continue
		}
		id := ix.poolIdentity(site, app.Pool)
		if len(id.objs) != 1 {
			continue // not in the inventory: nothing to compare with
		}
		acct := ix.objs[id.objs[0]]
		domain := ix.identityDomain(site, id)
		done := make(map[string]bool)
		for _, h := range site.HostHeaders() {
			netbios, fqdn := hostForms(h, domain)
			if done[strings.ToLower(netbios)] {
				continue
			}
			done[strings.ToLower(netbios)] = true
			var missing, elsewhere []string
			var others []int32
			var lines []string
			for _, host := range []string{netbios, fqdn} {
				if host == "" {
					continue
				}
				spn := "HTTP/" + host
				p := ix.placeSPN(spn, id)
				if p.onIdentity {
					continue
				}
				if len(p.others) > 0 {
					elsewhere = append(elsewhere, fmt.Sprintf("%s is on %s", spn, ix.names(p.others)))
					others = append(others, p.others...)
					for _, o := range p.others {
						lines = append(lines, ix.setspnDelete(spn, ix.objs[o]))
					}
				}
				missing = append(missing, spn)
				lines = append(lines, ix.setspnAdd(spn, acct))
			}
			if len(missing) == 0 {
				continue
			}
			detail := ""
			if len(elsewhere) > 0 {
				detail = " (" + strings.Join(elsewhere, "; ") + ")"
			}
			out = append(out, Finding{
				Rule: RuleIISHostHeaderSPN, Severity: SeverityMedium, SPN: missing[0],
				Accounts: append([]string{acct.DN}, ix.dnsOf(others)...),
				Message: fmt.Sprintf("%s answers host header %s, but its pool identity %s lacks %s%s: clients using that name get no ticket "+
					"it can decrypt and fall back to NTLM.", where(site, nil, site.Source), h, id.name, strings.Join(missing, " and "), detail),
				Remediation: append([]string{"# Register every form clients use on the pool identity " + id.name + ":"}, lines...),
				References:  []string{refSetspn, refSPNFormats, refIISKernelMode},
			})
		}
	}
	return out
}
