package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/config"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/ldapscan"
	"github.com/spnaudit/spnaudit/report"
)

func newInventoryCmd(a *app) *cobra.Command {
	var src source
	var format string
	c := &cobra.Command{
		Use:   "inventory",
		Short: "List every object with SPNs and its SPNs as stored",
		Long: `Reads every object that holds a servicePrincipalName from the directory in the
configuration (or from an LDIF export with --ldif) and prints it: a table for people,
or with --format json an array of objects with dn, sam_account_name, kind, spns (the
values exactly as stored) and the attributes the audit uses.

On a terminal, a progress line on stderr shows the objects and pages read per naming
context; it is never written when stderr is not a terminal, nor with --quiet.`,
		Example: `  # Every SPN of the forest, one block per account
  spnaudit inventory --config /etc/spnaudit/spnaudit.yaml

  # As JSON, e.g. the accounts holding HTTP SPNs
  spnaudit inventory --config spnaudit.yaml --format json |
    jq -r '.[] | select(any(.spns[]; startswith("HTTP/"))) | .sam_account_name'

  # From an export (ldifde -f dump.ldf, or ldapsearch ... > dump.ldif), offline
  spnaudit inventory --ldif dump.ldif`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			defer src.batchGC()() // one-shot LDIF read: the collector waits (gc.go)
			f, err := report.ParseFormat(format, report.InventoryFormats)
			if err != nil {
				return err
			}
			run, done, err := a.readInventory(c, &src, nil)
			if err != nil {
				return err
			}
			defer done()
			return report.WriteInventory(a.stdout, run.snap, f, report.Options{Color: a.color(a.stdout)})
		},
	}
	src.addFlags(c)
	addFormatFlag(c, &format, report.InventoryFormats)
	return c
}

// addFormatFlag adds --format with the first of formats as default.
func addFormatFlag(c *cobra.Command, format *string, formats []report.Format) {
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = string(f)
	}
	c.Flags().StringVarP(format, "format", "o", names[0], "output format: "+joinOr(names))
	_ = c.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(names, cobra.ShellCompDirectiveNoFileComp))
}

func joinOr(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	s := names[0]
	for _, n := range names[1 : len(names)-1] {
		s += ", " + n
	}
	return s + " or " + names[len(names)-1]
}

// source is where a command reads the inventory from: the directory of the
// configuration, or an LDIF export.
type source struct {
	ldif string
}

func (s *source) addFlags(c *cobra.Command) {
	c.Flags().StringVar(&s.ldif, "ldif", "", "read an LDIF export `file` (ldifde or ldapsearch output; - for stdin) instead of the directory")
	_ = c.MarkFlagFilename("ldif", "ldif", "ldf")
}

// config loads the configuration. With --ldif nothing connects, so it is
// optional (without --config the defaults apply: no farms, no suppressions)
// and needs no ldap or kerberos keys.
func (a *app) config(c *cobra.Command, src *source) (*config.Config, error) {
	if src.ldif == "" {
		return a.loadConfig(c)
	}
	if a.configFile == "" {
		cfg := config.Default()
		return &cfg, nil
	}
	return a.loadConfigWith(c, config.Options{Offline: true})
}

// inventoryRun is what a one-shot command works on: its configuration and
// the inventory read from its source, with the context the command runs in
// (it ends at scan.timeout or on Ctrl-C / SIGTERM).
type inventoryRun struct {
	ctx  context.Context
	cfg  *config.Config
	snap *inventory.Snapshot
}

// readInventory loads the configuration, lets vet refuse it before anything
// is read (nil accepts every configuration), and reads the inventory. done
// releases the context.
func (a *app) readInventory(c *cobra.Command, src *source, vet func(*config.Config) error) (run *inventoryRun, done func(), err error) {
	cfg, err := a.config(c, src)
	if err != nil {
		return nil, nil, err
	}
	if vet != nil {
		if err := vet(cfg); err != nil {
			return nil, nil, err
		}
	}
	ctx, cancel := commandContext(cfg.Scan.Timeout)
	snap, err := a.readSnapshot(ctx, c, cfg, src)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	return &inventoryRun{ctx: ctx, cfg: cfg, snap: snap}, cancel, nil
}

// auditConfig is the audit's configuration for the run's inventory. With
// audit.resolve_dns it resolves the would-be ghost hosts first: a deadline
// that passes meanwhile is an error (no partial answer), and names DNS could
// not answer for are left out of ghost-spn with a warning.
func (a *app) auditConfig(r *inventoryRun) (audit.Config, error) {
	resolver, err := newHostResolver(r.cfg)
	if err != nil || resolver == nil {
		return auditConfig(r.cfg, nil), err
	}
	answers, failed, err := resolver.ResolveHosts(r.ctx, r.snap)
	if err != nil {
		return audit.Config{}, fmt.Errorf("audit.resolve_dns: %w; raise scan.timeout or check audit.dns_servers", err)
	}
	if len(failed) > 0 && !a.quiet {
		fmt.Fprintf(a.stderr, "spnaudit: warning: DNS could not answer for %d host names (first: %s); their ghost-spn findings are left out\n",
			len(failed), failed[0]) // well-formed host names: letters, digits, dots, hyphens
	}
	return auditConfig(r.cfg, answers), nil
}

// readSnapshot reads the inventory from the source.
func (a *app) readSnapshot(ctx context.Context, c *cobra.Command, cfg *config.Config, src *source) (*inventory.Snapshot, error) {
	if src.ldif != "" {
		return a.readLDIFFile(src.ldif)
	}
	return a.scanDirectory(ctx, c, cfg)
}

// commandContext ends at the timeout or on Ctrl-C / SIGTERM.
func commandContext(timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	return ctx, func() { cancel(); stop() }
}

// scanDirectory reads the whole inventory, with a progress line on stderr
// when it is a terminal and --quiet is not given.
func (a *app) scanDirectory(ctx context.Context, c *cobra.Command, cfg *config.Config) (*inventory.Snapshot, error) {
	progress := report.NewProgressLine(a.stderr, !a.quiet && a.isTerminal(a.stderr))
	defer progress.Done()
	logger := a.commandLogger(c, cfg)
	dir, err := openDirectory(ctx, cfg, func(p ldapscan.Progress) { progress.Update(report.Progress(p)) }, logger)
	if err != nil {
		return nil, explain(ctx, err, cfg)
	}
	defer dir.Close()
	res, err := dir.scanner.Scan(ctx)
	if err != nil {
		return nil, explain(ctx, err, cfg)
	}
	return res.Snapshot, nil
}

// commandLogger is the logger of a one-shot command. Its output is the
// answer and its failure the one-line error, so the daemon's informational
// and warning logs ("TGT obtained", "server unavailable" before the error
// that says so again) are shown only when asked for: --log.level,
// SPNAUDIT_LOG_LEVEL, or a level other than the default in the file.
func (a *app) commandLogger(c *cobra.Command, cfg *config.Config) *slog.Logger {
	if c.Flags().Changed("log.level") || os.Getenv("SPNAUDIT_LOG_LEVEL") != "" || cfg.Log.Level != config.Default().Log.Level {
		return slog.Default()
	}
	quiet := cfg.Log
	quiet.Level = "error"
	return quiet.Logger(a.stderr)
}

// readLDIFFile reads an LDIF export; "-" is stdin. What the export could
// not provide (values cut by range retrieval, change records) is printed
// unless --quiet, as it makes the audit incomplete.
func (a *app) readLDIFFile(path string) (*inventory.Snapshot, error) {
	started := time.Now()
	in := os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("--ldif: %w; give the path of an LDIF export", err)
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.IsDir() {
			return nil, fmt.Errorf("--ldif %s: is a directory; give the path of an LDIF export", path)
		}
		in = f
	}
	res, err := ldapscan.ReadLDIF(in, path)
	if err != nil {
		return nil, fmt.Errorf("--ldif %s: %w; export with ldifde -f FILE or ldapsearch -LLL", path, err)
	}
	if !a.quiet {
		for _, w := range res.Warnings {
			fmt.Fprintf(a.stderr, "spnaudit: warning: %s: %s\n", path, report.Sanitize(w))
		}
		if res.MoreWarnings > 0 {
			fmt.Fprintf(a.stderr, "spnaudit: warning: %s: %d more warnings\n", path, res.MoreWarnings)
		}
		if res.PrivilegeNote != "" {
			fmt.Fprintf(a.stderr, "spnaudit: note: %s: %s\n", path, res.PrivilegeNote)
		}
		for _, d := range res.AESThresholdUnknown {
			fmt.Fprintf(a.stderr, "spnaudit: warning: %s: %s: %s\n", path, d, ldapscan.AESThresholdHint)
		}
	}
	res.Snapshot.Started = started
	res.Snapshot.Duration = time.Since(started)
	return res.Snapshot, nil
}
