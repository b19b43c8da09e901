package inventory

import (
	"slices"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// DomainFromDN returns the DNS name of the domain holding dn: its trailing
// DC= components, lower case ("CN=x,DC=Corp,DC=Test" -> "corp.test"); "" for
// a DN with none or one that does not parse. It is the one DN-to-domain
// mapping: ldapscan fills Object.Domain with it and DomainName falls back to
// it. The DN is parsed (go-ldap), so an escaped comma inside a value never
// passes for a component.
func DomainFromDN(dn string) string {
	parsed, err := ldap.ParseDN(dn)
	if err != nil {
		return ""
	}
	var labels []string
	for _, rdn := range slices.Backward(parsed.RDNs) {
		if len(rdn.Attributes) != 1 || !strings.EqualFold(rdn.Attributes[0].Type, "DC") {
			break
		}
		labels = append(labels, strings.ToLower(rdn.Attributes[0].Value))
	}
	slices.Reverse(labels)
	return strings.Join(labels, ".")
}
