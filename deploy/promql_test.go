package deploy

import (
	"strings"
	"unicode"
)

// promqlKeywords are identifiers in PromQL that are not metric names when not
// followed by "(": operators, modifiers and aggregations used with by/without.
var promqlKeywords = map[string]bool{
	"and": true, "or": true, "unless": true, "atan2": true, "bool": true, "offset": true,
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true,
	"inf": true, "nan": true,
}

// labelListKeywords are followed by a parenthesised list of label names.
var labelListKeywords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
}

// metricNames returns the metric names a PromQL expression selects. It is a
// lexer, not a parser (promtool checks the syntax): it drops strings, label
// matchers, ranges and label lists, then keeps identifiers that are neither
// function calls nor keywords.
func metricNames(expr string) []string {
	var names []string
	r := []rune(expr)
	for i := 0; i < len(r); {
		c := r[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			i = skipString(r, i)
		case c == '{':
			i = skipTo(r, i, '}')
		case c == '[':
			i = skipTo(r, i, ']')
		case c == '#': // comment to end of line
			for i < len(r) && r[i] != '\n' {
				i++
			}
		case unicode.IsDigit(c) || (c == '.' && i+1 < len(r) && unicode.IsDigit(r[i+1])):
			for i < len(r) && (unicode.IsLetter(r[i]) || unicode.IsDigit(r[i]) || r[i] == '.') {
				i++
			}
		case isIdentStart(c):
			start := i
			for i < len(r) && isIdentPart(r[i]) {
				i++
			}
			word := string(r[start:i])
			next := nextNonSpace(r, i)
			switch {
			case labelListKeywords[word] && next < len(r) && r[next] == '(':
				i = skipTo(r, next, ')')
			case next < len(r) && r[next] == '(':
				// function call or aggregation: not a metric
			case promqlKeywords[strings.ToLower(word)]:
			default:
				names = append(names, word)
			}
		default:
			i++
		}
	}
	return names
}

func isIdentStart(c rune) bool { return c == '_' || c == ':' || unicode.IsLetter(c) }
func isIdentPart(c rune) bool  { return isIdentStart(c) || unicode.IsDigit(c) }

func nextNonSpace(r []rune, i int) int {
	for i < len(r) && unicode.IsSpace(r[i]) {
		i++
	}
	return i
}

// skipTo returns the index after the first close at or after i, skipping
// strings inside.
func skipTo(r []rune, i int, close rune) int {
	for i++; i < len(r); i++ {
		switch r[i] {
		case '"', '\'', '`':
			i = skipString(r, i) - 1
		case close:
			return i + 1
		}
	}
	return i
}

// skipString returns the index after the string literal starting at i.
func skipString(r []rune, i int) int {
	quote := r[i]
	for i++; i < len(r); i++ {
		switch {
		case r[i] == '\\' && quote != '`':
			i++
		case r[i] == quote:
			return i + 1
		}
	}
	return i
}
