package daemon

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// TestExpiredSuppressionsLoggedOnce: an expired audit.ignore entry is logged
// when it expires and not again on every poll while it stays expired; one
// that is renewed and expires again is logged again.
func TestExpiredSuppressionsLoggedOnce(t *testing.T) {
	a := audit.Suppression{Rule: audit.RuleGhostSPN, SPN: "HTTP/old*", Reason: "retired", Owner: "web-team", Until: "2026-06-30"}
	b := audit.Suppression{Rule: audit.RuleWeakEncryption, Account: "svc_x", Reason: "AES next week", Owner: "iam", Until: "2026-07-01"}
	for _, tt := range []struct {
		name  string
		scans [][]audit.Suppression
		want  []int // warnings logged by each scan
	}{
		{"none", [][]audit.Suppression{nil, nil}, []int{0, 0}},
		{"one, many polls", [][]audit.Suppression{{a}, {a}, {a}}, []int{1, 0, 0}},
		{"a second one expires", [][]audit.Suppression{{a}, {a, b}, {b, a}}, []int{1, 1, 0}},
		{"renewed then expired again", [][]audit.Suppression{{a}, nil, {a}}, []int{1, 0, 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&buf, nil))
			var e expiredSuppressions
			for i, expired := range tt.scans {
				buf.Reset()
				e.report(logger, expired)
				if got := strings.Count(buf.String(), "audit.ignore entry expired"); got != tt.want[i] {
					t.Errorf("scan %d logged %d warnings, want %d:\n%s", i, got, tt.want[i], buf.String())
				}
				if tt.want[i] > 0 && !strings.Contains(buf.String(), "level=WARN") || tt.want[i] > 0 && !strings.Contains(buf.String(), "owner=") {
					t.Errorf("scan %d: want a warning naming the owner:\n%s", i, buf.String())
				}
			}
		})
	}
}

// TestDaemonPublishesExpiredSuppressions: the count of expired suppressions
// reaches the Sink (spnaudit_suppressions_expired) and the log.
func TestDaemonPublishesExpiredSuppressions(t *testing.T) {
	expired := audit.Suppression{Rule: audit.RuleGhostSPN, SPN: "HTTP/old*", Reason: "retired", Owner: "web-team", Until: "2026-06-30"}
	clock := newFakeClock()
	scanner := &fakeScanner{clock: clock, steps: []step{{call: "scan", result: "r1", objects: 1}}}
	sink := &recordingSink{}
	var buf bytes.Buffer
	var mu sync.Mutex
	d, err := New(Config{Scanner: scanner, Sink: sink,
		Audit: func(snap *inventory.Snapshot, resolved map[string]bool) audit.Result {
			res := fakeAudit(snap, resolved)
			res.ExpiredSuppressions = []audit.Suppression{expired}
			return res
		},
		FullInterval: testFull, PollInterval: testPoll, Timeout: time.Minute, Clock: clock,
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{mu: &mu, w: &buf}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go d.Run(ctx)
	clock.awaitWaiter(t)
	sink.mu.Lock()
	published := append([]publishedScan(nil), sink.published...)
	sink.mu.Unlock()
	if len(published) != 1 || len(published[0].ExpiredSuppressions) != 1 {
		t.Fatalf("published %+v, want one scan with ExpiredSuppressions 1", published)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(buf.String(), "audit.ignore entry expired") || !strings.Contains(buf.String(), "owner=web-team") {
		t.Errorf("log lacks the expired suppression:\n%s", buf.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
