package iisconfig

import (
	"slices"
	"strings"

	"github.com/spnaudit/spnaudit/inventory"
)

// defaultWindowsAuth is the schema default of windowsAuthentication (IIS
// schema: enabled false, useKernelMode true, useAppPoolCredentials false,
// extendedProtection tokenChecking None, flags None).
func defaultWindowsAuth() inventory.IISWindowsAuth {
	return inventory.IISWindowsAuth{
		UseKernelMode: true,
		ExtendedProtection: inventory.IISExtendedProtection{
			TokenChecking: inventory.IISTokenCheckingNone,
			Flags:         []string{},
			SPNs:          []string{},
		},
		Providers: []string{},
	}
}

var tokenCheckings = []string{inventory.IISTokenCheckingNone, inventory.IISTokenCheckingAllow, inventory.IISTokenCheckingRequire}

var epFlags = []string{
	inventory.IISFlagProxy, inventory.IISFlagNoServiceNameCheck,
	inventory.IISFlagAllowDotlessSpn, inventory.IISFlagProxyCohosting,
}

// applyWindowsAuth applies one windowsAuthentication section over w:
// attributes it sets replace, collections (providers, extendedProtection
// spn) take add, remove and clear as IIS does.
func applyWindowsAuth(file string, e *element, w *inventory.IISWindowsAuth) error {
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"enabled", &w.Enabled}, {"useKernelMode", &w.UseKernelMode}, {"useAppPoolCredentials", &w.UseAppPoolCredentials}} {
		if err := boolAttr(file, e, b.name, b.dst); err != nil {
			return err
		}
	}
	w.Source = inventory.IISSource{File: file, Line: e.line}
	if p := e.child("providers"); p != nil {
		w.Providers = applyCollection(p, "value", w.Providers)
	}
	ep := e.child("extendedProtection")
	if ep == nil {
		return nil
	}
	x := &w.ExtendedProtection
	if t, ok := ep.attr("tokenChecking"); ok {
		i := slices.IndexFunc(tokenCheckings, func(v string) bool { return strings.EqualFold(v, strings.TrimSpace(t)) })
		if i < 0 {
			return errorAt(file, ep, "extendedProtection tokenChecking %q is not one of %s", t, strings.Join(tokenCheckings, ", "))
		}
		x.TokenChecking = tokenCheckings[i]
	}
	if f, ok := ep.attr("flags"); ok {
		x.Flags = []string{}
		for _, part := range strings.Split(f, ",") {
			part = strings.TrimSpace(part)
			if strings.EqualFold(part, "None") || part == "" {
				continue
			}
			i := slices.IndexFunc(epFlags, func(v string) bool { return strings.EqualFold(v, part) })
			if i < 0 {
				return errorAt(file, ep, "extendedProtection flags: %q is not one of None, %s", part, strings.Join(epFlags, ", "))
			}
			if !slices.Contains(x.Flags, epFlags[i]) {
				x.Flags = append(x.Flags, epFlags[i])
			}
		}
	}
	x.SPNs = applyCollection(ep, "name", x.SPNs)
	return nil
}

// applyCollection applies the add (or spn), remove and clear children of e
// to list, keyed by attribute key, case-insensitively as IIS compares them.
func applyCollection(e *element, key string, list []string) []string {
	list = slices.Clone(list)
	for _, c := range e.children {
		v, _ := c.attr(key)
		v = strings.TrimSpace(v)
		same := func(s string) bool { return strings.EqualFold(s, v) }
		switch c.name {
		case "clear":
			list = list[:0]
		case "remove":
			list = slices.DeleteFunc(list, same)
		case "add", "spn":
			if v != "" && !slices.ContainsFunc(list, same) {
				list = append(list, v)
			}
		}
	}
	return list
}

// boolAttr sets *dst from a true/false attribute when present.
func boolAttr(file string, e *element, name string, dst *bool) error {
	v, ok := e.attr(name)
	if !ok {
		return nil
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		*dst = true
	case "false":
		*dst = false
	default:
		return errorAt(file, e, "%s %s=%q is not true or false", e.name, name, v)
	}
	return nil
}
