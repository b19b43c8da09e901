// Package unprivileged runs a test as the unprivileged user nobody, for tests
// of permission errors: root bypasses file permissions, so as root (as CI
// runs) such a test would check nothing.
package unprivileged

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Nobody is the uid and gid the test runs as (nobody and nogroup on Debian).
const Nobody = 65534

// Rerun runs test t again, in a copy of the test binary, as Nobody, and fails
// t unless it passed there (a skip fails too: the point is that it runs).
// Call it first thing, as root, and return:
//
//	if os.Geteuid() == 0 {
//		unprivileged.Rerun(t)
//		return
//	}
func Rerun(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("unprivileged.Rerun: call it as root")
	}
	// The go build cache and t.TempDir are private to root (0700): the copy
	// of the binary and the child's temporary directory live in a directory
	// nobody may enter, under a temporary directory it may create files in.
	dir, err := os.MkdirTemp("", "spnaudit-unprivileged-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(tmp, Nobody, Nobody); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, filepath.Base(self))
	if err := copyFile(self, bin); err != nil {
		t.Fatal(err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Dir = wd // testdata stays reachable when the package directory is
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "HOME="+tmp)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: Nobody, Gid: Nobody}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("%s as uid %d: %v\n%s", t.Name(), Nobody, err, out)
	}
	t.Logf("%s passed as uid %d", t.Name(), Nobody)
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}
