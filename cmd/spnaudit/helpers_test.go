package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// clearEnv empties the SPNAUDIT_ variables that are configuration keys for
// the test (an empty variable counts as unset); SPNAUDIT_LAB_* say where the
// lab is and are kept.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "SPNAUDIT_") && !strings.HasPrefix(name, "SPNAUDIT_LAB_") {
			t.Setenv(name, "")
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// spnauditStdin runs the command line in-process with input on stdin.
func spnauditStdin(t *testing.T, input string, args ...string) result {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stdin")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(input); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	stdin := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = stdin }()
	return spnaudit(t, false, args...)
}

// buildSpnaudit builds the spnaudit binary into the test's directory, for
// tests that need a real process (a terminal, another network namespace).
func buildSpnaudit(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "spnaudit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	return bin
}
