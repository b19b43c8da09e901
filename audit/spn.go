package audit

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SPN is a servicePrincipalName split into its parts:
// class/host[:port][/service]. The parts are substrings of the raw value. A
// value with more '/' keeps them in ServiceName (and is malformed).
type SPN struct {
	Class string
	Host  string
	// Port is the text after ':' in the instance part: a port number or, for
	// SQL Server named instances, an instance name.
	Port        string
	ServiceName string
	// HasPort and HasServiceName tell "host:" and "host/" (empty parts, which
	// are malformed) from absent parts.
	HasPort        bool
	HasServiceName bool
}

// String reassembles the SPN; for any value containing '/' it returns the
// value ParseSPN was given.
func (s SPN) String() string {
	var b strings.Builder
	b.Grow(len(s.Class) + len(s.Host) + len(s.Port) + len(s.ServiceName) + 3)
	b.WriteString(s.Class)
	b.WriteByte('/')
	b.WriteString(s.Host)
	if s.HasPort {
		b.WriteByte(':')
		b.WriteString(s.Port)
	}
	if s.HasServiceName {
		b.WriteByte('/')
		b.WriteString(s.ServiceName)
	}
	return b.String()
}

// Plain reports whether the SPN names a host only, with no port and no service
// name: the form that sPNMappings aliases (HTTP/node maps to HOST/node).
func (s SPN) Plain() bool { return !s.HasPort && !s.HasServiceName }

// Problem is one reason an SPN value is malformed, in words an admin reads.
type Problem string

// maxProblems bounds the reasons kept per value, so hostile input cannot make
// the parser quadratic while de-duplicating them.
const maxProblems = 8

// ParseSPN splits raw into its parts and lists every reason it is malformed
// (nil when it is well formed). It never fails: the parts of a malformed value
// are its best-effort split, so rules can still report on it.
// It does not allocate for well-formed ASCII values.
func ParseSPN(raw string) (SPN, []Problem) {
	var s SPN
	var p problems
	if raw == "" {
		p.add("empty value")
		return s, p.list
	}
	slash := strings.IndexByte(raw, '/')
	if slash < 0 {
		s.Class = raw
		p.add("missing '/' between service class and host")
		p.checkChars(raw, len(raw), len(raw), len(raw), len(raw), len(raw))
		return s, p.list
	}
	s.Class = raw[:slash]
	rest := raw[slash+1:]
	instance := rest
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		instance = rest[:j]
		s.ServiceName = rest[j+1:]
		s.HasServiceName = true
	}
	s.Host, s.Port, s.HasPort = splitHostPort(instance)

	if s.Class == "" {
		p.add("empty service class")
	}
	if s.Host == "" {
		p.add("empty host")
	} else {
		p.checkHostShape(s.Host)
	}
	if s.HasPort {
		p.checkPort(s.Port)
	}
	if s.HasServiceName && s.ServiceName == "" {
		p.add("empty service name after the last '/'")
	}
	if extra := strings.Count(s.ServiceName, "/"); extra > 0 {
		// AD splits the value at every '/' (a backslash does not escape
		// one) and refuses fewer than two or more than three components;
		// Samba's samldb count_spn_components does the same.
		p.add("%d '/'-separated components; AD accepts only class/host or class/host/service (a backslash does not escape '/')", extra+3)
	}
	hostStart := slash + 1
	hostEnd := hostStart + len(s.Host)
	instanceEnd := hostStart + len(instance)
	p.checkChars(raw, slash, hostStart, hostEnd, instanceEnd, len(raw))
	return s, p.list
}

// plainHost returns the host of a value of the commonest shape, class/host
// in printable ASCII without port, service name or IPv6 literal, the host
// made of non-empty DNS labels: ParseSPN finds no problem in it and the
// same host. ok is false for any other value (ParseSPN then tells). One
// pass over the bytes where ParseSPN takes six (issue 9: classifying the
// realistic export's 1M SPNs).
func plainHost(raw string) (host string, ok bool) {
	slash := -1
	for i := 0; i < len(raw); i++ {
		switch plainByte[raw[i]] {
		case plainOther:
			continue
		case plainSlash:
			if slash >= 0 {
				return "", false
			}
			slash = i
		case plainDot:
			if i == slash+1 || i == len(raw)-1 || raw[i-1] == '.' {
				return "", false
			}
		default:
			return "", false
		}
	}
	if slash <= 0 || slash == len(raw)-1 {
		return "", false
	}
	return raw[slash+1:], true
}

// plainByte classifies bytes for plainHost: one table load a byte in the
// common case instead of six comparisons.
var plainByte = func() (t [256]uint8) {
	for c := range t {
		switch {
		case c <= ' ' || c >= 0x7f, c == ':', c == '[':
			t[c] = plainNot
		case c == '/':
			t[c] = plainSlash
		case c == '.':
			t[c] = plainDot
		}
	}
	return t
}()

const (
	plainOther uint8 = iota
	plainSlash
	plainDot
	plainNot
)

// splitHostPort splits an instance part "host[:port]", keeping bracketed IPv6
// literals ("[::1]:80") whole.
func splitHostPort(instance string) (host, port string, hasPort bool) {
	if strings.HasPrefix(instance, "[") {
		if end := strings.IndexByte(instance, ']'); end > 0 {
			after := instance[end+1:]
			if strings.HasPrefix(after, ":") {
				return instance[:end+1], after[1:], true
			}
			if after == "" {
				return instance, "", false
			}
		}
	}
	if k := strings.IndexByte(instance, ':'); k >= 0 {
		return instance[:k], instance[k+1:], true
	}
	return instance, "", false
}

type problems struct{ list []Problem }

func (p *problems) add(format string, args ...any) {
	if len(p.list) >= maxProblems {
		return
	}
	msg := Problem(format)
	if len(args) > 0 {
		msg = Problem(fmt.Sprintf(format, args...))
	}
	for _, have := range p.list {
		if have == msg {
			return
		}
	}
	p.list = append(p.list, msg)
}

func (p *problems) checkHostShape(host string) {
	if strings.HasPrefix(host, "[") {
		return // IPv6 literal
	}
	switch {
	case strings.HasSuffix(host, "."):
		// Clients never put the root dot in a ticket request, so the SPN is
		// never matched and escapes the uniqueness check against "host".
		p.add("trailing dot in host")
	case strings.HasPrefix(host, ".") || strings.Contains(host, ".."):
		p.add("empty DNS label in host")
	}
}

func (p *problems) checkPort(port string) {
	if port == "" {
		p.add("empty port after ':'")
		return
	}
	if port[0] < '0' || port[0] > '9' {
		return // SQL Server named instance, e.g. MSSQLSvc/db:SALES
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		p.add("port %q is not a number", port)
		return
	}
	if n < 1 || n > 65535 {
		p.add("port %d out of range 1-65535", n)
	}
}

// checkChars reports characters that make a value look like another one or
// break parsers: control characters, whitespace, invisible format characters
// and non-ASCII letters in the class or host. The offsets delimit the parts:
// class [0,classEnd), host [hostStart,hostEnd), port up to instanceEnd,
// service name after it.
func (p *problems) checkChars(raw string, classEnd, hostStart, hostEnd, instanceEnd, end int) {
	if printableASCII(raw) {
		return
	}
	part := func(i int) string {
		switch {
		case i < classEnd:
			return "service class"
		case i < hostStart:
			return "separator"
		case i < hostEnd:
			return "host"
		case i < instanceEnd:
			return "port"
		case i < end:
			return "service name"
		}
		return "value"
	}
	for i := 0; i < len(raw); {
		r, size := utf8.DecodeRuneInString(raw[i:])
		where := part(i)
		switch {
		case r == utf8.RuneError && size == 1:
			p.add("invalid UTF-8 byte 0x%02X in %s", raw[i], where)
		case unicode.Is(unicode.Cc, r):
			p.add("control character %U in %s", r, where)
		case unicode.IsSpace(r):
			p.add("whitespace %U in %s", r, where)
		case isBidiControl(r):
			p.add("bidirectional control character %U in %s", r, where)
		case isZeroWidth(r):
			p.add("zero-width character %U in %s", r, where)
		case isInvisible(r):
			p.add("invisible character %U in %s", r, where)
		case r >= utf8.RuneSelf && (where == "service class" || where == "host"):
			p.add("non-ASCII character %U %q in %s (homoglyph-prone; IDN hosts must be registered in punycode)", r, r, where)
		}
		i += size
	}
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

func isBidiControl(r rune) bool {
	switch {
	case r == 0x061C, r == 0x200E, r == 0x200F:
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

func isZeroWidth(r rune) bool {
	switch r {
	case 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF:
		return true
	}
	return false
}

// isInvisible covers the remaining characters that render as nothing: format
// characters (soft hyphen, Mongolian vowel separator, tag characters...),
// variation selectors, the combining grapheme joiner and the fillers.
func isInvisible(r rune) bool {
	switch {
	case unicode.Is(unicode.Cf, r):
		return true
	case r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0100 && r <= 0xE01EF:
		return true
	}
	switch r {
	case 0x034F, 0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800:
		return true
	}
	return false
}
