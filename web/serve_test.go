package web

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/spnaudit/spnaudit/inventory"
)

// freeAddress returns a loopback address nobody listens on right now.
func freeAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// waitListening polls until addr accepts connections, for at most 5 seconds.
func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			conn.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s does not accept connections", addr)
}

func get(t *testing.T, url, user, password string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// web.config_file reaches exporter-toolkit: basic auth is enforced, and
// cancelling the context shuts the server down cleanly.
func TestServeWithBasicAuthAndShutdown(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	configFile := filepath.Join(t.TempDir(), "web.yml")
	if err := os.WriteFile(configFile, fmt.Appendf(nil, "basic_auth_users:\n  prometheus: %s\n", hash), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newClock()
	s := newTestStore(c, 1000)
	succeed(s, farmResult(inventory.FullScan, c.Now()))
	addr := freeAddress(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, newTestHandler(s), ServerConfig{ListenAddresses: []string{addr}, ConfigFile: configFile},
			slog.New(slog.DiscardHandler))
	}()
	waitListening(t, addr)

	tests := []struct {
		name, user, password string
		status               int
	}{
		{"no credentials", "", "", http.StatusUnauthorized},
		{"wrong password", "prometheus", "guess", http.StatusUnauthorized},
		{"right password", "prometheus", "s3cret", http.StatusOK},
	}
	for _, tt := range tests {
		if got := get(t, "http://"+addr+"/-/ready", tt.user, tt.password); got != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, got, tt.status)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}

func TestServeFailures(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	badConfig := filepath.Join(t.TempDir(), "web.yml")
	if err := os.WriteFile(badConfig, []byte("basic_auth_users: [not, a, map]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  ServerConfig
	}{
		{"no listen address", ServerConfig{}},
		{"address in use", ServerConfig{ListenAddresses: []string{busy.Addr().String()}}},
		{"missing web config file", ServerConfig{ListenAddresses: []string{freeAddress(t)}, ConfigFile: "/nonexistent/web.yml"}},
		{"invalid web config file", ServerConfig{ListenAddresses: []string{freeAddress(t)}, ConfigFile: badConfig}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			err := Serve(ctx, http.NotFoundHandler(), tt.cfg, slog.New(slog.DiscardHandler))
			if err == nil || ctx.Err() != nil {
				t.Errorf("Serve = %v (context: %v), want an immediate error", err, ctx.Err())
			}
		})
	}
}
