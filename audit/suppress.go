package audit

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Suppression silences findings of a rule for an SPN and/or account pattern.
// Patterns are globs matched case-insensitively against the whole value:
// '*' matches any run of characters ('/' included), '?' one character,
// "[a-z]" and "[!a-z]" a class; a backslash is an ordinary character, so
// "CORP\svc_*" works. Account patterns are matched against each account's DN,
// sAMAccountName and DOMAIN\sAMAccountName. A finding that names several
// accounts (a duplicate SPN, an alias conflict) is suppressed by an account
// pattern only when every one of its accounts matches: otherwise copying an
// ignored account's SPN onto another account would hide the duplicate.
type Suppression struct {
	// Rule is a rule id or a glob over rule ids.
	Rule    string `json:"rule" mapstructure:"rule"`
	SPN     string `json:"spn,omitempty" mapstructure:"spn"`
	Account string `json:"account,omitempty" mapstructure:"account"`
	// Reason says why the finding is acceptable; it is required.
	Reason string `json:"reason" mapstructure:"reason"`
	// Owner is who accepted the risk and answers for the suppression (a
	// person, a team, a ticket queue); it is required.
	Owner string `json:"owner" mapstructure:"owner"`
	// Until, when set, is the last day (YYYY-MM-DD, UTC) the suppression
	// applies. From the next day on it suppresses nothing and the audit
	// reports it in Result.ExpiredSuppressions.
	Until string `json:"until,omitempty" mapstructure:"until"`
}

// untilLayout is the form of Suppression.Until.
const untilLayout = time.DateOnly

// Expired reports whether the suppression has an Until day that ended before
// now. A zero now (no reference time) cannot show a dated suppression to be
// current, so it counts as expired: a suppression never hides a finding on a
// guess.
func (s Suppression) Expired(now time.Time) bool {
	if s.Until == "" {
		return false
	}
	day, err := time.Parse(untilLayout, s.Until)
	if err != nil || now.IsZero() {
		return true
	}
	return !now.Before(day.AddDate(0, 0, 1))
}

// Validate checks that the suppression has a reason, names at least one
// known rule, has an SPN or account pattern, and that its patterns are valid.
func (s Suppression) Validate() error {
	if strings.TrimSpace(s.Reason) == "" {
		return errors.New("reason: a suppression must say why the finding is acceptable")
	}
	if strings.TrimSpace(s.Owner) == "" {
		return errors.New("owner: a suppression must name who accepted the finding, e.g. owner: web-team")
	}
	if s.Until != "" {
		if _, err := time.Parse(untilLayout, s.Until); err != nil {
			return fmt.Errorf("until: %q is not a date; write the last day the suppression applies as YYYY-MM-DD, e.g. 2026-12-31", s.Until)
		}
	}
	if s.Rule == "" {
		return fmt.Errorf("rule: missing; use one of %s", strings.Join(RuleIDs, ", "))
	}
	if s.SPN == "" && s.Account == "" {
		return errors.New(`spn, account: set at least one pattern (use "*" to match everything)`)
	}
	_, err := compileSuppression(s)
	return err
}

type compiledSuppression struct {
	Suppression
	rule, spn, account *regexp.Regexp // nil matches anything
}

func compileSuppression(s Suppression) (compiledSuppression, error) {
	c := compiledSuppression{Suppression: s}
	var err error
	if c.rule, err = compileGlob(s.Rule); err != nil {
		return c, fmt.Errorf("rule: %w", err)
	}
	if !slices.ContainsFunc(RuleIDs, c.rule.MatchString) {
		return c, fmt.Errorf("rule: %q matches no rule; use one of %s", s.Rule, strings.Join(RuleIDs, ", "))
	}
	if s.SPN != "" {
		if c.spn, err = compileGlob(s.SPN); err != nil {
			return c, fmt.Errorf("spn: %w", err)
		}
	}
	if s.Account != "" {
		if c.account, err = compileGlob(s.Account); err != nil {
			return c, fmt.Errorf("account: %w", err)
		}
	}
	return c, nil
}

// compileSuppressions keeps the valid suppressions; Config.Validate reports
// the others.
func compileSuppressions(list []Suppression) []compiledSuppression {
	var out []compiledSuppression
	for _, s := range list {
		if s.Validate() != nil {
			continue
		}
		c, _ := compileSuppression(s)
		out = append(out, c)
	}
	return out
}

// compileGlob turns a glob into an anchored, case-insensitive regexp.
func compileGlob(glob string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString(`(?is)\A`)
	runes := []rune(glob)
	for i := 0; i < len(runes); i++ {
		switch r := runes[i]; r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '[':
			end, class, err := globClass(runes, i)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", glob, err)
			}
			b.WriteString(class)
			i = end
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`\z`)
	return regexp.Compile(b.String())
}

// globClass translates the class starting at runes[start] == '[' and returns
// the index of its closing ']'.
func globClass(runes []rune, start int) (int, string, error) {
	var b strings.Builder
	b.WriteByte('[')
	i := start + 1
	if i < len(runes) && (runes[i] == '!' || runes[i] == '^') {
		b.WriteByte('^')
		i++
	}
	for first := true; i < len(runes); i, first = i+1, false {
		r := runes[i]
		if r == ']' && !first {
			b.WriteByte(']')
			return i, b.String(), nil
		}
		if r == '-' && !first && i+1 < len(runes) && runes[i+1] != ']' {
			b.WriteByte('-')
			continue
		}
		b.WriteString(regexp.QuoteMeta(string(r)))
	}
	return 0, "", errors.New("unterminated '[' in pattern")
}

func fieldError(field string, i int, err error) error {
	return fmt.Errorf("%s[%d]: %w", field, i, err)
}

// currentSuppressions splits sups into those in force at now and the
// expired ones, which are not applied.
func currentSuppressions(sups []compiledSuppression, now time.Time) (current []compiledSuppression, expired []Suppression) {
	for _, s := range sups {
		if s.Expired(now) {
			expired = append(expired, s.Suppression)
			continue
		}
		current = append(current, s)
	}
	return current, expired
}

// applySuppressions splits sorted findings into active and suppressed ones;
// the first matching suppression, in configuration order, wins. Expired
// suppressions are not applied but listed in the result.
func applySuppressions(ix *index, all []Finding, sups []compiledSuppression) Result {
	res := Result{Findings: []Finding{}, Suppressed: []SuppressedFinding{}, ExpiredSuppressions: []Suppression{}}
	sups, expired := currentSuppressions(sups, ix.now)
	res.ExpiredSuppressions = append(res.ExpiredSuppressions, expired...)
	if len(sups) == 0 {
		if all != nil {
			res.Findings = all
		}
		return res
	}
	for _, f := range all {
		if s, ok := matchSuppression(ix, f, sups); ok {
			res.Suppressed = append(res.Suppressed, SuppressedFinding{Finding: f, SuppressedBy: s.Suppression})
			continue
		}
		res.Findings = append(res.Findings, f)
	}
	return res
}

func matchSuppression(ix *index, f Finding, sups []compiledSuppression) (compiledSuppression, bool) {
	for _, s := range sups {
		if !s.rule.MatchString(f.Rule) {
			continue
		}
		if s.spn != nil && !s.spn.MatchString(f.SPN) {
			continue
		}
		if s.account != nil && !everyAccountMatches(ix, s.account, f.Accounts) {
			continue
		}
		return s, true
	}
	return compiledSuppression{}, false
}

// everyAccountMatches reports whether a finding's accounts all match re; a
// finding with no account (a directory setting) matches no account pattern.
func everyAccountMatches(ix *index, re *regexp.Regexp, dns []string) bool {
	return len(dns) > 0 && !slices.ContainsFunc(dns, func(dn string) bool { return !accountMatches(ix, re, dn) })
}

func accountMatches(ix *index, re *regexp.Regexp, dn string) bool {
	if re.MatchString(dn) {
		return true
	}
	i := ix.object(dn)
	if i < 0 {
		return false
	}
	o := ix.objs[i]
	return re.MatchString(o.SAMAccountName) || re.MatchString(ix.accountName(o))
}
