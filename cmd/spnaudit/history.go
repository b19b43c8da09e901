package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/config"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/metrics"
	"github.com/spnaudit/spnaudit/report"
	"github.com/spnaudit/spnaudit/state"
	"github.com/spnaudit/spnaudit/web"
)

func newHistoryCmd(a *app) *cobra.Command {
	var (
		q            state.Query
		since, until string
		format       string
	)
	c := &cobra.Command{
		Use:   "history",
		Short: "List the SPN changes and findings serve has journaled in state.dir",
		Long: `Lists, newest first, what spnaudit serve journaled in state.dir: every SPN value added
to or removed from an account (when spnaudit saw it, and when and on which DC AD says
the account's servicePrincipalName last changed), and every finding that appeared or
resolved. The first scan of a new state directory is its baseline and is not listed.

Reads the journal without stopping serve; needs no directory access and no Kerberos.`,
		Example: `  # Who added or removed this SPN, and when?
  spnaudit history --config /etc/spnaudit/config.yml --spn HTTP/web.corp.example.test

  # What changed on an account in the last week, as JSON
  spnaudit history --state.dir /var/lib/spnaudit --account svc_web --since 7d --format json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := a.loadConfigWith(c, config.Options{Offline: true})
			if err != nil {
				return err
			}
			if cfg.State.Dir == "" {
				return fmt.Errorf("state.dir is empty (history off); point --state.dir at the directory spnaudit serve writes")
			}
			now := time.Now()
			if q.Since, err = parseWhen("--since", since, now); err != nil {
				return err
			}
			if q.Until, err = parseWhen("--until", until, now); err != nil {
				return err
			}
			if format != "table" && format != "json" {
				return fmt.Errorf("--format %q: want table or json", format)
			}
			changes, next, err := state.ReadChanges(cfg.State.Dir, q)
			if err != nil {
				return err
			}
			if format == "json" {
				return writeChangesJSON(a.stdout, changes, next)
			}
			return writeChangesTable(a.stdout, changes, next)
		},
	}
	defaults := config.Default()
	f := c.Flags()
	f.String("state.dir", defaults.State.Dir, "state `directory` that serve writes")
	f.StringVar(&q.SPN, "spn", "", "only this `SPN` (case-insensitive)")
	f.StringVar(&q.Account, "account", "", "only this account: sAMAccountName or `DN`")
	f.StringVar(&since, "since", "", "only changes seen from this `time` (RFC 3339, or an age such as 7d or 12h)")
	f.StringVar(&until, "until", "", "only changes seen before this `time` (RFC 3339, or an age)")
	f.IntVar(&q.Limit, "limit", 0, "at most this many `entries` (0: all)")
	f.Uint64Var(&q.Before, "before", 0, "only entries older than this `seq` (the next page of a previous --limit)")
	f.StringVar(&format, "format", "table", "output `format`: table or json")
	_ = c.MarkFlagDirname("state.dir")
	return c
}

// parseWhen reads an RFC 3339 time, or an age ("7d", "12h") before now.
func parseWhen(flag, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := config.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%s %q: want an RFC 3339 time such as 2026-11-24T14:00:00Z or an age such as 7d", flag, s)
}

func writeChangesJSON(w io.Writer, changes []state.Change, next uint64) error {
	if changes == nil {
		changes = []state.Change{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(web.ChangesPage{Changes: changes, Next: next})
}

func writeChangesTable(w io.Writer, changes []state.Change, next uint64) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "OBSERVED\tOP\tSPN\tACCOUNT\tAD CHANGE\tPOLL")
	for _, c := range changes {
		op, account := c.Op, c.SAMAccountName
		if c.Rule != "" {
			op = c.Op + " " + c.Rule
			account = strings.Join(c.SAMAccountNames, ",")
		}
		if account == "" {
			account = c.Account
		}
		adChange := "-"
		if c.OriginatingTime != nil {
			adChange = c.OriginatingTime.UTC().Format(time.RFC3339)
			if c.OriginatingDC != "" {
				adChange += " on " + c.OriginatingDC
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d %s\n", c.Observed.UTC().Format(time.RFC3339), op,
			report.Sanitize(orDash(c.SPN)), report.Sanitize(orDash(account)), adChange, c.Poll, c.PollMode)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if next != 0 {
		_, err := fmt.Fprintf(w, "more: --before %d\n", next)
		return err
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// journal is serve's state store, seen by the daemon as its History.
type journal struct{ store *state.Store }

func (j journal) Record(snap *inventory.Snapshot, result audit.Result, mode inventory.ScanMode) ([]audit.Finding, error) {
	return j.store.RecordResult(snap, result, state.Poll{Mode: string(mode)})
}

// openJournal opens state.dir for serve; nil when the history is off. Its
// errors are one line with the fix (exit 2 at start).
func openJournal(cfg *config.Config, logger *slog.Logger, changes *metrics.SPNChanges) (*state.Store, error) {
	if cfg.State.Dir == "" {
		logger.Info("state.dir is empty: no history, first_seen or change journal")
		return nil, nil
	}
	s, err := state.Open(state.Options{Dir: cfg.State.Dir, Retention: cfg.State.Retention, MaxChanges: cfg.State.MaxChanges,
		Logger: logger, OnChange: changes.Observe})
	if err != nil {
		return nil, err
	}
	logger.Info("state directory opened", "dir", cfg.State.Dir, "retention", cfg.State.Retention)
	return s, nil
}
