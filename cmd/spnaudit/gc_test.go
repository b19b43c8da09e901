package main

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// gcSettings reads GOGC and the memory limit without changing them.
func gcSettings() (percent int, limit int64) {
	percent = debug.SetGCPercent(100)
	debug.SetGCPercent(percent)
	return percent, debug.SetMemoryLimit(-1)
}

// TestBatchGC: a one-shot command turns the collector off up to a 1 GiB
// heap and puts it back when it ends, or at the first collection; GOGC or
// GOMEMLIMIT in the environment win.
func TestBatchGC(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	percent, limit := gcSettings()

	restore := batchGC()
	if p, l := gcSettings(); p != -1 || l != batchHeapFree {
		t.Errorf("during a command: GOGC %d, limit %d; want off, %d", p, l, batchHeapFree)
	}
	inner := batchGC() // side by side (tests): the last to end restores
	inner()
	if p, _ := gcSettings(); p != -1 {
		t.Errorf("a command ending while another runs turned the collector back on (GOGC %d)", p)
	}
	restore()
	restore() // twice is harmless
	if p, l := gcSettings(); p != percent || l != limit {
		t.Errorf("after: GOGC %d, limit %d; want %d, %d", p, l, percent, limit)
	}

	// The first collection puts the default back while the command runs.
	restore = batchGC()
	defer restore()
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		if p, l := gcSettings(); p == percent && l == limit {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the collector was not put back after a collection")
		}
		time.Sleep(10 * time.Millisecond)
	}

	t.Setenv("GOGC", "50")
	restore = batchGC()
	if p, _ := gcSettings(); p != percent {
		t.Errorf("with GOGC set: GOGC changed to %d", p)
	}
	restore()
}

// TestBatchGCOnlyForLDIF: a live read keeps the collector (its garbage piles
// up otherwise, for no time saved: gc.go); an LDIF read turns it off.
func TestBatchGCOnlyForLDIF(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	percent, limit := gcSettings()
	for _, tc := range []struct {
		ldif string
		off  bool
	}{{"", false}, {"dump.ldf", true}, {"-", true}} {
		restore := (&source{ldif: tc.ldif}).batchGC()
		p, _ := gcSettings()
		restore()
		if (p == -1) != tc.off {
			t.Errorf("--ldif %q: GOGC %d during the command, want off %v", tc.ldif, p, tc.off)
		}
		if p, l := gcSettings(); p != percent || l != limit {
			t.Errorf("--ldif %q: after: GOGC %d, limit %d; want %d, %d", tc.ldif, p, l, percent, limit)
		}
	}
}
