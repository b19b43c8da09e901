package ldapscan

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
)

// Defaults applied by New when a Config field is zero.
const (
	DefaultPageSize = 1000 // AD's MaxPageSize
	DefaultTimeout  = 30 * time.Second
)

// SASLSecurity is the ldap.sasl_security policy: which SASL security layer
// the bind negotiates.
type SASLSecurity string

const (
	SASLAuto SASLSecurity = "auto" // seal on plain LDAP; over TLS none, then sign if the server insists
	SASLNone SASLSecurity = "none"
	SASLSign SASLSecurity = "sign"
	SASLSeal SASLSecurity = "seal"
)

// TLSConfig holds the ldap.tls.* settings.
type TLSConfig struct {
	CAFile             string // PEM bundle; empty means the system roots
	ServerName         string // overrides the host name of the URL for verification
	InsecureSkipVerify bool
}

// Config holds what a Scanner needs to reach and read a directory.
type Config struct {
	// URLs are the domain controllers, ldap:// or ldaps://, tried in order.
	URLs     []string
	StartTLS bool // upgrade ldap:// connections with StartTLS
	TLS      TLSConfig
	// SASLSecurity is passed to the Authenticator per attempt; "" means auto.
	SASLSecurity SASLSecurity
	// BaseDN restricts the inventory to one naming context and disables the
	// Global Catalog; empty means every domain of the forest.
	BaseDN   string
	PageSize uint32        // 0 means DefaultPageSize
	Timeout  time.Duration // per request (dial, bind, each page); 0 means DefaultTimeout
	// Progress, when set, is called after every page of the inventory.
	Progress func(Progress)
	Logger   *slog.Logger // nil means slog.Default()
}

// Progress reports how far a scan has come, for the CLI progress line.
type Progress struct {
	NamingContext string
	Objects       int // entries read so far in this naming context
	Pages         int // pages read so far in this naming context
}

// endpoint is one parsed entry of Config.URLs.
type endpoint struct {
	url  string // as configured, for messages and the watermark
	tls  bool   // ldaps://
	host string
	port string
}

func parseEndpoint(raw string) (endpoint, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return endpoint{}, fmt.Errorf("ldap url %q: %w", raw, err)
	}
	ep := endpoint{url: raw, host: u.Hostname(), port: u.Port()}
	switch strings.ToLower(u.Scheme) {
	case "ldap":
		if ep.port == "" {
			ep.port = "389"
		}
	case "ldaps":
		ep.tls = true
		if ep.port == "" {
			ep.port = "636"
		}
	default:
		return endpoint{}, fmt.Errorf("ldap url %q: scheme must be ldap or ldaps", raw)
	}
	if ep.host == "" {
		return endpoint{}, fmt.Errorf("ldap url %q: missing host", raw)
	}
	return ep, nil
}

// globalCatalog is the Global Catalog on the same host: 3268, or 3269 for TLS.
func (ep endpoint) globalCatalog() endpoint {
	gc := ep
	gc.port = "3268"
	if ep.tls {
		gc.port = "3269"
	}
	scheme := "ldap"
	if ep.tls {
		scheme = "ldaps"
	}
	gc.url = scheme + "://" + net.JoinHostPort(ep.host, gc.port)
	return gc
}

func (ep endpoint) address() string { return net.JoinHostPort(ep.host, ep.port) }

// validate checks the configuration and fills in defaults.
func (c *Config) validate() ([]endpoint, error) {
	if len(c.URLs) == 0 {
		return nil, errors.New("ldap.urls: at least one URL is required")
	}
	var eps []endpoint
	for _, raw := range c.URLs {
		ep, err := parseEndpoint(raw)
		if err != nil {
			return nil, err
		}
		if ep.tls && c.StartTLS {
			return nil, fmt.Errorf("ldap.start_tls: %s is already ldaps://", raw)
		}
		eps = append(eps, ep)
	}
	switch c.SASLSecurity {
	case "":
		c.SASLSecurity = SASLAuto
	case SASLAuto, SASLNone, SASLSign, SASLSeal:
	default:
		return nil, fmt.Errorf("ldap.sasl_security: %q is not one of auto, none, sign, seal", c.SASLSecurity)
	}
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return eps, nil
}

// loadRootCAs reads ldap.tls.ca_file once; nil means the system roots.
func (c *Config) loadRootCAs() (*x509.CertPool, error) {
	if c.TLS.CAFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(c.TLS.CAFile)
	if err != nil {
		return nil, fmt.Errorf("ldap.tls.ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ldap.tls.ca_file %s: no PEM certificate found", c.TLS.CAFile)
	}
	return pool, nil
}

// tlsConfig builds the client TLS configuration for host.
func (c *Config) tlsConfig(host string, roots *x509.CertPool) *tls.Config {
	tc := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         host,
		RootCAs:            roots,
		InsecureSkipVerify: c.TLS.InsecureSkipVerify, //nolint:gosec // explicit, documented opt-in
	}
	if c.TLS.ServerName != "" {
		tc.ServerName = c.TLS.ServerName
	}
	return tc
}
