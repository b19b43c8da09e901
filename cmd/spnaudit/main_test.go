package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/common/version"
	"github.com/spf13/cobra"
)

// result is what one in-process run of spnaudit produced.
type result struct {
	status         int
	stdout, stderr string
}

// spnaudit runs the command line in-process; terminal says whether stdout
// and stderr pretend to be terminals.
func spnaudit(t *testing.T, terminal bool, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	a := &app{stdout: &out, stderr: &errOut, isTerminal: func(any) bool { return terminal }}
	status := a.run(args)
	return result{status, out.String(), errOut.String()}
}

// labConfig writes a valid configuration and the files it names.
func labConfig(t *testing.T, extra string) string {
	t.Helper()
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "SPNAUDIT_") {
			t.Setenv(name, "")
		}
	}
	dir := t.TempDir()
	keytab := filepath.Join(dir, "spnaudit.keytab")
	if err := os.WriteFile(keytab, []byte{0x05, 0x02, 0, 0}, 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "spnaudit.yaml")
	yaml := `
ldap:
  urls: [ldap://dc1.example.test, ldap://dc2.example.test]
kerberos:
  principal: svc-spnaudit@EXAMPLE.TEST
  keytab: ` + keytab + "\n" + extra
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigCheck(t *testing.T) {
	good := labConfig(t, "")
	bad := labConfig(t, `log:
  level: verbose
farms:
  - name: iis
    vip: svnlb301
    classes: [HTTP]
`)
	for _, tc := range []struct {
		name       string
		args       []string
		env        map[string]string
		status     int
		stdout     string
		stderr     []string // lines
		noInOutput string
	}{
		{
			name:   "valid",
			args:   []string{"config", "check", "--config", good},
			status: 0,
			stdout: "config OK: 2 URLs, auth=keytab as svc-spnaudit@EXAMPLE.TEST, realm=EXAMPLE.TEST, sasl_security=auto, " +
				"base_dn=whole forest, 0 farms, 0 ignore rules, listen :9688\n",
		},
		{name: "valid and quiet", args: []string{"config", "check", "--config", good, "-q"}, status: 0},
		{
			name:   "one line per problem, exit 2",
			args:   []string{"config", "check", "--config", bad},
			status: 2,
			stderr: []string{
				`farms[0]: farm iis: account: missing; give the sAMAccountName or DN the service runs as`,
				`log.level: "verbose" is not one of debug, info, warn, error; use one of them`,
			},
		},
		{
			name:   "the flag overrides the file",
			args:   []string{"config", "check", "--config", bad, "--log.level", "debug"},
			status: 2,
			stderr: []string{`farms[0]: farm iis: account: missing; give the sAMAccountName or DN the service runs as`},
		},
		{
			name:   "the environment overrides the file",
			args:   []string{"config", "check", "--config", good},
			env:    map[string]string{"SPNAUDIT_LDAP_URLS": "ldap://dc1.example.test ldpa://dc2"},
			status: 2,
			stderr: []string{`ldap.urls[1]: "ldpa://dc2" has scheme "ldpa"; use ldap:// or ldaps://`},
		},
		{
			name:       "a password where the password file belongs is not printed",
			args:       []string{"config", "check"},
			env:        map[string]string{"SPNAUDIT_LDAP_URLS": "ldaps://dc1.example.test", "SPNAUDIT_KERBEROS_PRINCIPAL": "svc@EXAMPLE.TEST", "SPNAUDIT_KERBEROS_PASSWORD_FILE": "Winter2026!"},
			status:     2,
			stderr:     []string{"kerberos.password_file: the file does not exist (its name is not shown, in case it is the password itself); check the path"},
			noInOutput: "Winter2026!",
		},
		{
			name:   "missing config file",
			args:   []string{"config", "check", "--config", "/nonexistent/spnaudit.yaml"},
			status: 2,
			stderr: []string{"/nonexistent/spnaudit.yaml: config file not found; check the path given to --config"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			r := spnaudit(t, false, tc.args...)
			if r.status != tc.status || r.stdout != tc.stdout {
				t.Errorf("status %d, stdout %q; want %d, %q (stderr %q)", r.status, r.stdout, tc.status, tc.stdout, r.stderr)
			}
			want := ""
			if len(tc.stderr) > 0 {
				want = strings.Join(tc.stderr, "\n") + "\n"
			}
			if r.stderr != want {
				t.Errorf("stderr =\n%s\nwant\n%s", r.stderr, want)
			}
			if tc.noInOutput != "" && strings.Contains(r.stdout+r.stderr, tc.noInOutput) {
				t.Errorf("output contains %q", tc.noInOutput)
			}
		})
	}
}

func TestErrorsAreOneLine(t *testing.T) {
	labConfig(t, "") // clears SPNAUDIT_ variables
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"confg", "check"}, `spnaudit: unknown command "confg" for "spnaudit"; did you mean "config"?`},
		{[]string{"config", "chek"}, `spnaudit: unknown command "chek" for "spnaudit config"; did you mean "check"?`},
		{[]string{"frobnicate"}, `spnaudit: unknown command "frobnicate" for "spnaudit"; see 'spnaudit --help'`},
		{[]string{"config", "check", "--bogus"}, `spnaudit: unknown flag: --bogus; see 'spnaudit config check --help'`},
		{[]string{"config", "check", "extra"}, `spnaudit: unknown command "extra" for "spnaudit config check"; see 'spnaudit config check --help'`},
		{[]string{"completion", "ksh"}, `spnaudit: invalid argument "ksh" for "spnaudit completion"; see 'spnaudit completion --help'`},
		{[]string{"completion"}, `spnaudit: accepts 1 arg(s), received 0; see 'spnaudit completion --help'`},
		{[]string{"version", "--quiet=maybe"}, `spnaudit: invalid argument "maybe" for "-q, --quiet" flag: strconv.ParseBool: parsing "maybe": invalid syntax; see 'spnaudit version --help'`},
	} {
		r := spnaudit(t, false, tc.args...)
		if r.status != 2 || r.stdout != "" || r.stderr != tc.want+"\n" {
			t.Errorf("%v: status %d, stdout %q, stderr %q; want 2, nothing, %q", tc.args, r.status, r.stdout, r.stderr, tc.want)
		}
	}
}

func TestColor(t *testing.T) {
	good := labConfig(t, "")
	const green = "\x1b[32mconfig OK:\x1b[0m "
	for _, tc := range []struct {
		name     string
		terminal bool
		noColor  string
		flags    []string
		want     bool
	}{
		{"terminal", true, "", nil, true},
		{"not a terminal", false, "", nil, false},
		{"NO_COLOR", true, "1", nil, false},
		{"--no-color", true, "", []string{"--no-color"}, false},
	} {
		t.Setenv("NO_COLOR", tc.noColor)
		r := spnaudit(t, tc.terminal, append([]string{"config", "check", "--config", good}, tc.flags...)...)
		if got := strings.HasPrefix(r.stdout, green); got != tc.want || (!tc.want && strings.Contains(r.stdout, "\x1b")) {
			t.Errorf("%s: stdout %q; colour wanted: %v", tc.name, r.stdout, tc.want)
		}
	}
	t.Setenv("NO_COLOR", "")
	r := spnaudit(t, true, "config", "check", "--config", labConfig(t, "log:\n  format: text\n"))
	if want := "\x1b[1;31mlog.format\x1b[0m: "; !strings.HasPrefix(r.stderr, want) {
		t.Errorf("problem on a terminal: %q; want the key in red", r.stderr)
	}
}

func TestVersion(t *testing.T) {
	version.Version, version.Revision = "1.2.3", "0123abcd"
	t.Cleanup(func() { version.Version, version.Revision = "", "" })
	r := spnaudit(t, false, "version")
	want := "spnaudit version 1.2.3\n  revision:   0123abcd\n  go version: " + version.GoVersion +
		"\n  platform:   " + version.GoOS + "/" + version.GoArch + "\n"
	if r.status != 0 || r.stdout != want || r.stderr != "" {
		t.Errorf("version: %d %q %q; want %q", r.status, r.stdout, r.stderr, want)
	}
}

func TestCompletion(t *testing.T) {
	for shell, marker := range map[string]string{
		"bash": "# bash completion V2 for spnaudit",
		"zsh":  "#compdef spnaudit",
		"fish": "# fish completion for spnaudit",
	} {
		r := spnaudit(t, false, "completion", shell)
		if r.status != 0 || !strings.HasPrefix(r.stdout, marker) || r.stderr != "" {
			t.Errorf("completion %s: status %d, stdout starts %q, stderr %q", shell, r.status, r.stdout[:min(len(r.stdout), 60)], r.stderr)
		}
	}
	// The scripts call back into the binary; the flag values complete.
	r := spnaudit(t, false, "__complete", "config", "check", "--log.level", "")
	if r.status != 0 || !strings.HasPrefix(r.stdout, "debug\ninfo\nwarn\nerror\n") {
		t.Errorf("__complete --log.level: %d %q", r.status, r.stdout)
	}
}

func TestHelp(t *testing.T) {
	r := spnaudit(t, false)
	if r.status != 0 || !strings.Contains(r.stdout, "Available Commands:") || r.stderr != "" {
		t.Errorf("no arguments: %d, stderr %q; want help on stdout", r.status, r.stderr)
	}
	r = spnaudit(t, false, "config", "--help")
	keys := map[string]string{}
	for _, line := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && strings.HasPrefix(f[1], "SPNAUDIT_") {
			keys[f[0]] = strings.Join(f[1:], " ")
		}
	}
	if r.status != 0 || keys["ldap.urls"] != "SPNAUDIT_LDAP_URLS" || keys["audit.max_password_age"] != "SPNAUDIT_AUDIT_MAX_PASSWORD_AGE 365d" {
		t.Errorf("config --help does not list the keys with their variables and defaults:\n%s", r.stdout)
	}
	// Every command has examples.
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if !c.Hidden && c.Name() != "help" && strings.TrimSpace(c.Example) == "" {
			t.Errorf("%s has no Example", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk((&app{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}).newRootCmd())
}
