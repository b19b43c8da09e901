package state

import (
	"log/slog"
	"time"
)

// logChange writes the one structured line of a journal entry, for Loki or
// a SIEM. Its keys are documented in docs/metrics.md ("spn change" and
// "finding change" log lines).
func logChange(log *slog.Logger, c Change) {
	attrs := []any{"op", c.Op}
	msg := "spn change"
	if c.Rule != "" {
		msg = "finding change"
		attrs = append(attrs, "rule", c.Rule, "severity", c.Severity)
	}
	if c.SPN != "" {
		attrs = append(attrs, "spn", c.SPN)
	}
	if c.Account != "" {
		attrs = append(attrs, "account", c.Account, "sam_account_name", c.SAMAccountName)
	}
	if len(c.Accounts) > 0 {
		attrs = append(attrs, "accounts", c.Accounts)
	}
	attrs = append(attrs, "observed", c.Observed.Format(time.RFC3339))
	if c.OriginatingTime != nil {
		attrs = append(attrs, "originating_time", c.OriginatingTime.Format(time.RFC3339))
	}
	if c.OriginatingDC != "" {
		attrs = append(attrs, "originating_dc", c.OriginatingDC)
	}
	attrs = append(attrs, "poll", c.Poll, "poll_mode", c.PollMode, "seq", c.Seq)
	log.Info(msg, attrs...)
}
