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
	// One pass from the left (issue 9: a loop per byte, a Cut, a Trim and
	// an EqualFold per component before): each component's first '='
	// noted on the way, its type checked at its comma.
	suffix := -1 // start of the trailing run of DC= components
	start, eq := 0, -1
	for i := 0; i <= len(dn); i++ {
		if i < len(dn) {
			c := dn[i]
			if c != ',' {
				if !plainDNBytes[c] {
					return "", false
				}
				if c == '=' && eq < 0 {
					eq = i
				}
				continue
			}
		}
		if eq < 0 {
			return "", false
		}
		t0, t1 := start, eq
		for t0 < t1 && dn[t0] == ' ' {
			t0++
		}
		for t1 > t0 && dn[t1-1] == ' ' {
			t1--
		}
		switch {
		case t0 == t1:
			return "", false
		// "DC" in any case: no byte but d and D gives 'd' once 0x20 is
		// set, nor but c and C 'c' (plain bytes are ASCII).
		case t1-t0 == 2 && dn[t0]|0x20 == 'd' && dn[t0+1]|0x20 == 'c':
			if suffix < 0 {
				suffix = start
			}
		default:
			suffix = -1
		}
		start, eq = i+1, -1
	}
	if suffix < 0 {
		return "", true
	}
	return dn[suffix:], true
}

// plainDNBytes[c] is plainDNByte(c).
var plainDNBytes = func() (t [256]bool) {
	for c := range t {
		t[c] = plainDNByte(byte(c))
	}
	return t
}()

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

// DomainCache is DomainFromDN for DNs read one after the other, as an
// export lists them: a DN whose first component is plain and not DC=, and
// whose rest is the rest of the last such DN, has that DN's domain (its
// DC= suffix lies in the rest), found without walking the whole DN again
// (issue 9). The zero value is ready; it is not safe for concurrent use.
type DomainCache struct {
	tail   string // the DN after its first comma, of the DN last cached
	domain string
}

// DomainFromDN returns DomainFromDN(dn).
func (c *DomainCache) DomainFromDN(dn string) string {
	first, ok := plainFirstComponent(dn)
	if !ok {
		return DomainFromDN(dn)
	}
	if tail := dn[first+1:]; c.tail != "" && tail == c.tail {
		return c.domain
	}
	d := DomainFromDN(dn)
	if _, plain := plainDCSuffix(dn); plain {
		c.tail, c.domain = dn[first+1:], d
	}
	return d
}

// plainFirstComponent returns the offset of the comma that ends dn's first
// component when that component is plain (plainDNByte), type=value with a
// type other than DC; false otherwise.
func plainFirstComponent(dn string) (int, bool) {
	eq := -1
	for i := 0; i < len(dn); i++ {
		c := dn[i]
		if c == ',' {
			if eq < 0 {
				return 0, false
			}
			t0, t1 := 0, eq
			for t0 < t1 && dn[t0] == ' ' {
				t0++
			}
			for t1 > t0 && dn[t1-1] == ' ' {
				t1--
			}
			if t0 == t1 || t1-t0 == 2 && dn[t0]|0x20 == 'd' && dn[t0+1]|0x20 == 'c' {
				return 0, false
			}
			return i, true
		}
		if !plainDNBytes[c] {
			return 0, false
		}
		if c == '=' && eq < 0 {
			eq = i
		}
	}
	return 0, false
}
