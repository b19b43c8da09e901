package iisconfig

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spnaudit/spnaudit/inventory"
)

// node collects what the files of one IIS server declare.
type node struct {
	name        string
	siteDecls   []siteDecl
	siteSource  string // file of the sites section, for errors
	pools       map[string]inventory.IISAppPool
	poolDefault inventory.IISAppPool
	appDefault  string // sites/applicationDefaults applicationPool
	scoped      []scopedDecl
}

type siteDecl struct {
	name       string
	bindings   []inventory.IISBinding
	apps       []appDecl
	appDefault string
	source     inventory.IISSource
}

type appDecl struct {
	path, pool   string
	physicalPath string
	source       inventory.IISSource
}

// scopedDecl is a windowsAuthentication or WinRM section that applies to a
// configuration path ("" for every site, "Site", "Site/app").
type scopedDecl struct {
	path    string
	layer   int // 0 applicationHost or appcmd, 1 web.config: at equal depth the web.config wins
	section string
	el      *element
	file    string
}

func newNode(name string) *node {
	return &node{
		name:        name,
		pools:       make(map[string]inventory.IISAppPool),
		poolDefault: inventory.IISAppPool{IdentityType: inventory.IISIdentityAppPool},
		appDefault:  "DefaultAppPool",
	}
}

// read takes the sections of an applicationHost.config or appcmd output.
func (n *node) read(file string, root *element) error {
	switch kind(root) {
	case kindAppcmd:
		return n.readAppcmd(file, root)
	default:
		return n.walk(file, root.children, "", "", 0)
	}
}

// knownGroups are the section groups on the way to the sections spnaudit
// reads; any other element is a section spnaudit does not need.
var knownGroups = map[string]bool{
	"system.applicationHost":                   true,
	"system.webServer":                         true,
	"system.webServer/security":                true,
	"system.webServer/security/authentication": true,
}

// walk visits the elements of a <configuration> (or <location>) and handles
// the sections spnaudit reads.
func (n *node) walk(file string, els []*element, prefix, location string, layer int) error {
	for _, e := range els {
		if prefix == "" && e.name == "location" {
			path, _ := e.attr("path")
			if err := n.walk(file, e.children, "", joinPath(location, path), layer); err != nil {
				return err
			}
			continue
		}
		section := e.name
		if prefix != "" {
			section = prefix + "/" + e.name
		}
		if knownGroups[section] {
			if err := n.walk(file, e.children, section, location, layer); err != nil {
				return err
			}
			continue
		}
		if err := n.section(file, section, e, location, layer); err != nil {
			return err
		}
	}
	return nil
}

// section handles one section; unknown sections are skipped.
func (n *node) section(file, section string, e *element, location string, layer int) error {
	switch section {
	case sectionSites, sectionAppPools, sectionWindowsAuth, sectionWSManagement:
	default:
		return nil
	}
	if p, ok := e.attr("configProtectionProvider"); ok || e.child("EncryptedData") != nil {
		return errorAt(file, e, "section %s is encrypted (%s); spnaudit cannot read it: export it decrypted with "+
			"appcmd list config /section:%s /xml", section, p, section)
	}
	switch section {
	case sectionSites:
		if layer != 0 || location != "" {
			return errorAt(file, e, "%s belongs in applicationHost.config, outside <location>", section)
		}
		n.siteSource = file
		return n.readSites(file, e)
	case sectionAppPools:
		if layer != 0 || location != "" {
			return errorAt(file, e, "%s belongs in applicationHost.config, outside <location>", section)
		}
		return n.readPools(file, e)
	}
	n.scoped = append(n.scoped, scopedDecl{path: location, layer: layer, section: section, el: e, file: file})
	return nil
}

// readAppcmd takes `appcmd list config [PATH] /section:NAME /xml` output:
// <appcmd><CONFIG CONFIG.SECTION="..." path="MACHINE/WEBROOT/APPHOST/Site">
// <section-with-dashes ...>.
func (n *node) readAppcmd(file string, root *element) error {
	for _, c := range root.children {
		if c.name != "CONFIG" {
			continue // SITE, APPPOOL... records of other list commands carry no section
		}
		section, ok := c.attr("CONFIG.SECTION")
		if !ok {
			return errorAt(file, c, "CONFIG without CONFIG.SECTION; is it the output of appcmd list config ... /xml?")
		}
		path, _ := c.attr("path")
		location, ok := appcmdLocation(path)
		if !ok {
			return errorAt(file, c, "path %q is not under MACHINE/WEBROOT; is it the output of appcmd list config ... /xml?", path)
		}
		body := c.child(strings.ReplaceAll(section, "/", "-"))
		if body == nil {
			switch section {
			case sectionSites, sectionAppPools, sectionWindowsAuth, sectionWSManagement:
				return errorAt(file, c, "CONFIG of %s has no <%s> element", section, strings.ReplaceAll(section, "/", "-"))
			}
			continue
		}
		if err := n.section(file, section, body, location, 0); err != nil {
			return err
		}
	}
	return nil
}

// appcmdLocation turns an appcmd configuration path into a location path:
// MACHINE/WEBROOT/APPHOST/Site/app is Site/app; the server-wide paths are "".
func appcmdLocation(path string) (string, bool) {
	for _, prefix := range []string{"MACHINE/WEBROOT/APPHOST", "MACHINE/WEBROOT", "MACHINE"} {
		if rest, ok := strings.CutPrefix(path, prefix); ok && (rest == "" || rest[0] == '/') {
			return strings.Trim(rest, "/"), true
		}
	}
	return "", path == ""
}

func joinPath(base, rel string) string {
	rel = strings.Trim(strings.TrimSpace(rel), "/")
	if rel == "." {
		rel = ""
	}
	switch {
	case base == "":
		return rel
	case rel == "":
		return base
	}
	return base + "/" + rel
}

func (n *node) readSites(file string, e *element) error {
	if d := e.child("applicationDefaults"); d != nil {
		if p, ok := d.attr("applicationPool"); ok {
			n.appDefault = p
		}
	}
	for _, s := range e.children {
		if s.name != "site" {
			continue
		}
		name, _ := s.attr("name")
		if strings.TrimSpace(name) == "" {
			return errorAt(file, s, "<site> without a name")
		}
		d := siteDecl{name: name, source: inventory.IISSource{File: file, Line: s.line}}
		if ad := s.child("applicationDefaults"); ad != nil {
			d.appDefault, _ = ad.attr("applicationPool")
		}
		for _, c := range s.children {
			switch c.name {
			case "bindings":
				for _, b := range c.children {
					if b.name != "binding" {
						continue
					}
					binding, err := parseBinding(file, b)
					if err != nil {
						return err
					}
					d.bindings = append(d.bindings, binding)
				}
			case "application":
				path, _ := c.attr("path")
				if !strings.HasPrefix(path, "/") {
					return errorAt(file, c, "application path %q of site %s does not start with /", path, name)
				}
				a := appDecl{path: path, source: inventory.IISSource{File: file, Line: c.line}}
				a.pool, _ = c.attr("applicationPool")
				for _, vd := range c.children {
					if p, _ := vd.attr("path"); vd.name == "virtualDirectory" && p == "/" {
						a.physicalPath, _ = vd.attr("physicalPath")
					}
				}
				d.apps = append(d.apps, a)
			}
		}
		n.siteDecls = append(n.siteDecls, d)
	}
	return nil
}

// parseBinding reads protocol and bindingInformation: "IP:port:host" for
// http and https ("[::1]:80:" for IPv6). Other protocols (net.tcp "808:*")
// carry no host header and are kept without port.
func parseBinding(file string, b *element) (inventory.IISBinding, error) {
	proto, _ := b.attr("protocol")
	info, _ := b.attr("bindingInformation")
	out := inventory.IISBinding{Protocol: strings.ToLower(proto)}
	if out.Protocol != "http" && out.Protocol != "https" {
		return out, nil
	}
	rest, host, ok := cutLast(info, ":")
	if !ok {
		return out, errorAt(file, b, "bindingInformation %q is not IP:port:host", info)
	}
	_, port, ok := cutLast(rest, ":")
	p, err := strconv.Atoi(port)
	if !ok || err != nil || p < 1 || p > 65535 {
		return out, errorAt(file, b, "bindingInformation %q has no port 1-65535 (IP:port:host)", info)
	}
	out.Port, out.Host = p, strings.TrimSuffix(strings.TrimSpace(host), ".")
	return out, nil
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

var identityTypes = []string{
	inventory.IISIdentityAppPool, inventory.IISIdentityNetworkService, inventory.IISIdentityLocalSystem,
	inventory.IISIdentityLocalService, inventory.IISIdentitySpecificUser,
}

func (n *node) readPools(file string, e *element) error {
	if d := e.child("applicationPoolDefaults"); d != nil {
		p, err := readProcessModel(file, d, n.poolDefault)
		if err != nil {
			return err
		}
		n.poolDefault = p
	}
	for _, c := range e.children {
		if c.name != "add" {
			continue
		}
		name, _ := c.attr("name")
		if strings.TrimSpace(name) == "" {
			return errorAt(file, c, "application pool <add> without a name")
		}
		p, err := readProcessModel(file, c, inventory.IISAppPool{IdentityType: n.poolDefault.IdentityType, UserName: n.poolDefault.UserName})
		if err != nil {
			return err
		}
		p.Name = name
		p.Source = inventory.IISSource{File: file, Line: c.line}
		if p.IdentityType == inventory.IISIdentitySpecificUser && strings.TrimSpace(p.UserName) == "" {
			return errorAt(file, c, "application pool %s: identityType SpecificUser without userName", name)
		}
		if p.IdentityType != inventory.IISIdentitySpecificUser {
			p.UserName = ""
		}
		n.pools[strings.ToLower(name)] = p
	}
	return nil
}

// readProcessModel reads identityType and userName of the processModel
// child of e over base. The password attribute was dropped by parseXML.
func readProcessModel(file string, e *element, base inventory.IISAppPool) (inventory.IISAppPool, error) {
	pm := e.child("processModel")
	if pm == nil {
		return base, nil
	}
	if t, ok := pm.attr("identityType"); ok {
		i := slices.IndexFunc(identityTypes, func(v string) bool { return strings.EqualFold(v, t) })
		if i < 0 {
			return base, errorAt(file, pm, "identityType %q is not one of %s", t, strings.Join(identityTypes, ", "))
		}
		base.IdentityType = identityTypes[i]
	}
	if u, ok := pm.attr("userName"); ok {
		base.UserName = strings.TrimSpace(u)
	}
	return base, nil
}

// sites resolves pools and settings into the node's sites.
func (n *node) sites() ([]inventory.IISSite, error) {
	if len(n.siteDecls) == 0 {
		return nil, fmt.Errorf("node %s: no site found; pass its applicationHost.config, or appcmd list config /section:%s /xml", n.name, sectionSites)
	}
	var out []inventory.IISSite
	for _, d := range n.siteDecls {
		s := inventory.IISSite{Node: n.name, Name: d.name, Bindings: d.bindings, Source: d.source}
		for _, a := range d.apps {
			poolName := a.pool
			if poolName == "" {
				poolName = cmpOr(d.appDefault, n.appDefault)
			}
			pool, ok := n.pools[strings.ToLower(poolName)]
			if !ok {
				return nil, fmt.Errorf("%s:%d: application %s%s uses application pool %q, which %s does not define in %s",
					a.source.File, a.source.Line, d.name, a.path, poolName, n.name, sectionAppPools)
			}
			app := inventory.IISApplication{Path: a.path, Pool: pool}
			if err := n.applyScoped(&app, d.name); err != nil {
				return nil, err
			}
			s.Applications = append(s.Applications, app)
		}
		out = append(out, s)
	}
	return out, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// inScope reports whether a declaration for path applies to application
// appPath of site: "" applies everywhere, "Site" to every application of
// the site, "Site/x" to /x and the applications below it.
func inScope(path, site, appPath string) bool {
	if path == "" {
		return true
	}
	target := strings.ToLower(strings.TrimSuffix(site+appPath, "/"))
	p := strings.ToLower(path)
	return target == p || strings.HasPrefix(target, p+"/")
}

// applyScoped applies the windowsAuthentication and WinRM sections in
// effect for app, from the least to the most specific path.
func (n *node) applyScoped(app *inventory.IISApplication, site string) error {
	var decls []scopedDecl
	for _, d := range n.scoped {
		if inScope(d.path, site, app.Path) {
			decls = append(decls, d)
		}
	}
	slices.SortStableFunc(decls, func(a, b scopedDecl) int {
		if c := strings.Count(a.path, "/") + boolInt(a.path != "") - strings.Count(b.path, "/") - boolInt(b.path != ""); c != 0 {
			return c
		}
		return a.layer - b.layer
	})
	app.WindowsAuth = defaultWindowsAuth()
	for _, d := range decls {
		switch d.section {
		case sectionWindowsAuth:
			if err := applyWindowsAuth(d.file, d.el, &app.WindowsAuth); err != nil {
				return err
			}
		case sectionWSManagement:
			app.WinRM = true
			app.WinRMSource = inventory.IISSource{File: d.file, Line: d.el.line}
		}
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
