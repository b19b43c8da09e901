package audit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spnaudit/spnaudit/inventory"
)

// What the IIS rules share: who an application pool is on the network, which
// sites form a farm, and where a finding comes from. The IIS model comes
// from Config.IIS (package iisconfig reads it); without it the IIS rules
// emit nothing.

const (
	refIISWindowsAuth  = "https://learn.microsoft.com/en-us/iis/configuration/system.webserver/security/authentication/windowsauthentication/"
	refIISExtProt      = "https://learn.microsoft.com/en-us/iis/configuration/system.webserver/security/authentication/windowsauthentication/extendedprotection/"
	refIISAppPoolModel = "https://learn.microsoft.com/en-us/iis/configuration/system.applicationhost/applicationpools/add/processmodel"
	refIISKernelMode   = "https://learn.microsoft.com/en-us/troubleshoot/developer/webapps/iis/www-authentication-authorization/troubleshoot-kerberos-failures-iis"
	refIISAppcmd       = "https://learn.microsoft.com/en-us/iis/get-started/getting-started-with-iis/getting-started-with-appcmdexe"
	refWinRMIIS        = "https://learn.microsoft.com/en-us/windows/win32/winrm/installation-and-configuration-for-windows-remote-management"
)

// iisIdentity is the account an application pool authenticates as.
type iisIdentity struct {
	// name is the pool's userName, or "SVEXPGG310$ (ApplicationPoolIdentity)"
	// for the identities that are the node's computer account.
	name    string
	machine bool
	objs    []int32 // the resolved account(s); empty when not in the inventory
}

// poolIdentity resolves the identity of pool on the site's node.
func (ix *index) poolIdentity(site *inventory.IISSite, pool inventory.IISAppPool) iisIdentity {
	if !pool.RunsAsMachine() {
		return iisIdentity{name: pool.UserName, objs: ix.resolveAccount(userNameRef(pool.UserName))}
	}
	var buf [4]int32
	objs := slices.Clone(ix.machines(site.Node, buf[:0]))
	name := strings.ToUpper(strings.SplitN(site.Node, ".", 2)[0]) + "$"
	if len(objs) == 1 {
		name = ix.accountName(ix.objs[objs[0]])
	}
	return iisIdentity{name: name + " (" + pool.IdentityType + ")", machine: true, objs: objs}
}

// userNameRef turns a UPN-style user@domain into domain\user, which
// resolveAccount understands; DOMAIN\user passes unchanged.
func userNameRef(u string) string {
	if user, domain, ok := strings.Cut(u, "@"); ok && !strings.Contains(u, `\`) {
		return domain + `\` + user
	}
	return u
}

// same reports whether two identities are one account.
func (a iisIdentity) same(b iisIdentity) bool {
	if len(a.objs) == 1 && len(b.objs) == 1 {
		return a.objs[0] == b.objs[0]
	}
	return strings.EqualFold(a.name, b.name)
}

// holds reports whether obj is the identity's account.
func (a iisIdentity) holds(obj int32) bool { return slices.Contains(a.objs, obj) }

// dns returns the DNS names of the identity's accounts.
func (ix *index) identityDNs(a iisIdentity) []string {
	out := make([]string, len(a.objs))
	for i, o := range a.objs {
		out[i] = ix.objs[o].DN
	}
	return out
}

// spnPlace is where an SPN the IIS configuration needs sits in the
// directory.
type spnPlace struct {
	onIdentity bool    // held by the identity, or covered by its HOST SPN
	others     []int32 // other holders
}

// placeSPN finds spn's holders relative to the identity. A machine identity
// also serves class/host through its HOST/host SPN (sPNMappings).
func (ix *index) placeSPN(spn string, id iisIdentity) spnPlace {
	var p spnPlace
	for _, r := range ix.spns.holders(spn) {
		if id.holds(r.obj) {
			p.onIdentity = true
		} else {
			p.others = append(p.others, r.obj)
		}
	}
	if !p.onIdentity && id.machine && len(p.others) == 0 {
		if parsed, problems := ParseSPN(spn); problems == nil {
			if target, ok := ix.hostAliasTarget(parsed.Class); ok {
				for _, m := range id.objs {
					if namesComputer(ix.objs[m], parsed.Host) && coversByAlias(ix.objs[m], target, parsed) != "" {
						p.onIdentity = true
					}
				}
			}
		}
	}
	return p
}

// heldByComputer reports whether one of the holders is a computer account.
func (ix *index) heldByComputer(objs []int32) bool {
	return slices.ContainsFunc(objs, func(o int32) bool { return ix.objs[o].Kind == inventory.KindComputer })
}

func (ix *index) names(objs []int32) string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = ix.accountName(ix.objs[o])
	}
	return strings.Join(out, ", ")
}

// where names the node, site and file a finding comes from.
func where(site *inventory.IISSite, app *inventory.IISApplication, src inventory.IISSource) string {
	path := site.Name
	if app != nil && app.Path != "/" {
		path += app.Path
	}
	return fmt.Sprintf("site %s on %s (%s:%d)", path, site.Node, src.File, src.Line)
}

// usesKerberos reports whether Windows authentication is on for app and
// offers Negotiate, the only provider that does Kerberos.
func usesKerberos(app *inventory.IISApplication) bool {
	w := app.WindowsAuth
	return w.Enabled && slices.ContainsFunc(w.Providers, func(p string) bool {
		return strings.EqualFold(p, "Negotiate") || strings.EqualFold(p, "Negotiate:Kerberos")
	})
}

// hostForms returns the NetBIOS and DNS form of a host header; a NetBIOS
// header takes the DNS suffix of the domain given (the identity's or the
// node's), or has no DNS form when that is unknown.
func hostForms(host, domain string) (netbios, fqdn string) {
	if label, _, ok := strings.Cut(host, "."); ok {
		return label, host
	}
	if domain == "" {
		return host, ""
	}
	return host, host + "." + domain
}

// identityDomain is the DNS domain of the identity's account, else of the
// node's computer account.
func (ix *index) identityDomain(site *inventory.IISSite, id iisIdentity) string {
	if len(id.objs) > 0 {
		return domainOf(ix.objs[id.objs[0]])
	}
	if _, suffix, ok := strings.Cut(site.Node, "."); ok {
		return suffix
	}
	var buf [4]int32
	if m := ix.machines(site.Node, buf[:0]); len(m) > 0 {
		return domainOf(ix.objs[m[0]])
	}
	return ""
}

// iisSiteFarm is a site served by several nodes under a shared host header: the
// sites of one load-balanced farm.
type iisSiteFarm struct {
	name  string
	vip   string // the host header every node answers
	sites []*inventory.IISSite
}

// iisFarms groups the sites that have the same name on two or more nodes
// and share a host header, in site-name order.
func iisFarms(sites []inventory.IISSite) []iisSiteFarm {
	var out []iisSiteFarm
	byName := make(map[string]int)
	for i := range sites {
		s := &sites[i]
		key := strings.ToLower(s.Name)
		j, ok := byName[key]
		if !ok {
			j = len(out)
			byName[key] = j
			out = append(out, iisSiteFarm{name: s.Name})
		}
		out[j].sites = append(out[j].sites, s)
	}
	for i := range out {
		if len(out[i].sites) >= 2 {
			out[i].vip = sharedHost(out[i].sites)
		}
	}
	return slices.DeleteFunc(out, func(f iisSiteFarm) bool { return f.vip == "" })
}

// sharedHost returns the host header all sites answer, the DNS form when
// they share both forms.
func sharedHost(sites []*inventory.IISSite) string {
	var best string
	for _, h := range sites[0].HostHeaders() {
		if slices.IndexFunc(sites[1:], func(s *inventory.IISSite) bool {
			return !slices.ContainsFunc(s.HostHeaders(), func(o string) bool { return strings.EqualFold(o, h) })
		}) >= 0 {
			continue
		}
		if best == "" || strings.Contains(h, ".") && !strings.Contains(best, ".") {
			best = h
		}
	}
	return best
}

// iisSites calls fn for every application of every site, with its pool's
// identity, skipping none.
func (ix *index) eachIISApp(fn func(site *inventory.IISSite, app *inventory.IISApplication, id iisIdentity)) {
	for i := range ix.iis {
		site := &ix.iis[i]
		for j := range site.Applications {
			app := &site.Applications[j]
			fn(site, app, ix.poolIdentity(site, app.Pool))
		}
	}
}

// appcmdWindowsAuth is the appcmd command that sets windowsAuthentication
// attributes for site (and app) in applicationHost.config.
func appcmdWindowsAuth(site *inventory.IISSite, app *inventory.IISApplication, args string) string {
	path := site.Name
	if app != nil && app.Path != "/" {
		path += app.Path
	}
	return fmt.Sprintf(`%s set config %s /section:system.webServer/security/authentication/windowsAuthentication %s /commit:apphost`,
		appcmdExe, psArg(path), args)
}

// appcmdExe is appcmd's path on every IIS server (not in PATH by default).
const appcmdExe = `C:\Windows\System32\inetsrv\appcmd.exe`

// iisNodeComment prefixes a remediation block run on one node.
func iisNodeComment(node, what string) string {
	return fmt.Sprintf("# On %s: %s", node, what)
}
