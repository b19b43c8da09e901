package main

import (
	"fmt"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/report"
)

// warnExpiredSuppressions names on stderr each audit.ignore entry whose until
// date has passed: it no longer hides its findings, and someone must renew or
// remove it.
func (a *app) warnExpiredSuppressions(expired []audit.Suppression) {
	for _, s := range expired {
		fmt.Fprintf(a.stderr, "spnaudit: warning: %s\n", report.Sanitize(fmt.Sprintf(
			"audit.ignore entry for rule %s (owner %s) expired after %s: it no longer suppresses findings; renew its until date or remove it",
			s.Rule, s.Owner, s.Until)))
	}
}
