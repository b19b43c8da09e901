package state

import (
	"bufio"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/inventory"
)

// killChildEnv makes the test binary the writer of TestKillMidWrite.
const killChildEnv = "SPNAUDIT_STATE_KILL_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(killChildEnv); dir != "" {
		writeUntilKilled(dir)
		return
	}
	os.Exit(m.Run())
}

// writeUntilKilled records scan after scan, each adding one account with
// one SPN, and prints the number of each scan whose Record returned.
func writeUntilKilled(dir string) {
	s, err := Open(Options{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var objs []inventory.Object
	for i := 0; ; i++ {
		objs = append(objs, obj("guid-"+strconv.Itoa(i), "svc"+strconv.Itoa(i), "HTTP/n"+strconv.Itoa(i)+"."+strings.Repeat("x", 200)))
		snap := &inventory.Snapshot{Started: t0.Add(time.Duration(i) * time.Second), Objects: inventory.Pointers(objs)}
		if _, err := s.Record(snap, nil, Poll{Mode: "incremental"}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("committed %d\n", i)
	}
}

// TestKillMidWrite kills a writer with SIGKILL at a random moment, several
// times over the same directory: the store must open (its consistency
// check passes) and every scan whose Record had returned must be in the
// journal, intact.
func TestKillMidWrite(t *testing.T) {
	dir := t.TempDir()
	for round := range 4 {
		committed := runAndKill(t, dir, time.Duration(50+rand.IntN(400))*time.Millisecond)
		s, err := Open(Options{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatalf("round %d: the store does not open after SIGKILL: %v", round, err)
		}
		changes, _, err := s.Changes(Query{})
		_ = s.Close()
		if err != nil {
			t.Fatalf("round %d: reading the journal: %v", round, err)
		}
		adds := map[string]bool{}
		for _, c := range changes {
			// Later rounds restart from one account: they remove the rest.
			if (c.Op != OpAdd && c.Op != OpRemove) || c.Account == "" || c.Observed.IsZero() {
				t.Fatalf("round %d: damaged entry %+v", round, c)
			}
			if c.Op == OpAdd {
				adds[c.SPN] = true
			}
		}
		for _, i := range committed {
			if i == 0 {
				continue // the baseline, or in later rounds an account already there
			}
			spn := "HTTP/n" + strconv.Itoa(i) + "." + strings.Repeat("x", 200)
			if !adds[spn] {
				t.Errorf("round %d: scan %d was committed but its add is not in the journal", round, i)
			}
		}
		t.Logf("round %d: killed after %d committed scans; journal holds %d entries", round, len(committed), len(changes))
	}
}

// runAndKill starts the writer, lets it run for about d (and at least five
// commits), kills it and returns the scans it reported committed.
func runAndKill(t *testing.T, dir string, d time.Duration) []int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), killChildEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan int)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			n, _ := strconv.Atoi(strings.TrimPrefix(sc.Text(), "committed "))
			lines <- n
		}
	}()
	var committed []int
	deadline := time.After(d)
	killed := false
	for n := range lines {
		committed = append(committed, n)
		if killed || len(committed) < 5 {
			continue
		}
		select {
		case <-deadline:
			_ = cmd.Process.Signal(syscall.SIGKILL)
			killed = true
		default:
		}
	}
	_ = cmd.Wait()
	if !killed {
		t.Fatalf("the writer stopped by itself: %s", stderr.String())
	}
	return committed
}
