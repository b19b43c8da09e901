package audit

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Farm is the desired state of a load-balanced farm: every class in Classes
// must be registered for the VIP and every node, in NetBIOS and DNS form
// (and for each port in Ports, when given), on Account and nowhere else.
type Farm struct {
	Name string `json:"name" mapstructure:"name"`
	// VIP is the load-balanced name clients use, NetBIOS or DNS form.
	VIP string `json:"vip" mapstructure:"vip"`
	// Nodes are the servers behind the VIP, NetBIOS or DNS form.
	Nodes []string `json:"nodes" mapstructure:"nodes"`
	// DNSSuffix turns NetBIOS names into DNS names (corp.example.test).
	DNSSuffix string `json:"dns_suffix" mapstructure:"dns_suffix"`
	// Classes are the service classes the farm serves (HTTP).
	Classes []string `json:"classes" mapstructure:"classes"`
	// Account is the sAMAccountName (optionally DOMAIN\name) or DN of the
	// account the farm's service runs as.
	Account string `json:"account" mapstructure:"account"`
	// Ports, when set, make every SPN port-qualified (HTTP/vip:8080).
	Ports []int `json:"ports,omitempty" mapstructure:"ports"`
}

// Validate checks that the farm names its account, classes and hosts in a
// form SPNs can be built from.
func (f Farm) Validate() error {
	if strings.TrimSpace(f.Name) == "" {
		return errors.New("name: missing")
	}
	if strings.TrimSpace(f.Account) == "" {
		return fmt.Errorf("farm %s: account: missing; give the sAMAccountName or DN the service runs as", f.Name)
	}
	if len(f.Classes) == 0 {
		return fmt.Errorf("farm %s: classes: missing; e.g. [HTTP]", f.Name)
	}
	for _, c := range f.Classes {
		if c == "" || strings.ContainsAny(c, "/: \t") || !printableASCII(c) {
			return fmt.Errorf("farm %s: classes: %q is not a service class", f.Name, c)
		}
	}
	names := f.names()
	if len(names) == 0 {
		return fmt.Errorf("farm %s: vip, nodes: set at least one", f.Name)
	}
	for _, n := range names {
		if n == "" || strings.ContainsAny(n, "/: \t") || !printableASCII(n) {
			return fmt.Errorf("farm %s: %q is not a host name", f.Name, n)
		}
		if !strings.Contains(n, ".") && f.DNSSuffix == "" {
			return fmt.Errorf("farm %s: dns_suffix: missing; needed for the DNS form of %s", f.Name, n)
		}
	}
	for _, p := range f.Ports {
		if p < 1 || p > 65535 {
			return fmt.Errorf("farm %s: ports: %d out of range 1-65535", f.Name, p)
		}
	}
	return nil
}

// names returns the VIP (when set) and the nodes, as configured.
func (f Farm) names() []string {
	var out []string
	if f.VIP != "" {
		out = append(out, f.VIP)
	}
	return append(out, f.Nodes...)
}

// forms returns the NetBIOS and DNS forms of a configured name.
func (f Farm) forms(name string) (netbios, fqdn string) {
	if label, _, ok := strings.Cut(name, "."); ok {
		return label, name
	}
	return name, name + "." + strings.TrimPrefix(f.DNSSuffix, ".")
}

// hostNames returns every farm host name in both forms.
func (f Farm) hostNames() []string {
	var out []string
	for _, n := range f.names() {
		netbios, fqdn := f.forms(n)
		out = append(out, netbios, fqdn)
	}
	return out
}

// DesiredSPNs lists the SPNs the farm's account must hold, in a stable order:
// by class, then VIP before nodes, NetBIOS before DNS form, then port.
func (f Farm) DesiredSPNs() []string {
	var out []string
	seen := make(map[string]bool)
	for _, class := range f.Classes {
		for _, host := range f.hostNames() {
			for _, spn := range withPorts(class+"/"+host, f.Ports) {
				if key := foldKey(spn); !seen[key] {
					seen[key] = true
					out = append(out, spn)
				}
			}
		}
	}
	return out
}

func withPorts(spn string, ports []int) []string {
	if len(ports) == 0 {
		return []string{spn}
	}
	out := make([]string, len(ports))
	for i, p := range ports {
		out[i] = spn + ":" + strconv.Itoa(p)
	}
	return out
}

// resolveAccount finds the objects a farm's account reference names: a DN,
// or a sAMAccountName (with or without the trailing $ of computers and
// managed service accounts), optionally qualified as DOMAIN\name.
func (ix *index) resolveAccount(ref string) []int32 {
	ref = strings.TrimSpace(ref)
	if strings.Contains(ref, "=") {
		if i := ix.object(ref); i >= 0 {
			return []int32{i}
		}
		return nil
	}
	domain, sam, qualified := strings.Cut(ref, `\`)
	if !qualified {
		sam, domain = domain, ""
	}
	sam = strings.TrimSuffix(sam, "$")
	var out []int32
	for i := range ix.objs {
		o := ix.objs[i]
		if !strings.EqualFold(strings.TrimSuffix(o.SAMAccountName, "$"), sam) {
			continue
		}
		if d := domainOf(o); domain == "" || strings.EqualFold(domain, d) || strings.EqualFold(domain, ix.netbiosDomain(d)) {
			out = append(out, int32(i))
		}
	}
	return out
}

// farmCovers reports whether a farm declares spn for object obj: the object
// is a farm's account, the class is one of its classes and the host one of
// its names. Farm drift, not the generic host rules, judges those SPNs.
func (ix *index) farmCovers(obj int32, spn SPN) bool {
	var buf [128]byte
	for _, i := range ix.farmHosts[string(appendLower(buf[:0], spn.Host))] {
		if slices.Equal(ix.farmAccount(i), []int32{obj}) &&
			slices.ContainsFunc(ix.farms[i].Classes, func(c string) bool { return strings.EqualFold(c, spn.Class) }) {
			return true
		}
	}
	return false
}

// farmAccount returns the resolved account of farm i, computed once.
func (ix *index) farmAccount(i int) []int32 {
	ix.farmOnce.Do(func() {
		ix.farmAccounts = make([][]int32, len(ix.farms))
		for j, f := range ix.farms {
			ix.farmAccounts[j] = ix.resolveAccount(f.Account)
		}
	})
	return ix.farmAccounts[i]
}
