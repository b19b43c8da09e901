// Package config loads spnaudit's configuration from a YAML file, the
// environment (SPNAUDIT_ prefix) and command-line flags, in increasing order of
// precedence over the defaults, and validates it, reporting every problem at
// once with the key concerned and the fix.
package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/spnaudit/spnaudit/audit"
)

// Config is the whole configuration. Farms and suppressions are audit's own
// types, validated by audit, so that what config check accepts is what the
// audit applies. The mapstructure tags are the keys of the
// YAML file; the environment variable of a key is SPNAUDIT_ followed by the
// key in upper case with "." replaced by "_" (ldap.urls: SPNAUDIT_LDAP_URLS).
type Config struct {
	LDAP     LDAP         `mapstructure:"ldap"`
	Kerberos Kerberos     `mapstructure:"kerberos"`
	Scan     Scan         `mapstructure:"scan"`
	Audit    Audit        `mapstructure:"audit"`
	Farms    []audit.Farm `mapstructure:"farms"`
	IIS      IIS          `mapstructure:"iis"`
	Metrics  Metrics      `mapstructure:"metrics"`
	Web      Web          `mapstructure:"web"`
	State    State        `mapstructure:"state"`
	Log      Log          `mapstructure:"log"`
}

// LDAP is how to reach and bind to the domain controllers.
type LDAP struct {
	// URLs are ldap:// or ldaps:// URLs of domain controllers, tried in order.
	URLs     []string `mapstructure:"urls"`
	StartTLS bool     `mapstructure:"start_tls"`
	// BaseDN is empty to read every domain of the forest (and the Global
	// Catalog); set, it restricts the inventory to that naming context.
	BaseDN string `mapstructure:"base_dn"`
	// ServicePrincipal is empty for ldap/<host of each URL> (ldapscan applies it).
	ServicePrincipal string `mapstructure:"service_principal"`
	// SASLSecurity is auto, none, sign or seal (ldapscan.SASLSecurity).
	SASLSecurity string `mapstructure:"sasl_security"`
	// AllowPlaintext accepts sasl_security none over ldap:// without
	// start_tls, where the directory's answers cross the network unprotected.
	AllowPlaintext bool `mapstructure:"allow_plaintext"`
	TLS            TLS  `mapstructure:"tls"`
	PageSize       int  `mapstructure:"page_size"`
	// Timeout bounds each LDAP request.
	Timeout time.Duration `mapstructure:"timeout"`
}

// TLS configures ldaps:// and StartTLS.
type TLS struct {
	CAFile             string `mapstructure:"ca_file"`
	ServerName         string `mapstructure:"server_name"`
	InsecureSkipVerify bool   `mapstructure:"insecure_skip_verify"`
}

// Kerberos is how spnaudit logs in. Exactly one of Keytab, PasswordFile and
// CCache is set after validation.
type Kerberos struct {
	// Realm is upper case. When the file leaves it empty it is taken from
	// Principal's @REALM suffix, if any.
	Realm        string `mapstructure:"realm"`
	Principal    string `mapstructure:"principal"`
	Keytab       string `mapstructure:"keytab"`
	PasswordFile string `mapstructure:"password_file"`
	// CCache is the path of a FILE credential cache, without the "FILE:" prefix.
	CCache   string `mapstructure:"ccache"`
	KRB5Conf string `mapstructure:"krb5_conf"`
	// KDCs are host[:port] entries used when KRB5Conf is empty; when both are
	// empty they default to the hosts of ldap.urls (every AD DC is a KDC).
	KDCs []string `mapstructure:"kdcs"`
}

// Auth names the credential source that is set: "keytab", "password",
// "ccache", or "" when none is.
func (k *Kerberos) Auth() string {
	switch {
	case k.Keytab != "":
		return "keytab"
	case k.PasswordFile != "":
		return "password"
	case k.CCache != "":
		return "ccache"
	}
	return ""
}

// Scan schedules the daemon's scans.
type Scan struct {
	FullInterval time.Duration `mapstructure:"full_interval"`
	PollInterval time.Duration `mapstructure:"poll_interval"`
	// Timeout is the deadline of one scan, full or incremental.
	Timeout time.Duration `mapstructure:"timeout"`
}

// Audit tunes the rules.
type Audit struct {
	MaxPasswordAge time.Duration `mapstructure:"max_password_age"`
	ResolveDNS     bool          `mapstructure:"resolve_dns"`
	// DNSServers are the servers resolve_dns asks ("host" or "host:port");
	// empty means those of /etc/resolv.conf.
	DNSServers []string `mapstructure:"dns_servers"`
	// KDCDefaultEncTypes is what the domain controllers issue to accounts
	// without msDS-SupportedEncryptionTypes: aes (the 2026 RC4 updates) or
	// rc4 (DefaultDomainSupportedEncTypes includes RC4, or no updates).
	KDCDefaultEncTypes audit.KDCDefaultEncTypes `mapstructure:"kdc_default_enctypes"`
	// Ignore entries are validated by audit.Suppression.Validate.
	Ignore []audit.Suppression `mapstructure:"ignore"`
}

// IIS names the IIS configuration files the IIS rules read (package
// iisconfig): applicationHost.config per node as NODE=FILE (or FILE, named by
// its directory), web.config as NODE/SITE[/APP]=FILE, appcmd list config
// /xml output.
type IIS struct {
	ConfigFiles []string `mapstructure:"config_files"`
}

// Metrics tunes the Prometheus exposition.
type Metrics struct {
	MaxFindingSeries int `mapstructure:"max_finding_series"`
}

// Web configures the HTTP listener (prometheus/exporter-toolkit).
type Web struct {
	ListenAddress string `mapstructure:"listen_address"`
	// ConfigFile is an exporter-toolkit web config file (TLS, basic auth).
	ConfigFile string `mapstructure:"config_file"`
}

// State is where serve keeps its history across restarts (the state
// package): first_seen of findings and the journal of SPN changes.
type State struct {
	// Dir is the state directory, relative to the working directory when
	// not absolute; "" turns the history off.
	Dir string `mapstructure:"dir"`
	// Retention drops journal entries older than this.
	Retention time.Duration `mapstructure:"retention"`
	// MaxChanges bounds the journal, oldest entries first.
	MaxChanges int `mapstructure:"max_changes"`
}

// Log configures log/slog.
type Log struct {
	Level  string `mapstructure:"level"`  // debug, info, warn, error
	Format string `mapstructure:"format"` // logfmt, json
}

// Default returns the configuration used for every key that no file,
// environment variable or flag sets.
func Default() Config {
	return Config{
		LDAP: LDAP{
			SASLSecurity: "auto",
			PageSize:     1000,
			Timeout:      30 * time.Second,
		},
		Scan: Scan{
			FullInterval: time.Hour,
			PollInterval: 15 * time.Second,
			Timeout:      10 * time.Minute,
		},
		Audit:   Audit{MaxPasswordAge: 365 * 24 * time.Hour, KDCDefaultEncTypes: audit.KDCDefaultAES},
		Metrics: Metrics{MaxFindingSeries: 1000},
		// 9688 is not a verified free slot of the Prometheus default port
		// allocations; override with web.listen_address if it collides.
		Web: Web{ListenAddress: ":9688"},
		Log: Log{Level: "info", Format: "logfmt"},

		// Beside the working directory; the systemd unit and the
		// Kubernetes example set /var/lib/spnaudit.
		State: State{Dir: "state", Retention: 400 * 24 * time.Hour, MaxChanges: 1_000_000},
	}
}

// Summary describes a valid configuration in one line, without secrets or
// file contents, for `spnaudit config check`.
func (c *Config) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, auth=%s", plural(len(c.LDAP.URLs), "URL"), c.Kerberos.Auth())
	if c.Kerberos.Principal != "" {
		fmt.Fprintf(&b, " as %s", c.Kerberos.Principal)
	}
	if c.Kerberos.Realm != "" {
		fmt.Fprintf(&b, ", realm=%s", c.Kerberos.Realm)
	}
	fmt.Fprintf(&b, ", sasl_security=%s", c.LDAP.SASLSecurity)
	if c.LDAP.StartTLS {
		b.WriteString(", start_tls")
	}
	base := c.LDAP.BaseDN
	if base == "" {
		base = "whole forest"
	}
	fmt.Fprintf(&b, ", base_dn=%s, %s, %s, listen %s",
		base, plural(len(c.Farms), "farm"), plural(len(c.Audit.Ignore), "ignore rule"), c.Web.ListenAddress)
	return b.String()
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
