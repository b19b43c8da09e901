package main

import (
	"errors"
	"fmt"

	"github.com/prometheus/common/version"
	"github.com/spf13/cobra"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/report"
)

// checkFormats are the output formats of check: findings for people or
// scripts (csv and sarif describe scans, not one question).
var checkFormats = []report.Format{report.FormatTable, report.FormatJSON}

func newCheckCmd(a *app) *cobra.Command {
	var src source
	var format, account string
	c := &cobra.Command{
		Use:   "check SPN --account NAME",
		Short: "Tell whether adding an SPN to an account would break Kerberos",
		Long: `Answers, before you run setspn -S, whether adding SPN to the account would be malformed,
duplicate an SPN another object holds, or collide with an alias of it that another
object holds (AD's alias uniqueness, either side: HTTP/web01 while a computer or
account holds HOST/web01 — the HOST alias trap that setspn -S does not see, which
breaks WinRM to web01 — or HOST/web01 while another account holds HTTP/web01, which
the DC refuses). The account is a sAMAccountName, DOMAIN\name or DN; one not in the
directory is checked as a new account.

Prints the findings the audit would report once the SPN is added, with their fixes,
and exits with status 1; prints OK and exits 0 when adding it is safe; exits 2 when
the check could not run.`,
		Example: `  # Safe? (exit status 0 or 1)
  spnaudit check HTTP/intranet.corp.example.test --account 'CORP\svc_intranet' --config spnaudit.yaml

  # The alias trap: the node's machine account holds HOST/svexpgg310
  spnaudit check HTTP/svexpgg310 --account svc_iispool --config spnaudit.yaml

  # Guard a provisioning script
  spnaudit check "MSSQLSvc/sql01.corp.example.test:1433" --account svc_sql --config spnaudit.yaml -q &&
    setspn -S MSSQLSvc/sql01.corp.example.test:1433 CORP\svc_sql`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, args []string) error {
			defer src.batchGC()() // one-shot LDIF read: the collector waits (gc.go)
			f, err := report.ParseFormat(format, checkFormats)
			if err != nil {
				return err
			}
			if account == "" {
				return errors.New(`--account is missing; name the account that would hold the SPN, e.g. --account 'CORP\svc_web'`)
			}
			run, done, err := a.readInventory(c, &src, nil)
			if err != nil {
				return err
			}
			defer done()
			spn := args[0]
			ac, err := a.auditConfig(run)
			if err != nil {
				return err
			}
			findings := audit.CheckSPN(run.snap, ac, spn, account)
			switch {
			case f == report.FormatJSON:
				doc := report.NewDocument(run.snap, findings, 0)
				if err := report.WriteFindings(a.stdout, doc, f, report.Options{ToolVersion: version.Version}); err != nil {
					return err
				}
			case len(findings) == 0 && !a.quiet:
				fmt.Fprintf(a.stdout, "%s %s can be added to %s: well formed, not held by another object, no HOST alias conflict\n",
					style(a.color(a.stdout), "32", "OK:"), spn, account)
			case len(findings) > 0:
				doc := report.NewDocument(run.snap, findings, 0)
				if err := report.WriteFindings(a.stdout, doc, f, report.Options{Color: a.color(a.stdout)}); err != nil {
					return err
				}
			}
			if len(findings) > 0 {
				return exitStatus(exitFindings)
			}
			return nil
		},
	}
	src.addFlags(c)
	addFormatFlag(c, &format, checkFormats)
	c.Flags().StringVar(&account, "account", "", "the account that would hold the SPN: sAMAccountName, DOMAIN\\name or `DN`")
	return c
}
