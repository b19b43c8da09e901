package krb

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// TestBlockingRetriesAnUnreachableKDC: an exchange that could not reach the
// KDC is tried again (at most kdcAttempts times, while the context lasts);
// an answer of the KDC, even a refusal, is never retried.
func TestBlockingRetriesAnUnreachableKDC(t *testing.T) {
	defer func(p time.Duration) { kdcRetryPause = p }(kdcRetryPause)
	kdcRetryPause = time.Millisecond
	unreachable := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	refused := errors.New("KRB Error: (24) KDC_ERR_PREAUTH_FAILED Pre-authentication information was invalid")
	for _, tc := range []struct {
		name      string
		failures  []error // returned by the attempts in turn, then nil
		wantCalls int
		wantErr   error
	}{
		{"answers at once", nil, 1, nil},
		{"unreachable once, then answers", []error{unreachable}, 2, nil},
		{"unreachable every time", []error{unreachable, unreachable, unreachable, unreachable}, kdcAttempts, unreachable},
		{"a refusal is final", []error{refused}, 1, refused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := blocking(context.Background(), func() error {
				calls++
				if calls <= len(tc.failures) {
					return tc.failures[calls-1]
				}
				return nil
			})
			if calls != tc.wantCalls || !errors.Is(err, tc.wantErr) {
				t.Errorf("%d calls, err %v; want %d calls, err %v", calls, err, tc.wantCalls, tc.wantErr)
			}
		})
	}
	t.Run("no retry past the context", func(t *testing.T) {
		kdcRetryPause = time.Hour
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		calls := 0
		start := time.Now()
		err := blocking(ctx, func() error { calls++; return unreachable })
		if calls != 1 || !errors.Is(err, unreachable) || time.Since(start) > 5*time.Second {
			t.Errorf("%d calls, err %v after %v; want 1 call and the KDC's error at the deadline", calls, err, time.Since(start))
		}
	})
}
