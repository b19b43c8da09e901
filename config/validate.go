package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/spnaudit/spnaudit/audit"
)

// Validate checks a configuration built without Load (tests, embedding) the
// way Load does, including that the files it names are readable.
func Validate(c *Config) error {
	var ps problems
	validate(c, false, &ps)
	if len(ps.list) > 0 {
		return ps.list
	}
	return nil
}

// validate checks c; offline (see Options.Offline) drops the requirement to
// set the connection keys.
func validate(c *Config, offline bool, ps *problems) {
	validateLDAP(c, offline, ps)
	validateKerberos(&c.Kerberos, offline, ps)
	validateScan(c, ps)
	validateAudit(&c.Audit, ps)
	validateFarms(c.Farms, ps)
	validateIIS(&c.IIS, ps)
	if c.Metrics.MaxFindingSeries < 0 {
		ps.add("metrics.max_finding_series", "%d is negative; write 0 to export no per-finding series, or a limit such as 1000", c.Metrics.MaxFindingSeries)
	}
	validateListen(c.Web.ListenAddress, ps)
	validateState(&c.State, ps)
	checkFile("web.config_file", c.Web.ConfigFile, ps)
	oneOf("log.level", c.Log.Level, []string{"debug", "info", "warn", "error"}, ps)
	oneOf("log.format", c.Log.Format, []string{"logfmt", "json"}, ps)
}

func validateLDAP(c *Config, offline bool, ps *problems) {
	l := &c.LDAP
	if len(l.URLs) == 0 && !offline {
		ps.add("ldap.urls", "not set; list your domain controllers, e.g. [ldaps://dc1.example.test]")
	}
	anyTLS := l.StartTLS
	for i, raw := range l.URLs {
		key := fmt.Sprintf("ldap.urls[%d]", i)
		u := checkURL(key, raw, l.ServicePrincipal != "", ps)
		if u == nil {
			continue
		}
		if j := slices.IndexFunc(l.URLs[:i], func(s string) bool { return strings.EqualFold(s, raw) }); j >= 0 {
			ps.add(key, "%q is also ldap.urls[%d]; remove one", raw, j)
		}
		if strings.EqualFold(u.Scheme, "ldaps") {
			anyTLS = true
			if l.StartTLS {
				ps.add("ldap.start_tls", "cannot be combined with ldaps:// (%s); use ldap:// URLs with start_tls, or ldaps:// without it", key)
			}
		}
	}
	if l.BaseDN != "" {
		if _, err := ldap.ParseDN(l.BaseDN); err != nil || !strings.Contains(l.BaseDN, "=") {
			ps.add("ldap.base_dn", "%q is not a DN; write e.g. DC=example,DC=test, or leave it empty for every domain of the forest", l.BaseDN)
		}
	}
	if sp := l.ServicePrincipal; sp != "" {
		class, host, ok := strings.Cut(sp, "/")
		if !ok || class == "" || host == "" || strings.ContainsAny(sp, " @") {
			ps.add("ldap.service_principal", "%q is not a service principal; write ldap/dc1.example.test, or leave it empty for ldap/<host of each URL>", sp)
		}
	}
	oneOf("ldap.sasl_security", l.SASLSecurity, []string{"auto", "none", "sign", "seal"}, ps)
	checkPlaintext(l, ps)

	t := &l.TLS
	if (t.CAFile != "" || t.ServerName != "" || t.InsecureSkipVerify) && !anyTLS && len(l.URLs) > 0 {
		ps.add("ldap.tls", "is set but no connection uses TLS; use ldaps:// URLs or set ldap.start_tls: true")
	}
	if checkFile("ldap.tls.ca_file", t.CAFile, ps) && !containsPEMCertificate(t.CAFile) {
		ps.add("ldap.tls.ca_file", "%q holds no PEM certificate; give the CA certificate in PEM form (-----BEGIN CERTIFICATE-----)", t.CAFile)
	}
	if t.InsecureSkipVerify && t.CAFile != "" {
		ps.add("ldap.tls.insecure_skip_verify", "turns off the verification ldap.tls.ca_file is for; remove one of them")
	}
	if t.ServerName != "" && !isHostName(t.ServerName) {
		ps.add("ldap.tls.server_name", "%q is not a host name; write the name in the DC's certificate, e.g. dc1.example.test", t.ServerName)
	}
	// AD answers at most MaxPageSize (default 1000) entries per page whatever
	// is asked; the upper bound only catches typos.
	if l.PageSize < 1 || l.PageSize > 5000 {
		ps.add("ldap.page_size", "%d is out of range; write a number from 1 to 5000 (AD returns at most its MaxPageSize, 1000 by default)", l.PageSize)
	}
	if l.Timeout <= 0 {
		ps.add("ldap.timeout", "%s is not positive; write e.g. 30s", formatDuration(l.Timeout))
	} else if c.Scan.Timeout > 0 && l.Timeout > c.Scan.Timeout {
		ps.add("ldap.timeout", "%s is longer than scan.timeout (%s), which bounds the whole scan; lower ldap.timeout",
			formatDuration(l.Timeout), formatDuration(c.Scan.Timeout))
	}
}

// checkPlaintext refuses sasl_security none on a plain ldap:// URL without
// start_tls unless allow_plaintext says so: nothing then protects the
// directory's answers, and anyone on the path can edit them in flight to
// hide a duplicate or a Kerberoastable account from the audit.
func checkPlaintext(l *LDAP, ps *problems) {
	if !strings.EqualFold(l.SASLSecurity, "none") || l.StartTLS || l.AllowPlaintext {
		return
	}
	for i, raw := range l.URLs {
		if u, err := url.Parse(raw); err == nil && strings.EqualFold(u.Scheme, "ldap") {
			ps.add("ldap.sasl_security", "none over %s (ldap.urls[%d]) leaves the directory's answers unprotected, so they can be edited in flight to hide findings; "+
				"use auto (seals on ldap://), sign or seal, or ldaps:// or start_tls, or set ldap.allow_plaintext: true to accept it", raw, i)
			return
		}
	}
}

// checkURL reports what is wrong with one ldap.urls entry and returns it
// parsed, or nil.
func checkURL(key, raw string, haveServicePrincipal bool, ps *problems) *url.URL {
	if !strings.Contains(raw, "://") {
		ps.add(key, "%q has no scheme; write ldap://%s or ldaps://%s", raw, raw, raw)
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		ps.add(key, "%q is not a URL (%v); write ldap://host[:port] or ldaps://host[:port]", raw, unwrapURLError(err))
		return nil
	}
	if s := strings.ToLower(u.Scheme); s != "ldap" && s != "ldaps" {
		ps.add(key, "%q has scheme %q; use ldap:// or ldaps://", raw, u.Scheme)
		return nil
	}
	if u.Hostname() == "" {
		ps.add(key, "%q has no host; write e.g. %s://dc1.example.test", raw, u.Scheme)
		return nil
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			ps.add(key, "%q has port %s; write a port from 1 to 65535, or none for the default", raw, p)
			return nil
		}
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		ps.add(key, "%q has a user, path or query; write only scheme, host and port, and put a base DN in ldap.base_dn", raw)
		return nil
	}
	if net.ParseIP(u.Hostname()) != nil && !haveServicePrincipal {
		ps.add(key, "%q names an IP address, but Kerberos needs the DC's host name; write %s://dc1.example.test or set ldap.service_principal", raw, u.Scheme)
		return nil
	}
	return u
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

func validateKerberos(k *Kerberos, offline bool, ps *problems) {
	var set []string
	for _, s := range []struct{ key, val string }{
		{"kerberos.keytab", k.Keytab}, {"kerberos.password_file", k.PasswordFile}, {"kerberos.ccache", k.CCache},
	} {
		if s.val != "" {
			set = append(set, s.key)
		}
	}
	switch {
	case len(set) == 0 && !offline:
		ps.add("kerberos", "no credentials; set one of kerberos.keytab, kerberos.password_file or kerberos.ccache")
	case len(set) > 1:
		ps.add("kerberos", "%s are set; keep exactly one credential source", strings.Join(set, " and "))
	}
	if checkFile("kerberos.keytab", k.Keytab, ps) && !isKeytab(k.Keytab) {
		ps.add("kerberos.keytab", "%q is not a keytab (no 0x05 0x02 header); export one with ktpass or ktutil", k.Keytab)
	}
	checkSecretFile("kerberos.password_file", k.PasswordFile, ps)
	if typ, _, ok := strings.Cut(k.CCache, ":"); ok && !strings.Contains(typ, "/") {
		ps.add("kerberos.ccache", "%q is a %s credential cache; only FILE caches are supported: kinit -c FILE:/path and give that path", k.CCache, typ)
	} else {
		checkFile("kerberos.ccache", k.CCache, ps)
	}

	user, realm, hasRealm := strings.Cut(k.Principal, "@")
	switch {
	case k.Principal == "" && (k.Keytab != "" || k.PasswordFile != "") && !offline:
		ps.add("kerberos.principal", "not set; set the audit account, e.g. svc-spnaudit@EXAMPLE.TEST")
	case k.Principal != "" && (user == "" || strings.ContainsAny(k.Principal, " \t") || strings.Contains(realm, "@") || (hasRealm && realm == "")):
		ps.add("kerberos.principal", "%q is not a principal; write user or user@REALM, e.g. svc-spnaudit@EXAMPLE.TEST", k.Principal)
	case hasRealm && !strings.EqualFold(realm, k.Realm):
		ps.add("kerberos.realm", "%q differs from the realm of kerberos.principal (%s); make them equal or drop @%s from the principal", k.Realm, realm, realm)
	}
	switch {
	case k.Realm == "" && k.KRB5Conf == "" && k.CCache == "" && !offline:
		ps.add("kerberos.realm", "not set; set it to the AD DNS domain in upper case, e.g. EXAMPLE.TEST")
	case strings.ContainsAny(k.Realm, " \t@/"):
		ps.add("kerberos.realm", "%q is not a realm; write the AD DNS domain in upper case, e.g. EXAMPLE.TEST", k.Realm)
	}
	checkFile("kerberos.krb5_conf", k.KRB5Conf, ps)
	if k.KRB5Conf != "" && len(k.KDCs) > 0 {
		ps.add("kerberos.kdcs", "is set together with kerberos.krb5_conf; keep one of them")
	}
	for i, kdc := range k.KDCs {
		if !isHostPort(kdc) {
			ps.add(fmt.Sprintf("kerberos.kdcs[%d]", i), "%q is not host or host:port; write e.g. dc1.example.test or dc1.example.test:88", kdc)
		}
	}
}

// defaultKDCs lists the hosts of ldap.urls as KDCs when neither kdcs nor
// krb5_conf is set: every AD domain controller is a KDC.
func defaultKDCs(c *Config) {
	k := &c.Kerberos
	if k.KRB5Conf != "" || len(k.KDCs) > 0 {
		return
	}
	for _, raw := range c.LDAP.URLs {
		if u, err := url.Parse(raw); err == nil && !slices.Contains(k.KDCs, u.Hostname()) {
			k.KDCs = append(k.KDCs, u.Hostname())
		}
	}
}

func validateScan(c *Config, ps *problems) {
	s, def := &c.Scan, Default().Scan
	for _, d := range []struct {
		key            string
		value, example time.Duration
	}{
		{"scan.full_interval", s.FullInterval, def.FullInterval},
		{"scan.poll_interval", s.PollInterval, def.PollInterval},
		{"scan.timeout", s.Timeout, def.Timeout},
	} {
		if d.value <= 0 {
			ps.add(d.key, "%s is not positive; write e.g. %s", formatDuration(d.value), formatDuration(d.example))
		}
	}
	if s.PollInterval > 0 && s.FullInterval > 0 && s.PollInterval >= s.FullInterval {
		ps.add("scan.poll_interval", "%s is not shorter than scan.full_interval (%s); polls run between full scans, so lower it",
			formatDuration(s.PollInterval), formatDuration(s.FullInterval))
	}
}

func validateAudit(a *Audit, ps *problems) {
	if a.MaxPasswordAge <= 0 {
		ps.add("audit.max_password_age", "%s is not positive; write e.g. 365d", formatDuration(a.MaxPasswordAge))
	}
	for i, s := range a.DNSServers {
		if !isHostPort(s) {
			ps.add(fmt.Sprintf("audit.dns_servers[%d]", i), "%q is not host or host:port; write e.g. 10.0.0.10 or dc1.example.test:53", s)
		}
	}
	addErrors(ps, "audit.kdc_default_enctypes", a.KDCDefaultEncTypes.Validate())
	for i, s := range a.Ignore {
		addErrors(ps, fmt.Sprintf("audit.ignore[%d]", i), s.Validate())
	}
}

// addErrors adds one problem per error of err, which may be an errors.Join.
func addErrors(ps *problems, key string, err error) {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			addErrors(ps, key, e)
		}
		return
	}
	if err != nil {
		ps.add(key, "%v", err)
	}
}

// validateFarms leaves each farm to audit and checks what no single farm
// can: that names are unique, as plans and findings are named after them.
func validateFarms(farms []audit.Farm, ps *problems) {
	for i, f := range farms {
		key := fmt.Sprintf("farms[%d]", i)
		if err := f.Validate(); err != nil {
			addErrors(ps, key, err)
			continue
		}
		if j := slices.IndexFunc(farms[:i], func(o audit.Farm) bool { return strings.EqualFold(o.Name, f.Name) }); j >= 0 {
			ps.add(key+".name", "%q is also the name of farms[%d]; give each farm its own name", f.Name, j)
		}
	}
}

func validateListen(addr string, ps *problems) {
	host, port, err := net.SplitHostPort(addr)
	valid := err == nil
	if valid {
		n, err := strconv.Atoi(port)
		validHost := host == "" || isHostName(host) || net.ParseIP(host) != nil
		valid = err == nil && n >= 0 && n <= 65535 && validHost
	}
	if !valid {
		ps.add("web.listen_address", "%q is not host:port; write e.g. :9688 or 127.0.0.1:9688", addr)
	}
}

func oneOf(key, value string, allowed []string, ps *problems) {
	if !slices.Contains(allowed, value) {
		ps.add(key, "%q is not one of %s; use one of them", value, strings.Join(allowed, ", "))
	}
}

// isHostName accepts DNS names and NetBIOS-style short names (letters,
// digits, '-', '_'; labels of 1 to 63).
func isHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

func isHostPort(s string) bool {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return isHostName(s) || net.ParseIP(s) != nil
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 1 && n <= 65535 && (isHostName(host) || net.ParseIP(host) != nil)
}

func validateState(s *State, ps *problems) {
	if s.Dir == "" {
		return // history off
	}
	if s.Retention <= 0 {
		ps.add("state.retention", "%s is not positive; keep the journal for a duration such as 400d", formatDuration(s.Retention))
	}
	if s.MaxChanges < 1 {
		ps.add("state.max_changes", "%d is below 1; bound the journal with a number of entries such as 1000000", s.MaxChanges)
	}
}
