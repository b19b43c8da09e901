package inventory

import "strings"

// ntdsSettingsPrefix starts the DN of a DC's nTDSDSA object, whose parent is
// the DC's server object: CN=NTDS Settings,CN=DC1,CN=Servers,CN=<site>,...
const ntdsSettingsPrefix = "cn=ntds settings,cn="

// DCName names the domain controller an originating-DSA reference (an
// invocation ID or an NTDS Settings DN) designates: its DNS host name when
// the scan read the forest's DCs, else the name of its server object when
// the reference is a DN, else "" (a DC since demoted or restored, whose
// invocation ID no longer appears).
func (d *Directory) DCName(dsa string) string {
	if dsa == "" {
		return ""
	}
	key := strings.ToLower(dsa)
	if name := d.DCs[key]; name != "" {
		return name
	}
	if rest, ok := strings.CutPrefix(key, ntdsSettingsPrefix); ok {
		server, _, _ := strings.Cut(rest, ",")
		return server
	}
	return ""
}
