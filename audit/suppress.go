package audit

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Suppression silences findings of a rule for an SPN and/or account pattern.
// Patterns are globs matched case-insensitively against the whole value:
// '*' matches any run of characters ('/' included), '?' one character,
// "[a-z]" and "[!a-z]" a class; a backslash is an ordinary character, so
// "CORP\svc_*" works. Account patterns are matched against each account's DN,
// sAMAccountName and DOMAIN\sAMAccountName.
type Suppression struct {
	// Rule is a rule id or a glob over rule ids.
	Rule    string `json:"rule" mapstructure:"rule"`
	SPN     string `json:"spn,omitempty" mapstructure:"spn"`
	Account string `json:"account,omitempty" mapstructure:"account"`
	// Reason says why the finding is acceptable; it is required.
	Reason string `json:"reason" mapstructure:"reason"`
}

// Validate checks that the suppression has a reason, names at least one
// known rule, has an SPN or account pattern, and that its patterns are valid.
func (s Suppression) Validate() error {
	if strings.TrimSpace(s.Reason) == "" {
		return errors.New("reason: a suppression must say why the finding is acceptable")
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

// applySuppressions splits sorted findings into active and suppressed ones;
// the first matching suppression, in configuration order, wins.
func applySuppressions(ix *index, all []Finding, sups []compiledSuppression) Result {
	res := Result{Findings: []Finding{}, Suppressed: []SuppressedFinding{}}
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
		if s.account != nil && !slices.ContainsFunc(f.Accounts, func(dn string) bool {
			return accountMatches(ix, s.account, dn)
		}) {
			continue
		}
		return s, true
	}
	return compiledSuppression{}, false
}

func accountMatches(ix *index, re *regexp.Regexp, dn string) bool {
	if re.MatchString(dn) {
		return true
	}
	i := ix.object(dn)
	if i < 0 {
		return false
	}
	o := &ix.objs[i]
	return re.MatchString(o.SAMAccountName) || re.MatchString(ix.accountName(o))
}
