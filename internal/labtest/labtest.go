// Package labtest gives integration tests the shared lab domain controller.
// The first test binary that needs it provisions and starts it; the others
// reuse it (test binaries of different packages run concurrently, so a file
// lock serialises set-up). The lab keeps running after the tests; `lab/down`
// or `make lab-down` removes it.
package labtest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/lab"
)

// Unavailable stops the test when the lab cannot run here: it skips on a
// developer machine without Samba or root, and fails under CI=true, where
// every integration test must run. Under go test -short it skips: a unit
// run asked for no integration test.
func Unavailable(t testing.TB, why string) {
	t.Helper()
	SkipShort(t)
	if os.Getenv("CI") == "true" {
		t.Fatalf("integration test cannot run under CI=true: %s", why)
	}
	t.Skipf("skipping integration test: %s (run lab/install.sh as root)", why)
}

// SkipShort skips an integration test under go test -short (make test-unit),
// even as root with Samba installed, and under CI=true too: -short is an
// explicit request for unit tests only. Every Require* and Scenario calls it
// first; a test that needs the lab or a service but does other work before
// asking for them calls it itself.
func SkipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: skipped under go test -short (make test-unit)")
	}
}

// Require returns the running lab with the IIS farm scenario in OU=Farm.
// Tests must not modify OU=Farm (other packages read it concurrently); a test
// that changes the directory applies its own scenario with Scenario, and one
// that must change the farm itself (the demo flow) uses RequireFarmWriter.
//
// The test holds a shared lock on the farm until it ends, so that a farm
// writer in another package waits for every reader. A test must not call both
// Require and RequireFarmWriter.
func Require(t testing.TB) *lab.Lab {
	t.Helper()
	l := defaultLab.up(t)
	farmLock(t, l, syscall.LOCK_SH)
	return l
}

// RequireDC returns the running lab for a test that does not depend on what
// OU=Farm holds, without the farm lock: a long test (the Kerberos renewal
// test runs ten minutes) must not hold the demo flow test back.
func RequireDC(t testing.TB) *lab.Lab {
	t.Helper()
	return defaultLab.up(t)
}

// RequireFarmWriter returns the running lab with the IIS farm scenario and
// exclusive use of OU=Farm until the test ends, when the scenario is restored.
// A test binary must not call both Require and RequireFarmWriter.
func RequireFarmWriter(t testing.TB) *lab.Lab {
	t.Helper()
	l := defaultLab.up(t)
	writerLock(t, l)
	// Cleanups run last-registered first: the farm is restored before the
	// lock is released.
	farmLock(t, l, syscall.LOCK_EX)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := l.Locked(func() error { return l.EnsureFarm(ctx) }); err != nil {
			t.Errorf("lab: restore farm: %v", err)
		}
	})
	return l
}

// farmLock takes a lock on the farm scenario until the test ends.
func farmLock(t testing.TB, l *lab.Lab, how int) {
	t.Helper()
	fileLock(t, l, ".farm.lock", how)
}

// RequireQuiet returns the running lab with the IIS farm scenario, and no
// test writing to the directory until this one ends: for a test that compares
// two reads of the whole domain (spnaudit's and ldapsearch's), which a write
// between them (even one undone before the second) would make differ. Tests
// that write take the writers' lock shared (Scenario, RequireFarmWriter).
//
// Every test takes the writers' lock before the farm lock: RequireFarmWriter
// (writers shared, farm exclusive) and RequireQuiet (writers exclusive, farm
// shared) in opposite orders would wait for each other for ever.
func RequireQuiet(t testing.TB) *lab.Lab {
	t.Helper()
	l := defaultLab.up(t)
	fileLock(t, l, ".writers.lock", syscall.LOCK_EX)
	farmLock(t, l, syscall.LOCK_SH)
	return l
}

// writerLock marks the test as one that writes to the directory, until it
// ends (see RequireQuiet).
func writerLock(t testing.TB, l *lab.Lab) {
	t.Helper()
	fileLock(t, l, ".writers.lock", syscall.LOCK_SH)
}

// fileLock takes a flock on the lab's lock file with the given suffix until
// the test ends.
func fileLock(t testing.TB, l *lab.Lab, suffix string, how int) {
	t.Helper()
	f, err := os.OpenFile(strings.TrimRight(l.Dir, "/")+suffix, os.O_CREATE|os.O_RDWR, 0o600)
	if err == nil {
		err = syscall.Flock(int(f.Fd()), how)
	}
	if err != nil {
		t.Fatalf("lab: %s lock: %v", strings.TrimSuffix(strings.TrimPrefix(suffix, "."), ".lock"), err)
	}
	t.Cleanup(func() { f.Close() }) // releases the lock
}

// instance is one lab DC, brought up at most once per test binary.
type instance struct {
	once sync.Once
	lab  *lab.Lab
	err  error
}

var (
	defaultLab = instance{lab: &lab.Lab{Dir: lab.DefaultDir(), Log: os.Stderr}}
	// windowsLike is the second lab DC of RequireWindowsLike.
	windowsLike = instance{lab: &lab.Lab{Dir: lab.DefaultDir() + "-tls", Log: os.Stderr, Netns: TLSNetns, SASLOverTLS: true}}
	// killable is the third lab DC, of RequireKillable.
	killable = instance{lab: Killable()}
)

// KillNetns is the network namespace of the lab DC that tests may kill.
const KillNetns = "spnaudit-kill"

// Killable describes the lab DC that a test may stop and restart (with the
// IIS farm scenario, in its own network namespace KillNetns): killing the
// shared lab would break the other test packages.
func Killable() *lab.Lab {
	return &lab.Lab{Dir: lab.DefaultDir() + "-kill", Log: os.Stderr, Netns: KillNetns}
}

// RequireKillable brings the killable lab DC up; see Killable.
func RequireKillable(t testing.TB) *lab.Lab {
	t.Helper()
	return killable.up(t)
}

// up brings the instance's DC up with the IIS farm scenario, or stops the
// test when the lab cannot run here.
func (in *instance) up(t testing.TB) *lab.Lab {
	t.Helper()
	SkipShort(t)
	if os.Geteuid() != 0 {
		Unavailable(t, "the lab needs root")
	}
	tools := []string{"samba"}
	if in.lab.Netns != "" {
		tools = append(tools, "ip")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			Unavailable(t, tool+" is not installed")
		}
	}
	in.once.Do(func() {
		l := in.lab
		in.err = l.Locked(func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			if err := l.Up(ctx); err != nil {
				return err
			}
			return l.EnsureFarm(ctx)
		})
	})
	if in.err != nil {
		t.Fatalf("lab %s: %v", in.lab.Dir, in.err)
	}
	return in.lab
}

// Scenario applies sc (in its own OU) to the running lab and returns it.
func Scenario(t testing.TB, sc *lab.Scenario) *lab.Lab {
	t.Helper()
	l := defaultLab.up(t)
	writerLock(t, l) // before the farm lock (see RequireQuiet)
	farmLock(t, l, syscall.LOCK_SH)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := l.Locked(func() error { return l.Apply(ctx, sc) }); err != nil {
		t.Fatalf("lab: apply scenario %s: %v", sc.Name, err)
	}
	return l
}

// TLSNetns is the network namespace of the second lab DC (RequireWindowsLike).
const TLSNetns = "spnaudit-tls"

// RequireWindowsLike returns a second lab DC, in its own network namespace
// (TLSNetns), that takes GSSAPI binds over TLS without sign or seal, as
// Windows DCs do; Samba's default refuses every GSSAPI bind over TLS. Its
// clients must run in the namespace: ip netns exec TLSNetns ...
func RequireWindowsLike(t testing.TB) *lab.Lab {
	t.Helper()
	return windowsLike.up(t)
}
