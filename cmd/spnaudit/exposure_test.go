package main

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestServeWarnsWhenExposed: serve warns at start when it listens beyond
// loopback without TLS or basic auth, and not on loopback. The address is
// taken, so runServer returns at once after the warning.
func TestServeWarnsWhenExposed(t *testing.T) {
	for _, tt := range []struct {
		name, host string
		warn       bool
	}{
		{"every interface", "0.0.0.0", true},
		{"loopback", "127.0.0.1", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l, err := net.Listen("tcp", tt.host+":0")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			var log syncBuffer
			done := make(chan error, 1)
			go func() {
				done <- runServer(t.Context(), serveTestConfig(l.Addr().String()), newGatedScanner(), nil, slog.New(slog.NewTextHandler(&log, nil)))
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("runServer did not return")
			}
			warned := strings.Contains(log.String(), "level=WARN msg=\"serving the findings beyond loopback without TLS or authentication")
			if warned != tt.warn {
				t.Errorf("warned %v, want %v; log:\n%s", warned, tt.warn, log.String())
			}
		})
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
