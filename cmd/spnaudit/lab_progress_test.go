package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/internal/labtest"
)

// TestLabProgress runs the binary in a tmux pane, where stderr is a
// terminal, and records every byte the pane receives: inventory and scan
// draw the progress line there (and erase it), nothing with --quiet; with
// stderr not a terminal they write no byte to it.
func TestLabProgress(t *testing.T) {
	l := labtest.Require(t)
	if _, err := exec.LookPath("tmux"); err != nil {
		labtest.Unavailable(t, "tmux is not installed")
	}
	clearEnv(t)
	bin := buildSpnaudit(t)
	config := labConfigFile(t, l, map[string]any{"ldap.base_dn": farmDN})
	pane := newTmux(t, filepath.Join(t.TempDir(), "tmux.sock"))
	const progress = "OU=Farm,DC=corp,DC=example,DC=test: 8 objects, 1 page · total 8 at "

	for _, tc := range []struct {
		name     string
		args     []string
		progress bool
	}{
		{"inventory on a terminal", []string{"inventory", "--format", "json"}, true},
		{"scan on a terminal", []string{"scan", "--format", "json", "--fail-on", "none"}, true},
		{"inventory on a terminal, quiet", []string{"inventory", "--format", "json", "--quiet"}, false},
		{"scan on a terminal, quiet", []string{"scan", "--format", "json", "--fail-on", "none", "-q"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, terminal := pane.run(t, bin, append(tc.args, "--config", config)...)
			if !json.Valid([]byte(stdout)) {
				t.Fatalf("stdout is not JSON: %.200q", stdout)
			}
			drawn := strings.Contains(terminal, "\r"+progress) && strings.HasSuffix(terminal, "\r\x1b[K")
			switch {
			case tc.progress && !drawn:
				t.Errorf("the terminal received %q; want the progress line %q, then erased", terminal, progress)
			case !tc.progress && terminal != "":
				t.Errorf("the terminal received %q; want nothing with --quiet", terminal)
			}
		})
	}

	t.Run("stderr not a terminal", func(t *testing.T) {
		for _, command := range [][]string{{"inventory", "--format", "json"}, {"scan", "--format", "json", "--fail-on", "none"}} {
			cmd := exec.Command(bin, append(command, "--config", config)...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil || stderr.Len() != 0 || !json.Valid(stdout.Bytes()) {
				t.Errorf("%s: %v; stderr %d bytes %q; want no byte", command[0], err, stderr.Len(), stderr.String())
			}
		}
	})
}

// tmux is a private tmux server for the test.
type tmux struct {
	socket string
	runs   int
}

func newTmux(t *testing.T, socket string) *tmux {
	x := &tmux{socket: socket}
	t.Cleanup(func() { _ = x.command(context.Background(), "kill-server").Run() })
	return x
}

func (x *tmux) command(ctx context.Context, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "tmux", append([]string{"-S", x.socket}, args...)...)
}

func (x *tmux) do(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := x.command(ctx, args...).CombinedOutput(); err != nil {
		t.Fatalf("tmux %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// run runs bin with args in a new pane, stdout to a file, and returns
// stdout and every byte the pane (stderr, a terminal) received.
func (x *tmux) run(t *testing.T, bin string, args ...string) (stdout, terminal string) {
	t.Helper()
	x.runs++
	dir := t.TempDir()
	name := fmt.Sprintf("run%d", x.runs)
	out, received, closed := filepath.Join(dir, "stdout"), filepath.Join(dir, "pane"), filepath.Join(dir, "pane.closed")
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + a + "'"
	}
	// The command waits until the pane is recorded. When it ends, so does
	// the pane: tmux passes the pane's last bytes on and closes the pipe, cat
	// writes them and marks the recording closed.
	script := fmt.Sprintf("tmux -S %s wait-for go-%s; %s %s >%s",
		x.socket, name, bin, strings.Join(quoted, " "), out)
	x.do(t, "new-session", "-d", "-s", name, "-x", "120", "-y", "30", script)
	x.do(t, "pipe-pane", "-t", name, "-o", fmt.Sprintf("cat >%s; touch %s", received, closed))
	x.do(t, "wait-for", "-S", "go-"+name)
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(closed); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the command or the pane recording did not end")
		}
	}
	return readFile(t, out), readFile(t, received)
}
