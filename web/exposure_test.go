package web

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWarnIfExposed: serve warns when the findings are reachable beyond
// loopback without TLS or without authentication, naming what is missing,
// and stays quiet on loopback or with both.
func TestWarnIfExposed(t *testing.T) {
	const (
		tlsOnly  = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
		authOnly = "basic_auth_users:\n  prometheus: $2y$10$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG\n"
		mTLS     = tlsOnly + "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n"
	)
	for _, tt := range []struct {
		name       string
		addresses  []string
		webConfig  string // "" for no web.config_file
		wantWarned []string
		wantMissed string // what the warning names
	}{
		{"every interface, plain HTTP", []string{":9688"}, "", []string{":9688"}, "without TLS or authentication"},
		{"0.0.0.0", []string{"0.0.0.0:9688"}, "", []string{"0.0.0.0:9688"}, "without TLS or authentication"},
		{"a host name", []string{"spnaudit.corp.example.test:9688"}, "", []string{"spnaudit.corp.example.test:9688"}, "TLS"},
		{"loopback IPv4", []string{"127.0.0.1:9688"}, "", nil, ""},
		{"loopback IPv6", []string{"[::1]:9688"}, "", nil, ""},
		{"localhost", []string{"localhost:9688"}, "", nil, ""},
		{"only the exposed address", []string{"127.0.0.1:9688", "10.0.0.5:9688"}, "", []string{"10.0.0.5:9688"}, "TLS"},
		{"TLS without authentication", []string{":9688"}, tlsOnly, []string{":9688"}, "without authentication:"},
		{"basic auth without TLS", []string{":9688"}, authOnly, []string{":9688"}, "without TLS:"},
		{"TLS and basic auth", []string{":9688"}, tlsOnly + authOnly, nil, ""},
		{"TLS with verified client certificates", []string{":9688"}, mTLS, nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ServerConfig{ListenAddresses: tt.addresses}
			if tt.webConfig != "" {
				cfg.ConfigFile = filepath.Join(t.TempDir(), "web.yml")
				if err := os.WriteFile(cfg.ConfigFile, []byte(tt.webConfig), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var buf bytes.Buffer
			WarnIfExposed(slog.New(slog.NewTextHandler(&buf, nil)), cfg)
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if buf.Len() == 0 {
				lines = nil
			}
			if len(lines) != len(tt.wantWarned) {
				t.Fatalf("%d warnings, want %d:\n%s", len(lines), len(tt.wantWarned), buf.String())
			}
			for i, line := range lines {
				if !strings.Contains(line, "level=WARN") || !strings.Contains(line, "address="+tt.wantWarned[i]) ||
					!strings.Contains(line, tt.wantMissed) || !strings.Contains(line, "web.config_file") {
					t.Errorf("warning %q; want a WARN for %s naming %q and the fix", line, tt.wantWarned[i], tt.wantMissed)
				}
			}
		})
	}
}
