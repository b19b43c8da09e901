package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/common/version"
	"github.com/spf13/cobra"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/config"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/report"
)

// Exit status of scan when a finding is at or above --fail-on.
const exitFindings = 1

// failOnNone is the --fail-on value that never fails on findings.
const failOnNone = "none"

func newScanCmd(a *app) *cobra.Command {
	var src source
	var format, failOn string
	var all bool
	var iisFiles []string
	var iisSites []inventory.IISSite
	c := &cobra.Command{
		Use:   "scan",
		Short: "Audit every SPN once and print the findings with their fixes",
		Long: `Reads the inventory (from the directory in the configuration, or from an LDIF export
with --ldif), runs every audit rule and prints the findings, each with the setspn or
PowerShell commands that fix it: grouped by rule in a table, or as json, csv or sarif.

Exit status: 0 when no finding is at or above --fail-on (default high), 1 when one
is, 2 when the scan could not run. Suppressed findings (audit.ignore) are counted,
not shown. With --ldif the configuration is optional and only its farms and audit
settings matter.`,
		Example: `  # Audit the forest, findings grouped by rule
  spnaudit scan --config /etc/spnaudit/spnaudit.yaml

  # In CI or cron: fail on critical findings only, keep the report as JSON
  spnaudit scan --config spnaudit.yaml --fail-on critical --format json > spn-findings.json

  # For GitHub code scanning or another SARIF viewer
  spnaudit scan --config spnaudit.yaml --format sarif --fail-on none > spnaudit.sarif

  # Offline, from an export made on a domain controller
  ldifde -f dump.ldf -r "(servicePrincipalName=*)"
  spnaudit scan --ldif dump.ldf`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			defer src.batchGC()() // one-shot LDIF read: the collector waits (gc.go)
			f, err := report.ParseFormat(format, report.FindingsFormats)
			if err != nil {
				return err
			}
			threshold, err := parseFailOn(failOn)
			if err != nil {
				return err
			}
			// The IIS files are read before the directory: their errors
			// cost no scan.
			run, done, err := a.readInventory(c, &src, func(cfg *config.Config) (err error) {
				iisSites, err = loadIIS(iisFiles, cfg)
				return err
			})
			if err != nil {
				return err
			}
			defer done()
			ac, err := a.auditConfig(run)
			if err != nil {
				return err
			}
			ac.IIS = iisSites
			ac.Farms = withIISFarms(ac.Farms, iisSites)
			res := audit.Run(run.snap, ac)
			a.warnExpiredSuppressions(res.ExpiredSuppressions)
			doc := report.NewDocument(run.snap, res.Findings, res.SuppressedCount())
			if err := report.WriteFindings(a.stdout, doc, f, report.Options{Color: a.color(a.stdout), ToolVersion: version.Version, All: all}); err != nil {
				return err
			}
			if slices.ContainsFunc(res.Findings, func(f audit.Finding) bool { return f.Severity.Rank() >= threshold }) {
				return exitStatus(exitFindings)
			}
			return nil
		},
	}
	src.addFlags(c)
	addFormatFlag(c, &format, report.FindingsFormats)
	c.Flags().BoolVar(&all, "all", false,
		fmt.Sprintf("table: show every finding (by default the first %d of each rule, with the count of the others)", report.TablePage))
	levels := failOnLevels()
	c.Flags().StringVar(&failOn, "fail-on", string(audit.SeverityHigh),
		"exit with status 1 when a finding has this `severity` or a higher one: "+joinOr(levels))
	c.Flags().StringSliceVar(&iisFiles, "iis", nil,
		"run the IIS rules on these IIS configuration `files` (NODE=FILE, NODE/SITE=web.config; comma-separated or repeated; default iis.config_files)")
	_ = c.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions(levels, cobra.ShellCompDirectiveNoFileComp))
	return c
}

// failOnLevels are the values of --fail-on, most severe first.
func failOnLevels() []string {
	var levels []string
	for _, s := range audit.Severities {
		levels = append(levels, string(s))
	}
	return append(levels, failOnNone)
}

// parseFailOn returns the lowest severity rank that fails the scan; "none"
// is above every rank.
func parseFailOn(s string) (int, error) {
	if strings.EqualFold(s, failOnNone) {
		return audit.SeverityCritical.Rank() + 1, nil
	}
	if r := audit.Severity(strings.ToLower(s)).Rank(); r >= 0 {
		return r, nil
	}
	return 0, fmt.Errorf("--fail-on %q is not a severity; use one of %s", s, strings.Join(failOnLevels(), ", "))
}
