// Command labctl drives the local Samba AD lab: lab/up, lab/down, lab/break
// and lab/fix are thin wrappers around it.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"go.yaml.in/yaml/v3"

	"github.com/spnaudit/spnaudit/lab"
)

const usage = `usage: labctl COMMAND
  up [SCENARIO.yaml]      provision (once), start the DC, apply the scenario (default: the IIS farm)
  down                    stop the DC and remove the lab directory
  stop                    stop the DC, keep the domain
  status                  say whether the DC runs
  env                     print shell exports for kinit/ldapsearch against the lab
  config PATH [--farm] [KEY=VALUE ...]
                          write an spnaudit configuration for the lab to PATH: the DC over
                          LDAP, the audit account's keytab and krb5.conf; --farm adds the IIS
                          farm's desired state; KEY=VALUE sets a dotted key to VALUE read as
                          YAML (5s, true, [a, b]), an empty VALUE removes the key
  break duplicate         add HTTP/svexpgg310.corp.example.test to the machine svexpgg310$ too
  break alias-conflict    add HTTP/app01 (+FQDN) to svc_iispool while app01$ holds HOST/app01
  fix all                 restore the farm scenario (undoes every break)`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "labctl:", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	l := lab.New(os.Stderr)
	switch args[0] {
	case "up":
		return l.Locked(func() error { return up(ctx, l, args[1:]) })
	case "down":
		return l.Down()
	case "stop":
		return l.Stop()
	case "status":
		if !l.Running() {
			return errors.New("lab DC is not running")
		}
		fmt.Println("lab DC running, state in", l.Dir)
		return nil
	case "env":
		fmt.Printf("export KRB5_CONFIG=%s\nexport KRB5CCNAME=FILE:%s\n", l.Krb5Conf(), filepath.Join(l.Dir, "audit.ccache"))
		fmt.Printf("# kinit -k -t %s %s@%s && ldapsearch -N -Y GSSAPI -H %s -b %s '(servicePrincipalName=*)' servicePrincipalName\n",
			l.Keytab(), lab.AuditUser, lab.Realm, lab.LDAPURL(), lab.BaseDN)
		return nil
	case "config":
		return writeConfig(l, args[1:])
	case "break", "fix":
		if len(args) != 2 {
			return errors.New(usage)
		}
		return l.Locked(func() error { return breakOrFix(ctx, l, args[0], args[1]) })
	}
	return errors.New(usage)
}

func up(ctx context.Context, l *lab.Lab, args []string) error {
	if err := l.Up(ctx); err != nil {
		return err
	}
	if len(args) == 0 {
		if err := l.EnsureFarm(ctx); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "lab: %s up on 127.0.0.1 (%s), IIS farm scenario in OU=Farm\n", lab.Realm, lab.DCHost)
		return nil
	}
	sc, err := lab.LoadScenario(args[0])
	if err != nil {
		return err
	}
	if err := l.Apply(ctx, sc); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "lab: %s up on 127.0.0.1 (%s), scenario %q in %s\n", lab.Realm, lab.DCHost, sc.Name, sc.OUDN())
	return nil
}

// writeConfig writes the configuration of labctl config with lab.WriteConfig,
// the one writer of lab configurations.
func writeConfig(l *lab.Lab, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return errors.New(usage)
	}
	path, set := args[0], map[string]any{}
	for _, arg := range args[1:] {
		if arg == "--farm" {
			set["farms"] = []any{lab.FarmConfig()}
			continue
		}
		key, raw, ok := strings.Cut(arg, "=")
		if !ok || key == "" {
			return fmt.Errorf("config: %q is not KEY=VALUE or --farm", arg)
		}
		var value any // nil for an empty VALUE: WriteConfig removes the key
		if err := yaml.Unmarshal([]byte(raw), &value); err != nil {
			return fmt.Errorf("config: %s: %q is not a YAML value: %w", key, raw, err)
		}
		set[key] = value
	}
	return l.WriteConfig(path, set)
}

func breakOrFix(ctx context.Context, l *lab.Lab, verb, what string) error {
	sc, err := lab.LoadScenario(lab.FarmScenarioPath())
	if err != nil {
		return err
	}
	if !l.Running() {
		return errors.New("lab DC is not running: start it with lab/up")
	}
	switch verb + " " + what {
	case "break duplicate":
		return l.InjectCollision(ctx, sc.AccountDN("SVEXPGG310$"), "HTTP/svexpgg310.corp.example.test")
	case "break alias-conflict":
		pool := sc.AccountDN("svc_iispool")
		for _, spn := range []string{"HTTP/app01", "HTTP/app01.corp.example.test"} {
			if err := l.AddSPN(ctx, pool, spn); err != nil {
				return err
			}
		}
		return nil
	case "fix all":
		return l.Apply(ctx, sc)
	}
	return errors.New(usage)
}
