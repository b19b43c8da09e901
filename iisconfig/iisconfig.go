// Package iisconfig reads IIS configuration files — applicationHost.config
// of each node, web.config files, and the output of `appcmd list config
// ... /xml` — into the inventory's IIS model, for the IIS audit rules and
// `spnaudit iis import`.
//
// It reads these sections, named as in Microsoft's IIS configuration schema:
//
//   - system.applicationHost/sites: sites, bindings, applications and their
//     pools (applicationDefaults included);
//   - system.applicationHost/applicationPools: each pool's processModel
//     identityType and userName (applicationPoolDefaults included). The
//     password attribute is dropped while decoding and never held;
//   - system.webServer/security/authentication/windowsAuthentication:
//     enabled, useKernelMode, useAppPoolCredentials, providers and
//     extendedProtection (tokenChecking, flags, spn), at the root and in
//     <location path="Site[/app]"> elements;
//   - system.management.wsmanagement.config: the WinRM IIS extension.
//
// Every other section is skipped by design: modules add sections, and IIS
// validates them itself. A section it reads whose values cannot be
// understood (an unknown identityType, a bindingInformation without a port,
// an encrypted section) is an error naming the file and line, never skipped.
package iisconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spnaudit/spnaudit/inventory"
)

// The section paths spnaudit reads.
const (
	sectionSites        = "system.applicationHost/sites"
	sectionAppPools     = "system.applicationHost/applicationPools"
	sectionWindowsAuth  = "system.webServer/security/authentication/windowsAuthentication"
	sectionWSManagement = "system.management.wsmanagement.config"
)

// Input is one file to read and the label that places it: the node of an
// applicationHost.config or appcmd output (NODE=FILE), or the node, site and
// application of a web.config (NODE/SITE[/APP]=FILE).
type Input struct {
	Label string
	Path  string
}

// ParseArg splits a command-line argument into an Input: FILE, NODE=FILE or
// NODE/SITE[/APP]=FILE. An argument that names an existing file is a path
// even when it contains "=".
func ParseArg(arg string) Input {
	if _, err := os.Stat(arg); err == nil {
		return Input{Path: arg}
	}
	if label, path, ok := strings.Cut(arg, "="); ok && label != "" && path != "" {
		return Input{Label: label, Path: path}
	}
	return Input{Path: arg}
}

// ParseArgs applies ParseArg to every argument.
func ParseArgs(args []string) []Input {
	out := make([]Input, len(args))
	for i, a := range args {
		out[i] = ParseArg(a)
	}
	return out
}

// Load reads every input and returns the sites of every node, sorted by
// site name then node. The first problem is returned, naming file and line.
func Load(inputs []Input) ([]inventory.IISSite, error) {
	if len(inputs) == 0 {
		return nil, fmt.Errorf("no IIS configuration file given; pass applicationHost.config files (NODE=FILE)")
	}
	nodes := make(map[string]*node)
	var order []string
	var webConfigs []webConfig
	for _, in := range inputs {
		root, err := readFile(in.Path)
		if err != nil {
			return nil, err
		}
		switch kind(root) {
		case kindWebConfig:
			webConfigs = append(webConfigs, webConfig{label: in.Label, file: in.Path, root: root})
			continue
		}
		name := in.Label
		if name == "" {
			name = filepath.Base(filepath.Dir(absPath(in.Path)))
			// IIS keeps the file in %windir%\system32\inetsrv\config: a copy
			// left in such a directory says nothing about its node.
			if strings.EqualFold(name, "config") || strings.EqualFold(name, "inetsrv") {
				return nil, fmt.Errorf("%s: its directory %q does not name a node; name it: NODE=%s", in.Path, name, in.Path)
			}
		}
		if strings.ContainsAny(name, `/\ :`) || name == "" || name == "." {
			return nil, fmt.Errorf("%s: %q is not a node name; name the node: NODE=%s", in.Path, name, in.Path)
		}
		key := strings.ToLower(name)
		n := nodes[key]
		if n == nil {
			n = newNode(name)
			nodes[key] = n
			order = append(order, key)
		}
		if err := n.read(in.Path, root); err != nil {
			return nil, err
		}
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("%s: only web.config files given; pass each node's applicationHost.config too (NODE=FILE)", webConfigs[0].file)
	}
	for _, wc := range webConfigs {
		if err := attachWebConfig(nodes, order, wc); err != nil {
			return nil, err
		}
	}
	var sites []inventory.IISSite
	for _, key := range order {
		s, err := nodes[key].sites()
		if err != nil {
			return nil, err
		}
		sites = append(sites, s...)
	}
	slices.SortStableFunc(sites, func(a, b inventory.IISSite) int {
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(strings.ToLower(a.Node), strings.ToLower(b.Node))
	})
	return sites, nil
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

func readFile(path string) (*element, error) {
	f, err := os.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("IIS configuration %s does not exist; check the path (NODE=FILE names a node)", path)
	case errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("IIS configuration %s is not readable by this user; give it read access", path)
	case err != nil:
		return nil, fmt.Errorf("IIS configuration: %w", err)
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("IIS configuration %s is a directory; give applicationHost.config or web.config files", path)
	}
	defer f.Close()
	return parseXML(path, f)
}

type fileKind int

const (
	kindAppHost fileKind = iota
	kindAppcmd
	kindWebConfig
)

// kind tells the three inputs apart by content: appcmd output has an
// <appcmd> root; applicationHost.config has a system.applicationHost
// section group; any other <configuration> is a web.config.
func kind(root *element) fileKind {
	switch {
	case root.name == "appcmd":
		return kindAppcmd
	case root.name == "configuration" && root.child("system.applicationHost") != nil:
		return kindAppHost
	}
	return kindWebConfig
}

// errorAt formats a problem at an element.
func errorAt(file string, e *element, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", file, e.line, fmt.Sprintf(format, args...))
}
