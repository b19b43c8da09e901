package ldapscan

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/spnaudit/spnaudit/krb"
)

// testCert returns a server TLS configuration for 127.0.0.1 and the path of
// its certificate as a PEM CA file.
func testCert(t testing.TB) (*tls.Config, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "dc1.corp.example.test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:              []string{"dc1.corp.example.test"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}, caFile
}

// closedAddr is a loopback address where nothing listens.
func closedAddr(t testing.TB) string { return freeAddr(t) }

func TestConnectTLS(t *testing.T) {
	serverTLS, caFile := testCert(t)
	fa := newFakeAD()
	fa.account("svc", "user", "HTTP/web01")
	ldaps := "ldaps://" + fa.serve(t, serverTLS, false)
	startTLS := "ldap://" + fa.serve(t, serverTLS, true)
	plainOnly := "ldap://" + fa.serve(t, nil, false)

	tests := []struct {
		name      string
		url       string
		mutate    func(*Config)
		wantStage Stage // "" means success
	}{
		{"ldaps with CA file", ldaps, func(c *Config) { c.TLS.CAFile = caFile }, ""},
		{"StartTLS with CA file", startTLS, func(c *Config) { c.StartTLS, c.TLS.CAFile = true, caFile }, ""},
		{"server name override", ldaps, func(c *Config) { c.TLS.CAFile, c.TLS.ServerName = caFile, "dc1.corp.example.test" }, ""},
		{"insecure skip verify", ldaps, func(c *Config) { c.TLS.InsecureSkipVerify = true }, ""},
		{"unknown CA", ldaps, nil, StageConnect},
		{"name mismatch", ldaps, func(c *Config) { c.TLS.CAFile, c.TLS.ServerName = caFile, "other.corp.example.test" }, StageConnect},
		{"StartTLS refused", plainOnly, func(c *Config) { c.StartTLS, c.TLS.CAFile = true, caFile }, StageConnect},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := newTestScanner(t, []string{tc.url}, tc.mutate)
			res, err := sc.Scan(context.Background())
			if StageOf(err) != tc.wantStage {
				t.Fatalf("error %v (stage %q), want stage %q", err, StageOf(err), tc.wantStage)
			}
			if tc.wantStage == "" && len(res.Snapshot.Objects) != 1 {
				t.Fatalf("objects = %d, want 1", len(res.Snapshot.Objects))
			}
		})
	}
}

// tlsStateAuth records the transport it is given, then binds anonymously.
type tlsStateAuth struct{ got *Transport }

func (a *tlsStateAuth) Bind(ctx context.Context, t *Transport, layer krb.Layer) (*ldap.Conn, error) {
	a.got = t
	return SimpleBind{}.Bind(ctx, t, layer)
}

// TestAuthenticatorSeesTLSState checks that the authenticator gets the TLS
// state (for channel binding) on StartTLS connections, which go-ldap's own
// StartTLS would hide inside its Conn.
func TestAuthenticatorSeesTLSState(t *testing.T) {
	serverTLS, caFile := testCert(t)
	fa := newFakeAD()
	url := "ldap://" + fa.serve(t, serverTLS, true)
	auth := &tlsStateAuth{}
	sc, err := New(Config{URLs: []string{url}, StartTLS: true, TLS: TLSConfig{CAFile: caFile}, SASLSecurity: SASLNone, Logger: slog.New(slog.DiscardHandler)}, auth)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if _, err := sc.Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if auth.got.TLS == nil || len(auth.got.TLS.PeerCertificates) != 1 || auth.got.TLS.PeerCertificates[0].Subject.CommonName != "dc1.corp.example.test" {
		t.Fatalf("authenticator saw TLS state %+v", auth.got.TLS)
	}
	if _, isTLS := auth.got.Conn.(*tls.Conn); !isTLS || auth.got.Host != "127.0.0.1" || auth.got.URL != url {
		t.Fatalf("transport = %+v", auth.got)
	}
}

func TestFailoverAndBindErrors(t *testing.T) {
	fa := newFakeAD()
	fa.account("svc", "user", "HTTP/web01")
	fa.user, fa.pass = "CN=audit,CN=Users,"+fakeDomainNC, "s3cret"
	good := "ldap://" + fa.serve(t, nil, false)
	down := "ldap://" + closedAddr(t)

	tests := []struct {
		name       string
		urls       []string
		auth       SimpleBind
		wantStage  Stage
		wantServer string
	}{
		{"first server down", []string{down, good}, SimpleBind{fa.user, fa.pass}, "", good},
		{"first server up", []string{good, down}, SimpleBind{fa.user, fa.pass}, "", good},
		{"all down", []string{down, down}, SimpleBind{fa.user, fa.pass}, StageConnect, ""},
		{"wrong password", []string{down, good}, SimpleBind{fa.user, "wrong"}, StageBind, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := New(Config{URLs: tc.urls, SASLSecurity: SASLNone, Timeout: 2 * time.Second, Logger: slog.New(slog.DiscardHandler)}, tc.auth)
			if err != nil {
				t.Fatal(err)
			}
			defer sc.Close()
			res, err := sc.Scan(context.Background())
			if StageOf(err) != tc.wantStage {
				t.Fatalf("error %v (stage %q), want stage %q", err, StageOf(err), tc.wantStage)
			}
			if tc.wantStage != "" {
				if res != nil {
					t.Fatal("a failed scan returned a result")
				}
				return
			}
			if res.Stats.Server != tc.wantServer || res.Snapshot.Server != tc.wantServer || res.Watermark.Server != tc.wantServer {
				t.Fatalf("read from %s, want %s", res.Stats.Server, tc.wantServer)
			}
		})
	}
}

func TestLayerPlan(t *testing.T) {
	tests := []struct {
		policy SASLSecurity
		tls    bool
		want   []krb.Layer
	}{
		{SASLAuto, false, []krb.Layer{krb.Seal}},
		{SASLAuto, true, []krb.Layer{krb.None, krb.Sign}},
		{SASLNone, false, []krb.Layer{krb.None}},
		{SASLSign, true, []krb.Layer{krb.Sign}},
		{SASLSeal, true, []krb.Layer{krb.Seal}},
	}
	for _, tc := range tests {
		if got := layerPlan(tc.policy, tc.tls); !slices.Equal(got, tc.want) {
			t.Errorf("layerPlan(%s, tls=%v) = %v, want %v", tc.policy, tc.tls, got, tc.want)
		}
	}
}

func TestNegotiateLayer(t *testing.T) {
	stronger := &ldap.Error{ResultCode: ldap.LDAPResultStrongAuthRequired, Err: errors.New("strong auth required")}
	refused := &ldap.Error{ResultCode: ldap.LDAPResultInvalidCredentials, Err: errors.New("bad credentials")}
	tests := []struct {
		name      string
		plan      []krb.Layer
		answers   map[krb.Layer]error
		wantLayer krb.Layer
		wantTried []krb.Layer
		wantErr   error
	}{
		{"TLS: no layer accepted", []krb.Layer{krb.None, krb.Sign}, nil, krb.None, []krb.Layer{krb.None}, nil},
		{"TLS: server insists on signing", []krb.Layer{krb.None, krb.Sign},
			map[krb.Layer]error{krb.None: stronger}, krb.Sign, []krb.Layer{krb.None, krb.Sign}, nil},
		{"other errors do not move on", []krb.Layer{krb.None, krb.Sign},
			map[krb.Layer]error{krb.None: refused}, krb.None, []krb.Layer{krb.None}, refused},
		{"last layer refused too", []krb.Layer{krb.None, krb.Sign},
			map[krb.Layer]error{krb.None: stronger, krb.Sign: stronger}, krb.Sign, []krb.Layer{krb.None, krb.Sign}, stronger},
		{"plain LDAP seals", []krb.Layer{krb.Seal}, nil, krb.Seal, []krb.Layer{krb.Seal}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var tried []krb.Layer
			_, layer, err := negotiateLayer(context.Background(), tc.plan, func(_ context.Context, l krb.Layer) (*ldap.Conn, error) {
				tried = append(tried, l)
				return nil, tc.answers[l]
			})
			if !errors.Is(err, tc.wantErr) || layer != tc.wantLayer || !slices.Equal(tried, tc.wantTried) {
				t.Fatalf("got layer %v err %v tried %v; want %v %v %v", layer, err, tried, tc.wantLayer, tc.wantErr, tc.wantTried)
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	dir := t.TempDir()
	badCert := filepath.Join(dir, "bad.pem")
	noCert := filepath.Join(dir, "empty.pem")
	if err := os.WriteFile(badCert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0x03, 0x02, 0x01, 0xff}}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(noCert, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"minimal", Config{URLs: []string{"ldap://dc1"}}, true},
		{"no URL", Config{}, false},
		{"bad scheme", Config{URLs: []string{"http://dc1"}}, false},
		{"no host", Config{URLs: []string{"ldap://:389"}}, false},
		{"StartTLS on ldaps", Config{URLs: []string{"ldaps://dc1"}, StartTLS: true}, false},
		{"bad sasl_security", Config{URLs: []string{"ldap://dc1"}, SASLSecurity: "integrity"}, false},
		{"missing CA file", Config{URLs: []string{"ldaps://dc1"}, TLS: TLSConfig{CAFile: "/nonexistent/ca.pem"}}, false},
		{"CA file without PEM", Config{URLs: []string{"ldaps://dc1"}, TLS: TLSConfig{CAFile: noCert}}, false},
		{"CA certificate Go refuses", Config{URLs: []string{"ldaps://dc1"}, TLS: TLSConfig{CAFile: badCert}}, false},
	}
	for _, tc := range tests {
		_, err := New(tc.cfg, SimpleBind{})
		if (err == nil) != tc.ok {
			t.Errorf("%s: New error = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if tc.cfg.TLS.CAFile == badCert && (err == nil || !strings.Contains(err.Error(), "certificate 1")) {
			t.Errorf("refused certificate not named: %v", err)
		}
	}
}

func TestSimpleBindRefusesLayers(t *testing.T) {
	fa := newFakeAD()
	sc := newTestScanner(t, []string{"ldap://" + fa.serve(t, nil, false)}, func(c *Config) { c.SASLSecurity = SASLAuto })
	_, err := sc.Scan(context.Background())
	if StageOf(err) != StageBind {
		t.Fatalf("simple bind with sasl_security=auto on plain LDAP: error %v, want a bind error", err)
	}
}
