package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spnaudit/spnaudit/config"
	"github.com/spnaudit/spnaudit/report"
)

// commands builds the subcommands of spnaudit; a new command is one file
// with its constructor, added here.
var commands = []func(*app) *cobra.Command{
	newConfigCmd,
	newVersionCmd,
	newCompletionCmd,
	newInventoryCmd,
	newScanCmd,
	newCheckCmd,
	newPlanCmd,
	newServeCmd,
	newIISCmd,
	newHistoryCmd,
}

// app holds what every command shares: output streams and global flags.
type app struct {
	stdout, stderr io.Writer
	isTerminal     func(any) bool

	configFile string
	quiet      bool
	noColor    bool
}

// Exit statuses. 1 is reserved for findings at or above --fail-on.
const exitError = 2

// exitStatus ends a command with a status whose explanation the command has
// already printed.
type exitStatus int

func (s exitStatus) Error() string { return "exit status " + strconv.Itoa(int(s)) }

// run executes the command line and returns the exit status. Every error is
// printed as one line, "spnaudit: <cause>; <fix>", without usage or stack.
func (a *app) run(args []string) int {
	root := a.newRootCmd()
	root.SetArgs(args)
	err := root.Execute()
	var status exitStatus
	switch {
	case err == nil:
		return 0
	case errors.As(err, &status):
		return int(status)
	}
	// The cause may quote directory data (a DN): an ESC in it must not reach
	// the terminal.
	fmt.Fprintf(a.stderr, "spnaudit: %s\n", report.Sanitize(strings.Join(strings.Fields(err.Error()), " ")))
	return exitError
}

func (a *app) newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "spnaudit",
		Short: "Audit the service principal names of an Active Directory forest",
		Long: `spnaudit reads every servicePrincipalName of an Active Directory forest over LDAP,
bound with Kerberos, and reports the SPNs that break Kerberos or expose accounts,
with the setspn or PowerShell commands that fix them.

Configuration comes from a YAML file (--config), the environment (SPNAUDIT_ and the
key in upper case with "." as "_", e.g. SPNAUDIT_LDAP_URLS) and flags, in increasing
order of precedence; see 'spnaudit config --help' for the keys.`,
		Example: `  # Check a configuration before using it
  spnaudit config check --config /etc/spnaudit/spnaudit.yaml

  # Enable completion in the current bash session
  source <(spnaudit completion bash)`,
		Args:          cobra.ArbitraryArgs,
		RunE:          groupRun,
		SilenceUsage:  true,
		SilenceErrors: true,
		// Long help is stable output; keep cobra's "completion" out of it.
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w; see '%s --help'", err, c.CommandPath())
	})

	defaults := config.Default()
	f := root.PersistentFlags()
	f.StringVar(&a.configFile, "config", "", "YAML configuration `file`")
	f.String("log.level", defaults.Log.Level, "log level: debug, info, warn or error")
	f.String("log.format", defaults.Log.Format, "log format: logfmt or json")
	f.BoolVarP(&a.quiet, "quiet", "q", false, "print no progress and no success messages")
	f.BoolVar(&a.noColor, "no-color", false, "never colour the output (also when NO_COLOR is set)")
	_ = root.MarkPersistentFlagFilename("config", "yaml", "yml")
	_ = root.RegisterFlagCompletionFunc("log.level", cobra.FixedCompletions([]string{"debug", "info", "warn", "error"}, cobra.ShellCompDirectiveNoFileComp))
	_ = root.RegisterFlagCompletionFunc("log.format", cobra.FixedCompletions([]string{"logfmt", "json"}, cobra.ShellCompDirectiveNoFileComp))

	for _, newCmd := range commands {
		root.AddCommand(newCmd(a))
	}
	return root
}

// loadConfig loads the configuration for command c (its flags named like
// keys override) and sets up logging from it.
func (a *app) loadConfig(c *cobra.Command) (*config.Config, error) {
	return a.loadConfigWith(c, config.Options{})
}

// loadConfigWith is loadConfig with further options; it sets File and Flags.
func (a *app) loadConfigWith(c *cobra.Command, opts config.Options) (*config.Config, error) {
	opts.File, opts.Flags = a.configFile, c.Flags()
	cfg, err := config.Load(opts)
	if err != nil {
		return nil, err
	}
	slog.SetDefault(cfg.Log.Logger(a.stderr))
	return cfg, nil
}

// color reports whether output to w may be coloured: a terminal, no
// --no-color, no NO_COLOR (https://no-color.org: set and not empty).
func (a *app) color(w io.Writer) bool {
	return !a.noColor && os.Getenv("NO_COLOR") == "" && a.isTerminal(w)
}

// groupRun runs a command that only groups others: help without arguments,
// an error naming the closest subcommand otherwise. (Cobra would print help
// and succeed for "spnaudit config chek".)
func groupRun(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return c.Help()
	}
	c.SuggestionsMinimumDistance = 2
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		return fmt.Errorf("unknown command %q for %q; did you mean %q?", args[0], c.CommandPath(), s[0])
	}
	return fmt.Errorf("unknown command %q for %q; see '%s --help'", args[0], c.CommandPath(), c.CommandPath())
}

// usageArgs adds the pointer to help to cobra's argument errors.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if err := check(c, args); err != nil {
			return fmt.Errorf("%w; see '%s --help'", err, c.CommandPath())
		}
		return nil
	}
}
