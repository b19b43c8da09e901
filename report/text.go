package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spnaudit/spnaudit/audit"
)

// width is the terminal width tables are laid out for.
const width = 100

// Sanitize makes directory data safe and visible on a terminal: control,
// format (zero-width, bidi) and non-ASCII space characters, and invalid
// UTF-8, are shown as Go escapes. Such characters in an SPN are exactly what
// malformed-spn reports, and they must neither hide nor drive the terminal.
// Table cells, the progress line, and the CLI's warnings and one-line errors
// (which can quote a DN) all go through it.
func Sanitize(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || hidden(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case hidden(r) && r <= 0xFFFF:
			fmt.Fprintf(&b, `\u%04x`, r)
		case hidden(r):
			fmt.Fprintf(&b, `\U%08x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func hidden(r rune) bool {
	return r != ' ' && (!unicode.IsPrint(r) || unicode.Is(unicode.Cf, r))
}

// wrap breaks s into lines of at most n runes: at spaces when it can, else
// after a separator (DN comma, SPN slash, dot, colon, backslash, hyphen) in
// the last two thirds of the line, else anywhere. With dn set, commas are preferred over spaces, since DNs contain
// spaces ("OU=Service Accounts") but read best broken between RDNs.
func wrap(s string, n int, dn bool) []string {
	var lines []string
	r := []rune(s)
	for len(r) > n {
		cut, skip := breakPoint(r, n, dn)
		lines = append(lines, strings.TrimRight(string(r[:cut]), " "))
		r = r[cut+skip:]
	}
	return append(lines, string(r))
}

// breakPoint returns where to end a line of at most n runes of r (n <
// len(r)) and how many runes to drop after it.
func breakPoint(r []rune, n int, dn bool) (cut, skip int) {
	if dn {
		for i := n - 1; i > 0; i-- {
			if r[i] == ',' {
				return i + 1, 0
			}
		}
	}
	for i := n; i > 0; i-- {
		if r[i] == ' ' {
			return i, 1
		}
	}
	for i := n - 1; i >= n/3; i-- {
		if strings.ContainsRune(",/.:\\-", r[i]) {
			return i + 1, 0
		}
	}
	return n, 0
}

// thousands writes n with comma separators: 1,873.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// count writes "1 SPN", "1,873 SPNs".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return thousands(n) + " " + noun + "s"
}

// seconds writes a duration for people: 0.4s, 12.0s, 2m5s.
func seconds(d time.Duration) string {
	if d < time.Minute {
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	}
	return d.Round(time.Second).String()
}

// painter adds ANSI styles when colour is on.
type painter bool

func (p painter) paint(style, s string) string {
	if !p || s == "" {
		return s
	}
	return "\x1b[" + style + "m" + s + "\x1b[0m"
}

const (
	styleBold = "1"
	styleDim  = "2"
)

var severityStyle = map[audit.Severity]string{
	audit.SeverityCritical: "1;31", // bold red
	audit.SeverityHigh:     "31",
	audit.SeverityMedium:   "33",
	audit.SeverityLow:      "36",
	audit.SeverityInfo:     styleDim,
}
