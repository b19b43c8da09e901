package inventory

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-ldap/ldap/v3"
)

// DomainFromDN returns the DNS name of the domain holding dn: its trailing
// DC= components, lower case ("CN=x,DC=Corp,DC=Test" -> "corp.test"); "" for
// a DN with none or one that does not parse. It is the one DN-to-domain
// mapping: ldapscan fills Object.Domain with it and DomainName falls back to
// it. The DN is parsed (go-ldap), so an escaped comma inside a value never
// passes for a component.
//
// A DN of plain characters (letters, digits, spaces, '.', '-', '_', '=' and
// ',': no escape, no quote, no multi-valued RDN), which is nearly every DN
// of a real export, is split in place instead, as go-ldap would split it
// (FuzzDomainFromDN holds the two to the same answer), and the domain of its
// DC= suffix is cached: the 255,000 DNs of a large export share a handful of
// domains (issue 9).
func DomainFromDN(dn string) string {
	suffix, ok := plainDCSuffix(dn)
	if !ok {
		return domainFromParsedDN(dn)
	}
	if d, hit := domainBySuffix.Load(suffix); hit {
		return d.(string)
	}
	d := domainFromParsedDN(suffix)
	if domainBySuffixSize.Add(1) <= maxDomainSuffixes {
		domainBySuffix.Store(strings.Clone(suffix), d)
	}
	return d
}

// domainBySuffix caches DomainFromDN by the DC= suffix of plain DNs; it is
// bounded so that an export of a million distinct domains cannot grow it
// without limit.
var (
	domainBySuffix     sync.Map // string -> string
	domainBySuffixSize atomic.Int64
)

const maxDomainSuffixes = 4096

// plainDCSuffix returns the trailing DC= components of dn ("DC=corp,DC=test"
// of "CN=x,OU=y,DC=corp,DC=test"), and false when dn is not a plain DN whose
// every component is type=value with a type: such a DN goes to the parser.
func plainDCSuffix(dn string) (string, bool) {
	if strings.TrimSpace(dn) == "" {
		return "", false
	}
	suffix := len(dn)
	inSuffix := true
	end := len(dn)
	for i := len(dn) - 1; i >= -1; i-- {
		if i >= 0 {
			c := dn[i]
			if c == ',' {
				goto component
			}
			if !plainDNByte(c) {
				return "", false
			}
			continue
		}
	component:
		{
			comp := dn[i+1 : end]
			typ, _, ok := strings.Cut(comp, "=")
			typ = strings.Trim(typ, " ")
			if !ok || typ == "" {
				return "", false
			}
			if inSuffix && strings.EqualFold(typ, "DC") {
				suffix = i + 1
			} else {
				inSuffix = false
			}
			end = i
		}
	}
	return dn[suffix:], true
}

func plainDNByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == ' ' || c == '.' || c == '-' || c == '_' || c == '='
}

// domainFromParsedDN is DomainFromDN by go-ldap's parser, for every DN.
func domainFromParsedDN(dn string) string {
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
