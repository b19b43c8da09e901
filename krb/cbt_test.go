package krb

import (
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"testing"
)

func loadCert(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s: no PEM block", name)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// The expected values were computed with openssl alone, in testdata/:
//
//	endPoint: openssl x509 -in CERT -outform DER | openssl dgst -HASH -r
//	bnd:      { head -c 16 /dev/zero; printf '\x35\x00\x00\x00' (LE32 of 21+hash length: 0x35 for
//	            SHA-256, 0x45 for SHA-384); printf 'tls-server-end-point:';
//	            openssl x509 -in CERT -outform DER | openssl dgst -HASH -binary; } | openssl dgst -md5 -r
func TestChannelBindingAgainstOpenSSL(t *testing.T) {
	for _, tc := range []struct {
		cert, endPoint, bnd string
	}{
		{"rsa-sha256.pem", "c79def6b0bd67729d7abc87b89ff1003399c94118c3df9bbd347a6c22c18bda9", "d8082f9311829d8b8be09fb7da794c28"},
		{"ecdsa-sha384.pem", "96e2343c58353059ec23e450019a2424eac23bfebaa62369ce99e64922cf1535480e136302e01e3ed61bf4316795a239", "0435455047216e0be54e3b310da863e2"},
		// SHA-1 signatures are bound with SHA-256 (RFC 5929 section 4.1).
		{"rsa-sha1.pem", "3a415e3a910f54cb9d3ea7975fdc1a08a6a5873b41d4eac7813efb30cfea89a5", "da75571e76aa3684620b9bbe4cecab15"},
	} {
		t.Run(tc.cert, func(t *testing.T) {
			cert := loadCert(t, tc.cert)
			appData, err := TLSServerEndPoint(cert)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := string(appData), "tls-server-end-point:"+string(mustHex(t, tc.endPoint)); got != want {
				t.Errorf("TLSServerEndPoint = %x, want %x", got, want)
			}
			bnd, err := ChannelBindingHash(cert)
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(bnd); got != tc.bnd {
				t.Errorf("ChannelBindingHash = %s, want %s", got, tc.bnd)
			}
		})
	}
}

func TestChannelBindingRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		cert *x509.Certificate
	}{
		{"nil", nil},
		{"no DER", &x509.Certificate{SignatureAlgorithm: x509.SHA256WithRSA}},
		{"ed25519 has no hash", &x509.Certificate{Raw: []byte{1}, SignatureAlgorithm: x509.PureEd25519}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := TLSServerEndPoint(tc.cert); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

func TestNoBindingsIsZero(t *testing.T) {
	if got := hex.EncodeToString(bindingsHash(nil)); got != "00000000000000000000000000000000" {
		t.Fatalf("no bindings = %s, want 16 zero bytes", got)
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
