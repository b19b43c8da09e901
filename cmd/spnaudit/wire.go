package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/config"
	"github.com/spnaudit/spnaudit/hostdns"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/krb"
	"github.com/spnaudit/spnaudit/ldapscan"
)

// directory is a configured connection to the forest: the Kerberos client
// and the scanner that binds with it.
type directory struct {
	kerberos *krb.Client
	scanner  *ldapscan.Scanner
}

// openDirectory builds the Kerberos client and the scanner from cfg and logs
// in, so that bad credentials fail here with krb's one-line error.
func openDirectory(ctx context.Context, cfg *config.Config, progress func(ldapscan.Progress), logger *slog.Logger) (*directory, error) {
	dir, err := newDirectory(cfg, progress, logger)
	if err != nil {
		return nil, err
	}
	loginCtx, cancel := context.WithTimeout(ctx, cfg.LDAP.Timeout)
	defer cancel()
	if err := dir.kerberos.Login(loginCtx); err != nil {
		return nil, err
	}
	return dir, nil
}

// newDirectory builds the Kerberos client and the scanner from cfg without
// touching the network: what fails here is the configuration (an unreadable
// keytab, a bad URL or CA file), never an outage.
func newDirectory(cfg *config.Config, progress func(ldapscan.Progress), logger *slog.Logger) (*directory, error) {
	kc, err := krb.New(krb.Config{
		Realm:        cfg.Kerberos.Realm,
		Principal:    cfg.Kerberos.Principal,
		KeytabFile:   cfg.Kerberos.Keytab,
		PasswordFile: cfg.Kerberos.PasswordFile,
		CCacheFile:   cfg.Kerberos.CCache,
		Krb5ConfFile: cfg.Kerberos.KRB5Conf,
		KDCs:         cfg.Kerberos.KDCs,
	}, logger)
	if err != nil {
		return nil, err
	}
	sc, err := ldapscan.New(ldapscan.Config{
		URLs:     cfg.LDAP.URLs,
		StartTLS: cfg.LDAP.StartTLS,
		TLS: ldapscan.TLSConfig{
			CAFile:             cfg.LDAP.TLS.CAFile,
			ServerName:         cfg.LDAP.TLS.ServerName,
			InsecureSkipVerify: cfg.LDAP.TLS.InsecureSkipVerify,
		},
		SASLSecurity: ldapscan.SASLSecurity(cfg.LDAP.SASLSecurity),
		BaseDN:       cfg.LDAP.BaseDN,
		PageSize:     uint32(cfg.LDAP.PageSize),
		Timeout:      cfg.LDAP.Timeout,
		Progress:     progress,
		Logger:       logger,
	}, ldapscan.Kerberos{Client: kc, ServicePrincipal: cfg.LDAP.ServicePrincipal})
	if err != nil {
		return nil, err
	}
	return &directory{kerberos: kc, scanner: sc}, nil
}

func (d *directory) Close() error { return d.scanner.Close() }

// auditConfig is the audit's view of cfg; resolved are the DNS answers for
// the snapshot's unvouched host names (nil without audit.resolve_dns).
func auditConfig(cfg *config.Config, resolved map[string]bool) audit.Config {
	return audit.Config{
		MaxPasswordAge:     cfg.Audit.MaxPasswordAge,
		Farms:              cfg.Farms,
		Ignore:             cfg.Audit.Ignore,
		KDCDefaultEncTypes: cfg.Audit.KDCDefaultEncTypes,
		ResolvedHosts:      resolved,
	}
}

// hostResolver resolves, for audit.resolve_dns, the host names the audit
// would report as ghosts (and only those), qualifying NetBIOS names with the
// forest's domains. It implements daemon.HostResolver.
type hostResolver struct {
	cfg *config.Config
	dns *hostdns.Resolver
}

// newHostResolver returns nil when audit.resolve_dns is off.
func newHostResolver(cfg *config.Config) (*hostResolver, error) {
	if !cfg.Audit.ResolveDNS {
		return nil, nil
	}
	r, err := hostdns.New(hostdns.Config{Servers: cfg.Audit.DNSServers, Timeout: min(cfg.LDAP.Timeout, 5*time.Second)})
	if err != nil {
		return nil, err
	}
	return &hostResolver{cfg: cfg, dns: r}, nil
}

func (h *hostResolver) ResolveHosts(ctx context.Context, snap *inventory.Snapshot) (map[string]bool, []string, error) {
	hosts := audit.GhostCandidates(snap, auditConfig(h.cfg, nil))
	search := append([]string{snap.Directory.ForestDNS}, snap.Directory.Domains...)
	answers, err := h.dns.Resolve(ctx, hosts, search)
	if err != nil {
		return nil, nil, err
	}
	return answers.Resolves, answers.Failed, nil
}
