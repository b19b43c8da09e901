package audit

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spnaudit/spnaudit/inventory"
)

// malformedSPN reports values that are not class/host[:port][/service] or that
// carry characters which make them look like another SPN: AD compares the raw
// strings, so "HTTP/web\u200b" or a Cyrillic "е" passes the uniqueness check
// against "HTTP/web" while admins cannot see the difference.
type malformedSPN struct{}

func (malformedSPN) ID() string { return RuleMalformedSPN }

func (malformedSPN) Severities() []Severity {
	return []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow}
}

func (malformedSPN) Check(ix *index) []Finding {
	var out []Finding
	for i := range ix.objs {
		if ix.objFlags[i]&objAnyMalformed == 0 {
			continue
		}
		o := ix.objs[i]
		for j, raw := range o.SPNs {
			if ix.flags(i, j)&spnMalformed != 0 {
				_, problems := ParseSPN(raw)
				out = append(out, malformedFinding(ix, int32(i), raw, problems))
			}
		}
	}
	return out
}

func malformedFinding(ix *index, obj int32, raw string, problems []Problem) Finding {
	o := ix.objs[obj]
	sev := malformedSeverity(raw)
	reasons := make([]string, len(problems))
	for i, p := range problems {
		reasons[i] = string(p)
	}
	msg := fmt.Sprintf("servicePrincipalName %s on %s is malformed: %s", quotedSPN(raw), ix.accountName(o), strings.Join(reasons, "; "))
	accounts := []string{o.DN}
	if look, holder, ok := lookalikeOf(ix, obj, raw); ok {
		sev = SeverityCritical
		accounts = append(accounts, holder.DN)
		msg += fmt.Sprintf("; it looks like %s on %s, which it can impersonate", look, ix.accountName(holder))
	}
	return Finding{
		Rule:     RuleMalformedSPN,
		Severity: sev,
		SPN:      raw,
		Accounts: accounts,
		Message:  msg + ".",
		Remediation: []string{
			fmt.Sprintf("Set-ADObject -Identity %s -Remove @{servicePrincipalName=%s}", psQuote(o.DN), psQuote(raw)),
			"# Then register the intended SPN in plain ASCII with setspn -S.",
		},
		References: []string{refSPNFormats, refSetADObject, refUniqueness},
	}
}

// malformedSeverity ranks by intent: characters that only serve to look like
// something else are high, characters that break parsers medium, shape
// errors low.
func malformedSeverity(raw string) Severity {
	sev := SeverityLow
	for i := 0; i < len(raw); {
		r, size := utf8.DecodeRuneInString(raw[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1, unicode.Is(unicode.Cc, r), unicode.IsSpace(r):
			sev = SeverityMedium
		case r >= utf8.RuneSelf:
			return SeverityHigh
		}
	}
	return sev
}

// lookalikeOf finds an SPN held by another account that raw imitates: the
// same value once invisible characters, whitespace and a trailing host dot
// are dropped and common homoglyphs mapped to ASCII, compared as Windows
// compares SPNs (so diacritics, width and kana type are ignored too). The
// same value in another case is a plain duplicate, not a look-alike.
func lookalikeOf(ix *index, obj int32, raw string) (string, *inventory.Object, bool) {
	look := skeleton(raw)
	if look == "" {
		return "", nil, false
	}
	for _, r := range ix.spns.holders(look) {
		if r.obj != obj && !strings.EqualFold(ix.spns.raw(r), raw) {
			return ix.spns.raw(r), ix.objs[r.obj], true
		}
	}
	return "", nil, false
}

func skeleton(raw string) string {
	var b strings.Builder
	for _, r := range raw {
		switch {
		case unicode.Is(unicode.Cc, r), unicode.IsSpace(r), isBidiControl(r), isZeroWidth(r), isInvisible(r):
		case r >= 0xFF01 && r <= 0xFF5E: // fullwidth ASCII
			b.WriteRune(r - 0xFF01 + '!')
		default:
			if a, ok := homoglyphs[r]; ok {
				r = a
			}
			b.WriteRune(r)
		}
	}
	s := b.String()
	spn, _ := ParseSPN(s)
	if strings.HasSuffix(spn.Host, ".") && strings.Contains(s, "/") {
		spn.Host = strings.TrimRight(spn.Host, ".")
		s = spn.String()
	}
	return s
}

// homoglyphs maps Cyrillic and Greek letters to the Latin letters they are
// drawn like.
var homoglyphs = map[rune]rune{
	'а': 'a', 'е': 'e', 'о': 'o', 'р': 'p', 'с': 'c', 'у': 'y', 'х': 'x', 'і': 'i', 'ј': 'j', 'ѕ': 's',
	'һ': 'h', 'ԁ': 'd', 'ԛ': 'q', 'ԝ': 'w', 'ӏ': 'l',
	'А': 'A', 'В': 'B', 'Е': 'E', 'К': 'K', 'М': 'M', 'Н': 'H', 'О': 'O', 'Р': 'P', 'С': 'C', 'Т': 'T',
	'Х': 'X', 'У': 'Y', 'І': 'I', 'Ј': 'J', 'Ѕ': 'S',
	'α': 'a', 'ο': 'o', 'ρ': 'p', 'ν': 'v', 'ι': 'i', 'κ': 'k',
	'Α': 'A', 'Β': 'B', 'Ε': 'E', 'Ζ': 'Z', 'Η': 'H', 'Ι': 'I', 'Κ': 'K', 'Μ': 'M', 'Ν': 'N', 'Ο': 'O',
	'Ρ': 'P', 'Τ': 'T', 'Υ': 'Y', 'Χ': 'X',
}
