package krb

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/spnaudit/spnaudit/internal/labtest"
	"github.com/spnaudit/spnaudit/lab"
)

// labEnv describes the lab DC (internal/labtest) as these tests use it.
type labEnv struct {
	realm, kdc, principal, keytab, passwordFile, addr, spn, canary string
}

// requireLab returns the shared lab DC through require (labtest.Require, or
// labtest.RequireDC for a test that reads nothing of OU=Farm): skipped without
// root or Samba, a failure under CI=true.
func requireLab(t *testing.T, require func(testing.TB) *lab.Lab) labEnv {
	t.Helper()
	l := require(t)
	return labEnv{
		realm: lab.Realm, kdc: "127.0.0.1", principal: lab.AuditUser,
		keytab: l.Keytab(), passwordFile: l.PasswordFile(), addr: lab.DCHost,
		spn: lab.ServicePrincipal(),
		// An SPN of the lab's IIS farm scenario, looked for on the wire.
		canary: "HTTP/svnlb301.corp.example.test",
	}
}

func (e labEnv) client(t *testing.T, cfg Config) *Client {
	t.Helper()
	cfg.Realm, cfg.Principal, cfg.KDCs = e.realm, e.principal, []string{e.kdc}
	c, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// recordingConn keeps a copy of every byte that crosses the socket.
type recordingConn struct {
	net.Conn
	mu            sync.Mutex
	sent, arrived bytes.Buffer
}

func (r *recordingConn) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	r.mu.Lock()
	r.arrived.Write(p[:n])
	r.mu.Unlock()
	return n, err
}

func (r *recordingConn) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.sent.Write(p)
	r.mu.Unlock()
	return r.Conn.Write(p)
}

func (r *recordingConn) wire() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append(append([]byte{}, r.sent.Bytes()...), r.arrived.Bytes()...)
}

// transport is how the test reaches the DC.
type transport int

const (
	plainLDAP transport = iota
	ldaps
	startTLS
)

// bindLab dials the lab DC, binds with layer and returns the LDAP
// connection and the recorder under it.
func bindLab(t *testing.T, e labEnv, c *Client, tr transport, layer Layer) (*ldap.Conn, *recordingConn, error) {
	t.Helper()
	port := "389"
	if tr == ldaps {
		port = "636"
	}
	raw, err := net.DialTimeout("tcp", net.JoinHostPort(e.addr, port), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recordingConn{Conn: raw}
	// The lab's certificate is self-signed; these tests are about binding.
	tlsConfig := &tls.Config{InsecureSkipVerify: true}
	var under net.Conn = rec
	if tr == ldaps {
		tc := tls.Client(rec, tlsConfig)
		if err := tc.HandshakeContext(context.Background()); err != nil {
			t.Fatal(err)
		}
		under = tc
	}
	sc := NewSASLConn(under)
	lc := ldap.NewConn(sc, tr == ldaps)
	lc.Start()
	t.Cleanup(func() { lc.Close() })
	if tr == startTLS {
		if err := lc.StartTLS(tlsConfig); err != nil {
			t.Fatal(err)
		}
	}
	var cbt []byte
	if cs, ok := lc.TLSConnectionState(); ok {
		if cbt, err = TLSServerEndPoint(cs.PeerCertificates[0]); err != nil {
			t.Fatal(err)
		}
	}
	g := c.NewGSSAPI(t.Context(), GSSAPIOptions{Layer: layer, ChannelBinding: cbt})
	if err := lc.GSSAPIBindRequest(g, &ldap.GSSAPIBindRequest{ServicePrincipalName: e.spn}); err != nil {
		return nil, rec, err
	}
	if err := sc.Install(g); err != nil {
		t.Fatal(err)
	}
	return lc, rec, nil
}

// searchLab reads the rootDSE and every SPN; it returns the SPNs.
func searchLab(t *testing.T, lc *ldap.Conn) []string {
	t.Helper()
	root, err := lc.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 10, false,
		"(objectClass=*)", []string{"defaultNamingContext", "dnsHostName"}, nil))
	if err != nil {
		t.Fatalf("rootDSE: %v", err)
	}
	base := root.Entries[0].GetAttributeValue("defaultNamingContext")
	if base == "" {
		t.Fatal("rootDSE has no defaultNamingContext")
	}
	res, err := lc.SearchWithPaging(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 30, false,
		"(servicePrincipalName=*)", []string{"servicePrincipalName"}, nil), 100)
	if err != nil {
		t.Fatalf("SPN search: %v", err)
	}
	var spns []string
	for _, en := range res.Entries {
		spns = append(spns, en.GetAttributeValues("servicePrincipalName")...)
	}
	if len(spns) == 0 {
		t.Fatal("no SPN found")
	}
	return spns
}

func TestLabBindLayers(t *testing.T) {
	e := requireLab(t, labtest.Require)
	c := e.client(t, Config{KeytabFile: e.keytab})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Login(ctx); err != nil {
		t.Fatal(err)
	}
	// Samba's default "ldap server require strong auth = yes" refuses SASL
	// without sign or seal even over TLS, and refuses sign or seal over TLS
	// (source4/ldap_server/ldap_bind.c): GSSAPI over LDAPS needs
	// allow_sasl_over_tls, which the lab does not set.
	overTLSNone := uint16(ldap.LDAPResultStrongAuthRequired)
	for _, tc := range []struct {
		name  string
		tr    transport
		layer Layer
		want  uint16 // LDAP result of the bind
	}{
		{"ldap none", plainLDAP, None, ldap.LDAPResultStrongAuthRequired},
		{"ldap sign", plainLDAP, Sign, ldap.LDAPResultSuccess},
		{"ldap seal", plainLDAP, Seal, ldap.LDAPResultSuccess},
		{"ldaps none", ldaps, None, overTLSNone},
		{"ldaps sign", ldaps, Sign, ldap.LDAPResultUnwillingToPerform},
		{"starttls none", startTLS, None, overTLSNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lc, rec, err := bindLab(t, e, c, tc.tr, tc.layer)
			if tc.want != ldap.LDAPResultSuccess {
				if !ldap.IsErrorWithCode(err, tc.want) {
					t.Fatalf("bind: got %v, want LDAP result %d", err, tc.want)
				}
				t.Logf("refused as expected: %v", err)
				return
			}
			if err != nil {
				t.Fatalf("bind: %v", err)
			}
			spns := searchLab(t, lc)
			if e.canary == "" || tc.tr != plainLDAP {
				return
			}
			if !contains(spns, e.canary) {
				t.Fatalf("canary SPN %q not in directory", e.canary)
			}
			onWire := bytes.Contains(rec.wire(), []byte(e.canary))
			if tc.layer == Seal && onWire {
				t.Fatalf("canary SPN crossed the wire in clear with seal")
			}
			if tc.layer == Sign && !onWire {
				t.Fatalf("canary SPN not visible with sign: the capture is not seeing the traffic")
			}
		})
	}
}

func TestLabPasswordLogin(t *testing.T) {
	e := requireLab(t, labtest.Require)
	c := e.client(t, Config{PasswordFile: e.passwordFile})
	lc, _, err := bindLab(t, e, c, plainLDAP, Seal)
	if err != nil {
		t.Fatal(err)
	}
	searchLab(t, lc)
	if c.TGTExpiry().Before(time.Now()) {
		t.Fatalf("TGT expiry %v is in the past", c.TGTExpiry())
	}
}

func TestLabErrors(t *testing.T) {
	e := requireLab(t, labtest.Require)
	wrongPw := t.TempDir() + "/pw"
	if err := os.WriteFile(wrongPw, []byte("not-the-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		spn  string
		want Kind
	}{
		{"wrong password", Config{Realm: e.realm, Principal: e.principal, PasswordFile: wrongPw, KDCs: []string{e.kdc}}, "", KindBadCredentials},
		{"unknown principal", Config{Realm: e.realm, Principal: "nosuchuser", PasswordFile: wrongPw, KDCs: []string{e.kdc}}, "", KindUnknownClient},
		{"missing keytab", Config{Realm: e.realm, Principal: e.principal, KeytabFile: "/nonexistent/k.keytab", KDCs: []string{e.kdc}}, "", KindKeytab},
		{"keytab of someone else", Config{Realm: e.realm, Principal: "administrator", KeytabFile: e.keytab, KDCs: []string{e.kdc}}, "", KindKeytab},
		{"unreachable KDC", Config{Realm: e.realm, Principal: e.principal, KeytabFile: e.keytab, KDCs: []string{"127.0.0.1:1"}}, "", KindKDCUnreachable},
		// With a keytab, New refuses a realm its keys are not for; the KDC's
		// answer is seen with a password.
		{"unknown realm", Config{Realm: "NO.SUCH.REALM", Principal: e.principal, PasswordFile: e.passwordFile, Krb5ConfFile: writeKrb5Conf(t, e)}, "", KindUnknownRealm},
		{"keytab for another realm", Config{Realm: "NO.SUCH.REALM", Principal: e.principal, KeytabFile: e.keytab, Krb5ConfFile: writeKrb5Conf(t, e)}, "", KindKeytab},
		{"unknown service", Config{Realm: e.realm, Principal: e.principal, KeytabFile: e.keytab, KDCs: []string{e.kdc}}, "ldap/nosuchhost.invalid", KindUnknownService},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.cfg, nil)
			if err == nil {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if tc.spn == "" {
					err = c.Login(ctx)
				} else {
					_, err = c.serviceTicket(ctx, tc.spn)
				}
			}
			if !IsKind(err, tc.want) {
				t.Fatalf("got %v, want kind %d", err, tc.want)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || strings.Contains(msg, "not-the-password") || !strings.Contains(msg, "fix:") {
				t.Fatalf("error is not one clean line with a fix: %q", msg)
			}
			t.Log(msg)
		})
	}
}

// writeKrb5Conf writes a krb5.conf that knows only the lab realm.
func writeKrb5Conf(t *testing.T, e labEnv) string {
	p := t.TempDir() + "/krb5.conf"
	if err := os.WriteFile(p, []byte(buildKrb5Conf(e.realm, []string{e.kdc})), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
