package state

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

// TestFullDisk: on a file system that fills up, Record fails with the
// "full" message and loses nothing already committed; once space is back
// the store opens and records again. Needs root to mount a small tmpfs.
func TestFullDisk(t *testing.T) {
	dir := t.TempDir()
	// CI runs as root, where the test must run: there it fails instead of
	// skipping.
	skip := t.Skipf
	if os.Getenv("CI") == "true" {
		skip = t.Fatalf
	}
	if os.Geteuid() != 0 {
		skip("mounting a small tmpfs needs root")
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		skip("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	s := open(t, dir)
	record(t, s, snapAt(t0), "full") // baseline
	var objs []inventory.Object
	var err error
	committed := 0
	for i := 0; i < 100000 && err == nil; i++ {
		objs = append(objs, obj("g"+strconv.Itoa(i), "svc"+strconv.Itoa(i), "HTTP/"+strings.Repeat("x", 400)+strconv.Itoa(i)))
		_, err = s.Record(snapAt(t0.Add(1), objs...), nil, Poll{Mode: "incremental"})
		if err == nil {
			committed = i + 1
		}
	}
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "the file system is full") {
		t.Fatalf("after %d scans: %v; want the full-disk error", committed, err)
	}
	_ = s.Close()
	s = open(t, dir)
	got, _, err := s.Changes(Query{})
	if err != nil || len(got) != committed {
		t.Fatalf("after the disk filled: %d journal entries (%v), want the %d committed", len(got), err, committed)
	}
	t.Logf("filled 1 MiB after %d scans; every committed entry kept", committed)
}
