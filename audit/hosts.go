package audit

import "strings"

// notAHostName reports whether an SPN's host part names something other than
// a machine, which the host rules (ghost, pairs, aliases) must leave alone:
// IP literals, GUIDs (DC replication and _msdcs names), the forest's domains
// and realm, and kadmin/changepw.
func (ix *index) notAHostName(spn SPN) bool {
	if strings.EqualFold(spn.Class, "kadmin") || isGUID(spn.Class) {
		return true
	}
	host := spn.Host
	if isIPLiteral(host) || ix.isDomainName(host) {
		return true
	}
	label, rest, _ := strings.Cut(host, ".")
	return isGUID(label) || len(rest) >= 7 && strings.EqualFold(rest[:7], "_msdcs.")
}

// isGUID reports whether s is a GUID in its usual text form, with or without
// braces.
func isGUID(s string) bool {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// isIPLiteral reports whether host is an IPv4 address or a bracketed IPv6
// literal.
func isIPLiteral(host string) bool {
	if strings.HasPrefix(host, "[") {
		return true
	}
	dots := 0
	for i := 0; i < len(host); i++ {
		switch c := host[i]; {
		case c == '.':
			dots++
		case c < '0' || c > '9':
			return false
		}
	}
	return dots == 3
}
