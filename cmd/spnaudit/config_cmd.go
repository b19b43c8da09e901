package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/spnaudit/spnaudit/config"
)

func newConfigCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "config",
		Short: "Check the configuration",
		Long: `Commands about the configuration. The keys below can be set in the YAML file, from the
environment variable shown, or, for log.level and log.format, with a flag. The lists
farms and audit.ignore can only be set in the file.

` + keyTable(),
		Example: `  spnaudit config check --config /etc/spnaudit/spnaudit.yaml`,
		Args:    cobra.ArbitraryArgs,
		RunE:    groupRun,
	}
	c.AddCommand(newConfigCheckCmd(a))
	return c
}

func newConfigCheckCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Load and validate the configuration, listing every problem",
		Long: `Loads the configuration from --config, the environment and flags, and validates it,
including that the files it names (keytab, password file, CA, krb5.conf) are readable.
Prints a one-line summary, or one line per problem with the key and the fix, and
exits with status 2 when there is a problem. Secrets are never printed.`,
		Example: `  spnaudit config check --config /etc/spnaudit/spnaudit.yaml

  # The environment overrides the file
  SPNAUDIT_LDAP_URLS="ldaps://dc1.example.test ldaps://dc2.example.test" \
    spnaudit config check --config spnaudit.yaml

  # In a script: only the exit status and the problems
  spnaudit config check --config spnaudit.yaml --quiet || exit 1`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig(c)
			var problems config.Problems
			if errors.As(err, &problems) {
				color := a.color(a.stderr)
				for _, p := range problems {
					fmt.Fprintf(a.stderr, "%s: %s\n", style(color, "1;31", p.Key), p.Message)
				}
				return exitStatus(exitError)
			}
			if err != nil {
				return err
			}
			if !a.quiet {
				fmt.Fprintf(a.stdout, "%s %s\n", style(a.color(a.stdout), "32", "config OK:"), cfg.Summary())
			}
			return nil
		},
	}
}

// keyTable lists the keys with their environment variables and defaults.
func keyTable() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  KEY\tENVIRONMENT\tDEFAULT")
	for _, k := range config.Keys() {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", k.Name, k.Env, k.Default)
	}
	tw.Flush()
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ") // padding of an empty default
	}
	return strings.Join(lines, "\n")
}

// style wraps s in an ANSI style when colour is on.
func style(color bool, code, s string) string {
	if !color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}
