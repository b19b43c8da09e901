package krb

import (
	"crypto"
	"crypto/md5"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"

	// Register the hashes RFC 5929 may pick so crypto.Hash.New works.
	_ "crypto/sha256"
	_ "crypto/sha512"
)

// TLSServerEndPoint returns the RFC 5929 "tls-server-end-point" channel
// binding data for the server's leaf certificate: the prefix
// "tls-server-end-point:" followed by the certificate hashed with the hash of
// its signature algorithm, SHA-256 when that hash is MD5 or SHA-1.
// Pass it as GSSAPIOptions.ChannelBinding on LDAPS and StartTLS connections.
func TLSServerEndPoint(cert *x509.Certificate) ([]byte, error) {
	if cert == nil || len(cert.Raw) == 0 {
		return nil, errors.New("channel binding: no server certificate")
	}
	h, err := endPointHash(cert.SignatureAlgorithm)
	if err != nil {
		return nil, err
	}
	d := h.New()
	d.Write(cert.Raw)
	return append([]byte("tls-server-end-point:"), d.Sum(nil)...), nil
}

func endPointHash(alg x509.SignatureAlgorithm) (crypto.Hash, error) {
	switch alg {
	case x509.MD5WithRSA, x509.SHA1WithRSA, x509.ECDSAWithSHA1, x509.DSAWithSHA1,
		x509.SHA256WithRSA, x509.ECDSAWithSHA256, x509.SHA256WithRSAPSS, x509.DSAWithSHA256:
		return crypto.SHA256, nil
	case x509.SHA384WithRSA, x509.ECDSAWithSHA384, x509.SHA384WithRSAPSS:
		return crypto.SHA384, nil
	case x509.SHA512WithRSA, x509.ECDSAWithSHA512, x509.SHA512WithRSAPSS:
		return crypto.SHA512, nil
	}
	// Ed25519 and unknown algorithms have no single hash: RFC 5929 leaves the
	// binding undefined, so refuse rather than guess.
	return 0, fmt.Errorf("channel binding: certificate signature algorithm %v has no tls-server-end-point hash", alg)
}

// ChannelBindingHash returns the 16-byte Bnd field of the RFC 4121 GSS
// checksum for a TLS connection whose server presented cert: the MD5 of the
// RFC 2744 gss_channel_bindings_struct with no addresses and the
// tls-server-end-point data as application data.
func ChannelBindingHash(cert *x509.Certificate) ([]byte, error) {
	appData, err := TLSServerEndPoint(cert)
	if err != nil {
		return nil, err
	}
	return bindingsHash(appData), nil
}

// bindingsHash hashes the channel bindings struct as MIT and Windows
// serialise it: five little-endian 32-bit fields (initiator address type and
// length, acceptor address type and length, application data length), the
// zero-length addresses omitted, then the application data. No bindings at
// all (plain LDAP) is sixteen zero bytes, not the hash of an empty struct.
func bindingsHash(appData []byte) []byte {
	if appData == nil {
		return make([]byte, md5.Size)
	}
	buf := make([]byte, 20, 20+len(appData))
	binary.LittleEndian.PutUint32(buf[16:], uint32(len(appData)))
	sum := md5.Sum(append(buf, appData...))
	return sum[:]
}
