package audit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spnaudit/spnaudit/inventory"
)

// FarmsFromIIS derives the farms: entries that plan and farm-drift use from
// IIS sites (spnaudit iis import): one farm per site served by two or more
// nodes under a shared host header, with that header as VIP, the nodes, the
// pool identity as account and the binding ports other than 80 and 443.
// dnsSuffix is used when no host header gives the DNS suffix. Notes say
// which sites made no farm and why.
func FarmsFromIIS(sites []inventory.IISSite, dnsSuffix string) (farms []Farm, notes []string) {
	inFarm := make(map[string]bool)
	for _, f := range iisFarms(sites) {
		inFarm[strings.ToLower(f.name)] = true
		farm, note := farmFromSites(f, dnsSuffix)
		if note != "" {
			notes = append(notes, note)
			continue
		}
		farms = append(farms, farm)
	}
	for _, s := range sites {
		if !inFarm[strings.ToLower(s.Name)] {
			inFarm[strings.ToLower(s.Name)] = true
			notes = append(notes, fmt.Sprintf("site %s: not served by two or more nodes under one host header; no farm (scan --iis still checks its SPNs)", s.Name))
		}
	}
	return farms, notes
}

func farmFromSites(f iisSiteFarm, dnsSuffix string) (Farm, string) {
	farm := Farm{Name: f.name, Classes: []string{"HTTP"}}
	var pools []string
	for _, s := range f.sites {
		farm.Nodes = append(farm.Nodes, s.Node)
		root, ok := s.Root()
		if !ok {
			return farm, fmt.Sprintf("site %s on %s: no root application; no farm", f.name, s.Node)
		}
		if root.Pool.RunsAsMachine() {
			return farm, fmt.Sprintf("site %s: the pool runs as %s on %s, i.e. as each node's computer account; "+
				"no single account can hold HTTP/%s: run it as one domain account or gMSA on every node (rule %s)",
				f.name, root.Pool.IdentityType, s.Node, f.vip, RuleIISPoolIdentity)
		}
		if !slices.ContainsFunc(pools, func(p string) bool { return strings.EqualFold(p, root.Pool.UserName) }) {
			pools = append(pools, root.Pool.UserName)
		}
		for _, b := range s.Bindings {
			if strings.EqualFold(b.Host, f.vip) && b.Port != 80 && b.Port != 443 && !slices.Contains(farm.Ports, b.Port) {
				farm.Ports = append(farm.Ports, b.Port)
			}
		}
	}
	if len(pools) > 1 {
		return farm, fmt.Sprintf("site %s: the pool runs as %s on different nodes; make it one account (rule %s), then import again",
			f.name, strings.Join(pools, " and "), RuleIISPoolIdentity)
	}
	slices.Sort(farm.Ports)
	farm.Account = pools[0]
	farm.VIP = f.vip
	if label, suffix, ok := strings.Cut(f.vip, "."); ok {
		farm.VIP, farm.DNSSuffix = label, suffix
	} else {
		farm.DNSSuffix = dnsSuffix
		for _, h := range f.sites[0].HostHeaders() {
			if label, suffix, ok := strings.Cut(h, "."); ok && strings.EqualFold(label, f.vip) {
				farm.DNSSuffix = suffix
			}
		}
	}
	if err := farm.Validate(); err != nil {
		return farm, fmt.Sprintf("site %s: %v", f.name, err)
	}
	return farm, ""
}
