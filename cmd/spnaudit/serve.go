package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/prometheus/common/version"
	"github.com/spf13/cobra"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/config"
	"github.com/spnaudit/spnaudit/daemon"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/metrics"
	"github.com/spnaudit/spnaudit/web"
)

func newServeCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "serve",
		Short: "Audit continuously and serve Prometheus metrics, the findings and a status page",
		Long: `Runs spnaudit as a daemon: a full scan at start and every scan.full_interval, incremental
polls of the objects changed since the last scan every scan.poll_interval, and the audit
after each. A failed scan never replaces the last good snapshot: the old findings stay
served and spnaudit_scan_success drops to 0 until a scan succeeds again.

Served on web.listen_address (TLS and basic auth with web.config_file, the
exporter-toolkit web configuration):
  /                 a summary, the findings by rule or by account with their fixes
                    and filters (?rule= &severity= &account= &spn= &view=account),
                    and a picture of each farm (farms:, iis.config_files)
  /metrics          Prometheus metrics (scrapes never touch the directory)
  /api/v1/findings  the findings as 'spnaudit scan --format json', plus the snapshot age
  /api/v1/changes   the change journal of state.dir, newest first (see 'spnaudit history')
  /-/healthy        200 while the process runs
  /-/ready          200 once a scan has succeeded

Keeps its history in state.dir (first_seen of each finding, a journal of every SPN
added or removed and every finding that appeared or resolved); one serve per directory.

Stops cleanly on SIGTERM or SIGINT: the scan in progress is cancelled and in-flight
requests finish.`,
		Example: `  spnaudit serve --config /etc/spnaudit/spnaudit.yaml

  # Listen on loopback only, log as JSON
  spnaudit serve --config spnaudit.yaml --web.listen_address 127.0.0.1:9688 --log.format json

  # Check it from another shell
  curl -s localhost:9688/-/ready && curl -s localhost:9688/metrics | grep '^spnaudit_findings'`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig(c)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serve(ctx, cfg, slog.Default())
		},
	}
	defaults := config.Default()
	f := c.Flags()
	f.String("web.listen_address", defaults.Web.ListenAddress, "`address` to serve metrics and the status page on")
	f.String("web.config_file", "", "exporter-toolkit web configuration `file` (TLS, basic auth)")
	_ = c.MarkFlagFilename("web.config_file", "yaml", "yml")
	f.String("state.dir", defaults.State.Dir, "state `directory` for the history (first_seen, the change journal); empty turns it off")
	_ = c.MarkFlagDirname("state.dir")
	return c
}

// serve runs the scan schedule and the web server until ctx ends. Only the
// configuration can stop it at start: an unreachable KDC or DC is a failed
// scan with its stage, served on /metrics and retried with back-off, so a
// service manager never sees a crash loop during an outage.
func serve(ctx context.Context, cfg *config.Config, logger *slog.Logger) error {
	dir, err := newDirectory(cfg, nil, logger)
	if err != nil {
		return err
	}
	defer dir.Close()
	return runServer(ctx, cfg, dir.scanner, dir.kerberos, logger)
}

// runServer runs the daemon over scanner and serves its store. It returns
// nil when ctx ends, after both have stopped, or the web server's error (the
// daemon is then stopped too).
func runServer(ctx context.Context, cfg *config.Config, scanner daemon.Scanner, kerberos daemon.Kerberos, logger *slog.Logger) error {
	web.WarnIfExposed(logger, web.ServerConfig{ListenAddresses: []string{cfg.Web.ListenAddress}, ConfigFile: cfg.Web.ConfigFile})
	store := metrics.NewStore(metrics.Options{
		Rules:            audit.RuleIDs,
		Stages:           daemon.Stages,
		MaxFindingSeries: cfg.Metrics.MaxFindingSeries,
		Build:            metrics.BuildInfo{Version: version.Version, Revision: version.GetRevision()},
	})
	resolver, err := newHostResolver(cfg)
	if err != nil {
		return err
	}
	iisSites, err := loadIIS(nil, cfg) // read once: a later broken edit cannot replace them
	if err != nil {
		return fmt.Errorf("iis.config_files: %w", err)
	}
	changes := metrics.NewSPNChanges()
	history, err := openJournal(cfg, logger, changes) // history.go
	if err != nil {
		return err
	}
	farms := withIISFarms(cfg.Farms, iisSites) // checked by farm-drift and drawn on the page
	dc := daemon.Config{
		Scanner:  scanner,
		Kerberos: kerberos,
		Audit: func(snap *inventory.Snapshot, resolved map[string]bool) audit.Result {
			ac := auditConfig(cfg, resolved)
			ac.IIS = iisSites
			ac.Farms = farms
			return audit.Run(snap, ac)
		},
		// A poll that changed k objects re-judges what they reach (issue 9).
		IncrementalAudit: func(prev *audit.State, snap *inventory.Snapshot, resolved map[string]bool) *audit.State {
			ac := auditConfig(cfg, resolved)
			ac.IIS = iisSites
			ac.Farms = farms
			return audit.Next(prev, snap, ac)
		},
		Sink:         store,
		Servers:      cfg.LDAP.URLs,
		FullInterval: cfg.Scan.FullInterval,
		PollInterval: cfg.Scan.PollInterval,
		Timeout:      cfg.Scan.Timeout,
		Logger:       logger,
	}
	if resolver != nil { // a nil *hostResolver in the interface would not be nil
		dc.Resolver = resolver
	}
	if history != nil {
		defer history.Close()
		dc.History = journal{history}
	}
	d, err := daemon.New(dc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	scans := make(chan struct{})
	go func() {
		defer close(scans)
		d.Run(ctx)
	}()
	handler := web.NewHandlerWith(store, metrics.NewRegistry(store, changes), logger, web.Options{Farms: farms})
	if history != nil {
		handler = web.WithChanges(handler, history, logger)
	}
	err = web.Serve(ctx, handler, web.ServerConfig{
		ListenAddresses: []string{cfg.Web.ListenAddress},
		ConfigFile:      cfg.Web.ConfigFile,
	}, logger)
	cancel()
	<-scans
	return err
}
