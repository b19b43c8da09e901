package daemon

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// fakeHistory dates every finding with a fixed first_seen, failing when
// told to.
type fakeHistory struct {
	mu    sync.Mutex
	fail  bool
	calls []inventory.ScanMode
}

var firstSeen = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func (h *fakeHistory) Record(_ *inventory.Snapshot, res audit.Result, mode inventory.ScanMode) ([]audit.Finding, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls = append(h.calls, mode)
	out := slices.Clone(res.Findings)
	for i := range out {
		out[i].FirstSeen = &firstSeen
	}
	if h.fail {
		return out, errors.New("disk full")
	}
	return out, nil
}

// TestHistory: every successful scan is recorded and published with the
// history's dates; a failing history is a counted failure at stage state
// and the scan is still published; a failed scan is not recorded.
func TestHistory(t *testing.T) {
	for _, tc := range []struct {
		name       string
		fail       bool
		wantEvents []string
	}{
		{"recorded", false, []string{"ldap_up dc1.example.test=true", "success full r1 findings=2"}},
		{"history fails", true, []string{"counted failure full state", "ldap_up dc1.example.test=true", "success full r1 findings=2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			scanner := &fakeScanner{clock: clock, steps: []step{
				{call: "scan", result: "r1", objects: 2},
				{call: "poll", err: searchCut(dc1)},
			}}
			sink := &recordingSink{}
			history := &fakeHistory{fail: tc.fail}
			d, err := New(Config{Scanner: scanner, Audit: fakeAudit, Sink: sink, History: history,
				FullInterval: testFull, PollInterval: testPoll, Timeout: time.Minute, Clock: clock, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go d.Run(ctx)
			clock.Advance(clock.awaitWaiter(t))
			clock.awaitWaiter(t)
			sink.mu.Lock()
			defer sink.mu.Unlock()
			if !slices.Equal(sink.events[:len(tc.wantEvents)], tc.wantEvents) {
				t.Errorf("events %q, want them to start with %q", sink.events, tc.wantEvents)
			}
			if len(history.calls) != 1 || history.calls[0] != inventory.FullScan {
				t.Errorf("history recorded %v, want the one full scan", history.calls)
			}
			for _, f := range sink.published[0].Findings {
				if f.FirstSeen == nil || !f.FirstSeen.Equal(firstSeen) {
					t.Errorf("published finding without the history's first_seen: %+v", f)
				}
			}
		})
	}
}
