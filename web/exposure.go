package web

import (
	"log/slog"
	"net"
	"os"
	"strings"

	toolkit "github.com/prometheus/exporter-toolkit/web"
	"go.yaml.in/yaml/v3"
)

// WarnIfExposed logs a warning for each listen address reachable beyond
// loopback that is served without TLS or without authentication: the
// findings name the directory's weakest accounts (Kerberoastable, RC4,
// trusted for delegation), reconnaissance for whoever can read them. It reads
// cfg.ConfigFile, the exporter-toolkit web configuration; a file it cannot
// read or parse is left to Serve, which refuses it.
func WarnIfExposed(logger *slog.Logger, cfg ServerConfig) {
	var wc toolkit.Config
	if cfg.ConfigFile != "" {
		data, err := os.ReadFile(cfg.ConfigFile)
		if err != nil || yaml.Unmarshal(data, &wc) != nil {
			return
		}
	}
	for _, addr := range cfg.ListenAddresses {
		if loopbackOnly(addr) {
			continue
		}
		if missing := missingProtection(&wc); len(missing) > 0 {
			logger.Warn("serving the findings beyond loopback without "+strings.Join(missing, " or ")+
				": anyone who reaches this address can read which accounts are weakest",
				"address", addr,
				"fix", "set web.config_file to an exporter-toolkit web config with tls_server_config and basic_auth_users, or listen on 127.0.0.1")
		}
	}
}

// loopbackOnly reports whether a listen address (host:port) accepts
// connections from this machine only. An empty host listens on every
// interface; a host name other than localhost may resolve anywhere.
func loopbackOnly(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// missingProtection names what the web configuration lacks: TLS, and
// authentication (basic auth users, or client certificates that are
// required and verified).
func missingProtection(wc *toolkit.Config) []string {
	var missing []string
	if !wc.TLSConfig.IsEnabled() {
		missing = append(missing, "TLS")
	}
	if len(wc.Users) == 0 && wc.TLSConfig.ClientAuth != "RequireAndVerifyClientCert" {
		missing = append(missing, "authentication")
	}
	return missing
}
