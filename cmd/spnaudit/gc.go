package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"sync"
)

// batchHeapFree is the heap a one-shot command grows to before its first
// collection (batchGC).
const batchHeapFree = 1 << 30

// batch is the collector policy of the one-shot commands running: armed
// while one runs and no collection has come yet (commands run one at a
// time in the binary, side by side in the tests).
var batch struct {
	sync.Mutex
	running int
	armed   bool
	percent int   // GOGC before
	limit   int64 // GOMEMLIMIT before
}

// batchGC is batchGC() for a command reading an LDIF export, and nothing
// for one reading the directory. A live read is paced by the DC, not by the
// client's CPU (docs/performance.md, "Live"), and holds the responses'
// buffers only a page at a time: without collection its garbage piled up
// to 320 MiB for `inventory` and 500 MiB for `scan` of a 20,000-object
// domain (against 60 to 75 MiB collected), for no time saved.
func (s *source) batchGC() (restore func()) {
	if s.ldif == "" {
		return func() {}
	}
	return batchGC()
}

// batchGC sets the collector for a one-shot command (scan, inventory, check)
// and returns the function that restores it. Such a command reads the
// inventory, audits it and exits: nearly all it allocates stays live until
// the end, so every collection before then marks the growing inventory for
// little garbage (issue 9: about 0.1 s of 0.7 s, and the preemptions it
// takes, on a 1M-SPN export). No collection runs until the heap reaches
// 1 GiB (a memory limit with GOGC off; a 1M-SPN export stays near
// 300 MiB). The first collection, if one comes, puts back Go's default
// (GOGC=100, no limit), so a forest whose live heap exceeds 1 GiB is
// collected as before, never against the limit again and again. A user who
// set GOGC or GOMEMLIMIT keeps them; serve and the daemon are left alone.
func batchGC() (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	batch.Lock()
	defer batch.Unlock()
	batch.running++
	if batch.running == 1 {
		batch.percent = debug.SetGCPercent(-1)
		batch.limit = debug.SetMemoryLimit(batchHeapFree)
		batch.armed = true
		// The finalizer of an object nothing references runs after the
		// first collection that finds it: the heap reached the limit. (Not
		// a tiny object: the tiny allocator may never free it.)
		runtime.SetFinalizer(new([64]byte), func(*[64]byte) {
			batch.Lock()
			defer batch.Unlock()
			disarmBatchGC()
		})
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			batch.Lock()
			defer batch.Unlock()
			if batch.running--; batch.running == 0 {
				disarmBatchGC()
			}
		})
	}
}

// disarmBatchGC puts back the collector's settings from before batchGC;
// batch is locked.
func disarmBatchGC() {
	if !batch.armed {
		return
	}
	debug.SetMemoryLimit(batch.limit)
	debug.SetGCPercent(batch.percent)
	batch.armed = false
}
