// Package promtooltest runs promtool, the Prometheus checker (Debian package
// "prometheus"), from tests of the exposition format, alert rules and rule
// tests.
package promtooltest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// timeout bounds one promtool run; rule unit tests take well under a second.
const timeout = 2 * time.Minute

// Path returns promtool's path. Without promtool the test is skipped, except
// under CI=true where it fails: CI must not pass by checking nothing.
func Path(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("promtool not found (apt-get install prometheus): %v", err)
		}
		t.Skipf("promtool not found (apt-get install prometheus): %v", err)
	}
	return path
}

// Run runs promtool with args and stdin, and returns its combined output and
// its error (non-nil when promtool reports a problem).
func Run(t testing.TB, stdin []byte, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, Path(t), args...)
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
