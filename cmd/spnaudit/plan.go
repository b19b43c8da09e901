package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/config"
)

func newPlanCmd(a *app) *cobra.Command {
	var src source
	c := &cobra.Command{
		Use:   "plan",
		Short: "Print the setspn script that converges the farms to their desired SPNs",
		Long: `Compares the SPNs in the directory (or in an LDIF export with --ldif) with the farms of
the configuration (each: VIP, nodes, DNS suffix, service classes, account, ports) and
prints a PowerShell script of setspn commands: every removal first (SPNs on the wrong
account, or extra), then every addition. It changes nothing itself.

The script is idempotent: setspn -D of an absent SPN and setspn -S of an SPN already
on the account change nothing, and the plan computed after it has run is empty.`,
		Example: `  # Review, then run on a machine with the AD tools as a Domain Admin
  spnaudit plan --config /etc/spnaudit/spnaudit.yaml > converge-spns.ps1

  # The configuration describes each farm, e.g.:
  #   farms:
  #     - name: intranet
  #       vip: svnlb301
  #       nodes: [svexpgg310, svexpgg311, svexpgg312]
  #       dns_suffix: corp.example.test
  #       classes: [HTTP]
  #       account: CORP\svc_iispool

  # From an export, with the farms of a configuration
  spnaudit plan --ldif dump.ldf --config spnaudit.yaml`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			run, done, err := a.readInventory(c, &src, requireFarms)
			if err != nil {
				return err
			}
			defer done()
			_, err = fmt.Fprintln(a.stdout, strings.Join(audit.Plan(run.snap, run.cfg.Farms), "\n"))
			return err
		},
	}
	src.addFlags(c)
	return c
}

// requireFarms refuses a configuration without farms: there is nothing to plan.
func requireFarms(cfg *config.Config) error {
	if len(cfg.Farms) == 0 {
		return errors.New("the configuration describes no farm; add a farms: entry (name, vip, nodes, dns_suffix, classes, account), see 'spnaudit plan --help'")
	}
	return nil
}
