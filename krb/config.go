package krb

import (
	"fmt"
	"os"
	"strings"

	krb5config "github.com/jcmturner/gokrb5/v8/config"
)

// Config says who spnaudit is in Kerberos and where its secret lives. Exactly
// one of KeytabFile, PasswordFile and CCacheFile is set. FAST is always
// disabled: AD KDCs do not offer it to ordinary accounts and gokrb5's
// half-implementation only gets in the way.
type Config struct {
	// Realm is the AD DNS domain; it is upper-cased. Optional when Principal
	// is "user@REALM" or when a ccache names the principal.
	Realm string
	// Principal is "user" or "user@REALM".
	Principal string
	// KeytabFile is read at every login, so a rotated keytab is picked up.
	KeytabFile string
	// PasswordFile is read once; its first line is the password.
	PasswordFile string
	// CCacheFile is a FILE ccache kept fresh by someone else (kinit, k5start,
	// sssd); it is reloaded whenever it changes on disk.
	CCacheFile string
	// Krb5ConfFile is a krb5.conf; when empty one is built from Realm and KDCs.
	Krb5ConfFile string
	// KDCs are host or host:port entries used when Krb5ConfFile is empty.
	KDCs []string
}

type source int

const (
	fromKeytab source = iota
	fromPassword
	fromCCache
)

// normalize validates c and returns a copy with user and realm split out.
func (c Config) normalize() (Config, source, string, error) {
	user := c.Principal
	if name, realm, ok := strings.Cut(c.Principal, "@"); ok {
		user = name
		if c.Realm != "" && !strings.EqualFold(c.Realm, realm) {
			return c, 0, "", &Error{Kind: KindConfig,
				Cause: fmt.Sprintf("kerberos.principal is in realm %q but kerberos.realm is %q", realm, c.Realm),
				Fix:   "make them agree, or drop the @REALM part of the principal"}
		}
		c.Realm = realm
	}
	c.Realm = strings.ToUpper(strings.TrimSpace(c.Realm))
	c.Principal = user

	var set []string
	src := fromKeytab
	for _, f := range []struct {
		name, val string
		src       source
	}{{"kerberos.keytab", c.KeytabFile, fromKeytab}, {"kerberos.password_file", c.PasswordFile, fromPassword}, {"kerberos.ccache", c.CCacheFile, fromCCache}} {
		if f.val != "" {
			set = append(set, f.name)
			src = f.src
		}
	}
	if len(set) != 1 {
		return c, 0, "", &Error{Kind: KindConfig,
			Cause: fmt.Sprintf("exactly one credential source is needed, got %d (%s)", len(set), strings.Join(set, ", ")),
			Fix:   "set one of kerberos.keytab, kerberos.password_file or kerberos.ccache"}
	}
	if src != fromCCache && (user == "" || c.Realm == "") {
		return c, 0, "", &Error{Kind: KindConfig,
			Cause: "kerberos.principal and kerberos.realm are required with a keytab or password file",
			Fix:   "set kerberos.principal to user@REALM"}
	}
	if c.Krb5ConfFile == "" && len(c.KDCs) == 0 {
		return c, 0, "", &Error{Kind: KindConfig, Cause: "no KDC configured", Fix: fixRealm}
	}
	return c, src, user, nil
}

// loadKrb5Conf reads Krb5ConfFile or, without one, builds an equivalent
// configuration in memory for realm.
func (c Config) loadKrb5Conf(realm string) (*krb5config.Config, error) {
	if c.Krb5ConfFile != "" {
		b, err := os.ReadFile(c.Krb5ConfFile)
		if err != nil {
			return nil, fileError(KindConfig, "krb5.conf", c.Krb5ConfFile, err)
		}
		conf, err := krb5config.NewFromString(string(b))
		if err != nil {
			return nil, &Error{Kind: KindConfig, Cause: fmt.Sprintf("krb5.conf %q is invalid: %v", c.Krb5ConfFile, err), Fix: "correct the file or use kerberos.kdcs instead", Err: err}
		}
		if conf.LibDefaults.DefaultRealm == "" {
			conf.LibDefaults.DefaultRealm = realm
		}
		return conf, nil
	}
	conf, err := krb5config.NewFromString(buildKrb5Conf(realm, c.KDCs))
	if err != nil {
		return nil, &Error{Kind: KindConfig, Cause: fmt.Sprintf("kerberos.kdcs %q is invalid: %v", c.KDCs, err), Fix: "list KDCs as host or host:port", Err: err}
	}
	return conf, nil
}

// aesEncTypes are the encryption types with RFC 4121 wrap tokens, AD's
// (SHA-1) first.
const aesEncTypes = "aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96 aes256-cts-hmac-sha384-192 aes128-cts-hmac-sha256-128"

// buildKrb5Conf writes the krb5.conf an AD client needs: AES only (RFC 4121
// wrap tokens need it), no DNS guessing, no addresses in tickets (NAT).
func buildKrb5Conf(realm string, kdcs []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[libdefaults]\n default_realm = %s\n dns_lookup_kdc = false\n dns_lookup_realm = false\n noaddresses = true\n udp_preference_limit = 1\n", realm)
	for _, key := range []string{"default_tkt_enctypes", "default_tgs_enctypes", "permitted_enctypes"} {
		fmt.Fprintf(&b, " %s = %s\n", key, aesEncTypes)
	}
	fmt.Fprintf(&b, "[realms]\n %s = {\n", realm)
	for _, k := range kdcs {
		fmt.Fprintf(&b, "  kdc = %s\n", strings.TrimSpace(k))
	}
	b.WriteString(" }\n")
	return b.String()
}
