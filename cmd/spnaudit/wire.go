package main

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/config"
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
	loginCtx, cancel := context.WithTimeout(ctx, cfg.LDAP.Timeout)
	defer cancel()
	if err := kc.Login(loginCtx); err != nil {
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

// auditConfig is the audit's view of cfg for a snapshot; with
// audit.resolve_dns on, it resolves the would-be ghost hosts first (the audit
// itself does no I/O).
func auditConfig(ctx context.Context, cfg *config.Config, snap *inventory.Snapshot) audit.Config {
	ac := audit.Config{
		MaxPasswordAge: cfg.Audit.MaxPasswordAge,
		Farms:          cfg.Farms,
		Ignore:         cfg.Audit.Ignore,
	}
	ac.KDCDefaultEncTypes = cfg.Audit.KDCDefaultEncTypes
	if cfg.Audit.ResolveDNS {
		ac.ResolvedHosts = resolveHosts(ctx, audit.GhostCandidates(snap, ac), cfg.LDAP.Timeout)
	}
	return ac
}

// resolveHosts looks the names up concurrently (at most 16 at once), each
// with its own timeout; a name that fails to resolve in time counts as not
// resolving.
func resolveHosts(ctx context.Context, hosts []string, timeout time.Duration) map[string]bool {
	resolved := make(map[string]bool, len(hosts))
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for _, h := range hosts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			lctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			addrs, err := net.DefaultResolver.LookupHost(lctx, h)
			mu.Lock()
			resolved[h] = err == nil && len(addrs) > 0
			mu.Unlock()
		}()
	}
	wg.Wait()
	return resolved
}
