package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// WriteConfig writes an spnaudit configuration file for the lab to path:
// the DC over plain LDAP (ldap.sasl_security auto seals) and the audit
// account with its keytab and the lab's krb5.conf. set changes keys by dotted
// path; a nil value removes the key. For example, the farm's OU with a
// password file instead of the keytab:
//
//	l.WriteConfig(path, map[string]any{
//		"ldap.base_dn":           "OU=Farm," + lab.BaseDN,
//		"kerberos.keytab":        nil,
//		"kerberos.password_file": l.PasswordFile(),
//	})
func (l *Lab) WriteConfig(path string, set map[string]any) error {
	cfg := map[string]any{
		"ldap": map[string]any{
			"urls": []string{LDAPURL()},
		},
		"kerberos": map[string]any{
			"principal": AuditUser + "@" + Realm,
			"keytab":    l.Keytab(),
			"krb5_conf": l.Krb5Conf(),
		},
	}
	// serve's history beside the configuration, not in the working
	// directory of whoever runs it.
	if abs, err := filepath.Abs(filepath.Join(filepath.Dir(path), "state")); err == nil {
		cfg["state"] = map[string]any{"dir": abs}
	}
	for key, value := range set {
		if err := setKey(cfg, key, value); err != nil {
			return err
		}
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o600)
}

// setKey sets (or, for nil, deletes) the dotted key in the nested maps.
func setKey(cfg map[string]any, key string, value any) error {
	parts := strings.Split(key, ".")
	m := cfg
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p]
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		if m, ok = next.(map[string]any); !ok {
			return fmt.Errorf("config key %s: %s is not a section", key, p)
		}
	}
	last := parts[len(parts)-1]
	if value == nil {
		delete(m, last)
	} else {
		m[last] = value
	}
	return nil
}

// FarmConfig is the farms entry that describes the desired state of the IIS
// farm scenario (scenarios/farm.yaml): the app-pool account holds HTTP/ for
// the VIP and every node, in NetBIOS and DNS form. The account is written
// DOMAIN\name, as IIS stores the pool identity (applicationHost.config
// userName) and as setspn and the AD tools print it, so that
// `spnaudit iis import lab/iis/...` prints exactly this entry; the qualified
// form also stays unambiguous in a forest where another domain has an
// svc_iispool.
func FarmConfig() map[string]any {
	return map[string]any{
		"name":       "intranet",
		"vip":        "svnlb301",
		"nodes":      []string{"svexpgg310", "svexpgg311", "svexpgg312"},
		"dns_suffix": DNSDomain,
		"classes":    []string{"HTTP"},
		"account":    NetBIOS + `\svc_iispool`,
	}
}
