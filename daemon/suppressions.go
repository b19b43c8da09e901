package daemon

import (
	"log/slog"

	"github.com/spnaudit/spnaudit/audit"
)

// expiredSuppressions logs each audit.ignore entry whose until date has
// passed, once while it stays expired: at the default 15s poll interval a
// warning per scan would drown the log, while spnaudit_suppressions_expired
// keeps counting them for alerts and dashboards.
type expiredSuppressions struct {
	reported map[audit.Suppression]bool
}

// report logs the entries of expired not logged since they expired.
func (e *expiredSuppressions) report(logger *slog.Logger, expired []audit.Suppression) {
	now := make(map[audit.Suppression]bool, len(expired))
	for _, s := range expired {
		now[s] = true
		if e.reported[s] {
			continue
		}
		logger.Warn("audit.ignore entry expired: it no longer suppresses findings; renew its until date or remove it",
			"rule", s.Rule, "spn", s.SPN, "account", s.Account, "owner", s.Owner, "until", s.Until, "reason", s.Reason)
	}
	e.reported = now
}
