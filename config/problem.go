package config

import (
	"fmt"
	"slices"
	"strings"
)

// Problem is one thing wrong with a configuration.
type Problem struct {
	// Key is the configuration key, with list indexes ("ldap.urls[1]"), or the
	// file name for problems with the file as a whole.
	Key string
	// Message says what is wrong and, after "; ", how to fix it. It never
	// contains a secret or the contents of a file.
	Message string
}

func (p Problem) String() string { return p.Key + ": " + p.Message }

// Problems is every problem found in a configuration. Load returns it as its
// error; it is never empty when returned.
type Problems []Problem

// Error fits all problems on one line: the first in full, then a count.
func (ps Problems) Error() string {
	switch len(ps) {
	case 0:
		return "no problems"
	case 1:
		return "config: " + ps[0].String()
	}
	return fmt.Sprintf("config: %s (and %d more problems; run `spnaudit config check` to list them)",
		ps[0], len(ps)-1)
}

// Lines returns one line per problem.
func (ps Problems) Lines() []string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return lines
}

// problems collects problems. A key whose value failed to decode, or whose
// enclosing value did, gets no further problems: validation would only
// complain about the zero value left behind.
type problems struct {
	list    Problems
	failed  map[string]bool
	unknown []string // unknown keys found in the file
}

func (ps *problems) add(key, format string, args ...any) {
	for k := key; ; {
		if ps.failed[k] {
			return
		}
		i := strings.LastIndexAny(k, ".[")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	ps.list = append(ps.list, Problem{Key: key, Message: fmt.Sprintf(format, args...)})
}

// fail adds a problem for a value that could not be decoded, unless an
// unknown key below it explains it: "page_size.max: 10" makes page_size a
// mapping, but the typo is the problem to fix.
func (ps *problems) fail(key, format string, args ...any) {
	if !slices.ContainsFunc(ps.unknown, func(u string) bool { return strings.HasPrefix(u, key+".") }) {
		ps.add(key, format, args...)
	}
	if ps.failed == nil {
		ps.failed = map[string]bool{}
	}
	ps.failed[key] = true
}

// addUnknown adds the problem of an unknown key.
func (ps *problems) addUnknown(key, format string, args ...any) {
	ps.unknown = append(ps.unknown, key)
	ps.add(key, format, args...)
}
