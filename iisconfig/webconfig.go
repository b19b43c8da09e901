package iisconfig

import (
	"fmt"
	"path/filepath"
	"strings"
)

// webConfig is a web.config file waiting to be placed in a node's site.
type webConfig struct {
	label string // NODE/SITE[/APP], or "" to place it by its directory
	file  string
	root  *element
}

// attachWebConfig places a web.config at its node, site and application:
// from its label NODE/SITE[/APP], or else by its directory name, which must
// be the last element of exactly one application's physicalPath.
func attachWebConfig(nodes map[string]*node, order []string, wc webConfig) error {
	if wc.root.name != "configuration" {
		return fmt.Errorf("%s:%d: root element <%s> is neither <configuration> nor <appcmd>; is it an IIS configuration file?",
			wc.file, wc.root.line, wc.root.name)
	}
	n, location, err := placeWebConfig(nodes, order, wc)
	if err != nil {
		return err
	}
	return n.walk(wc.file, wc.root.children, "", location, 1)
}

func placeWebConfig(nodes map[string]*node, order []string, wc webConfig) (*node, string, error) {
	if wc.label != "" {
		nodeName, location, ok := strings.Cut(wc.label, "/")
		n := nodes[strings.ToLower(nodeName)]
		if !ok || location == "" || n == nil {
			return nil, "", fmt.Errorf("%s: web.config label %q: want NODE/SITE[/APP]=FILE with a NODE whose applicationHost.config is given", wc.file, wc.label)
		}
		site, _, _ := strings.Cut(location, "/")
		if !n.hasSite(site) {
			return nil, "", fmt.Errorf("%s: web.config label %q: node %s has no site %q", wc.file, wc.label, n.name, site)
		}
		return n, strings.Trim(location, "/"), nil
	}
	dir := filepath.Base(filepath.Dir(absPath(wc.file)))
	var found []string
	var at *node
	var location string
	for _, key := range order {
		n := nodes[key]
		for _, s := range n.siteDecls {
			for _, a := range s.apps {
				p := strings.TrimRight(strings.ReplaceAll(a.physicalPath, `\`, "/"), "/")
				if p != "" && strings.EqualFold(p[strings.LastIndex(p, "/")+1:], dir) {
					found = append(found, n.name+"/"+s.name+strings.TrimSuffix(a.path, "/"))
					at, location = n, joinPath(s.name, a.path)
				}
			}
		}
	}
	switch len(found) {
	case 1:
		return at, location, nil
	case 0:
		return nil, "", fmt.Errorf("%s: no application's physicalPath ends in %q; name its application: NODE/SITE[/APP]=%s", wc.file, dir, wc.file)
	}
	return nil, "", fmt.Errorf("%s: the applications %s all have a physicalPath ending in %q; name one: NODE/SITE[/APP]=%s",
		wc.file, strings.Join(found, ", "), dir, wc.file)
}

func (n *node) hasSite(name string) bool {
	for _, s := range n.siteDecls {
		if strings.EqualFold(s.name, name) {
			return true
		}
	}
	return false
}
