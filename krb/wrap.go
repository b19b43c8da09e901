package krb

import (
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"

	gocrypto "github.com/jcmturner/gokrb5/v8/crypto"
	gocommon "github.com/jcmturner/gokrb5/v8/crypto/common"
	"github.com/jcmturner/gokrb5/v8/crypto/etype"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/types"
)

// RFC 4121 section 4.2.2 token flags and layout.
const (
	flagSentByAcceptor = 0x01
	flagSealed         = 0x02
	flagAcceptorSubkey = 0x04

	wrapHeaderLen = 16
	// confounderLen is the AES block size prepended by RFC 3961 encryption.
	confounderLen = 16
)

var wrapTokenID = [2]byte{0x05, 0x04}

// errReplay and errOutOfOrder report a bad peer sequence number.
var (
	errReplay     = errors.New("gssapi: replayed wrap token (sequence number already seen)")
	errOutOfOrder = errors.New("gssapi: out-of-order wrap token (sequence number skipped)")
)

// securityContext is one side of an established RFC 4121 context: the keys
// agreed in the AP exchange and the sequence numbers of both directions.
// It is not safe for concurrent use; SASLConn serialises it per direction.
type securityContext struct {
	initiator bool
	// initiatorKey is the initiator's authenticator subkey.
	initiatorKey types.EncryptionKey
	// acceptorKey is the acceptor subkey from the AP-REP, when asserted; once
	// it is, both directions use it (RFC 4121 section 2).
	acceptorKey *types.EncryptionKey
	sendSeq     uint64
	recvSeq     uint64
}

// supportedEType returns the etype of key if RFC 4121 wrap tokens are
// defined for it here, and an explanation for the administrator otherwise.
func supportedEType(key types.EncryptionKey) (etype.EType, error) {
	switch key.KeyType {
	case etypeID.AES128_CTS_HMAC_SHA1_96, etypeID.AES256_CTS_HMAC_SHA1_96,
		etypeID.AES128_CTS_HMAC_SHA256_128, etypeID.AES256_CTS_HMAC_SHA384_192:
		return gocrypto.GetEtype(key.KeyType)
	case etypeID.RC4_HMAC, etypeID.RC4_HMAC_EXP:
		return nil, &Error{Kind: KindEncType,
			Cause: "the session key with the LDAP server is RC4-HMAC, whose RFC 4757 tokens spnaudit does not implement",
			Fix:   fixEncType}
	}
	return nil, &Error{Kind: KindEncType, Cause: fmt.Sprintf("the session key with the LDAP server uses unsupported encryption type %d", key.KeyType), Fix: fixEncType}
}

// keySize is the protocol key length of e. gokrb5 reports 24 bytes for
// aes256-cts-hmac-sha384-192, the length of its derived Kc/Ki keys; its base
// key is 32 bytes (RFC 8009).
func keySize(e etype.EType) int {
	if e.GetETypeID() == etypeID.AES256_CTS_HMAC_SHA384_192 {
		return 32
	}
	return e.GetKeyByteSize()
}

func (c *securityContext) sendKey() (types.EncryptionKey, byte) {
	if c.acceptorKey != nil {
		return *c.acceptorKey, flagAcceptorSubkey
	}
	return c.initiatorKey, 0
}

// usage returns the key usage of wrap tokens sent by the initiator or the
// acceptor. Wrap tokens use the SEAL usages with or without confidentiality
// (RFC 4121 section 2; the SIGN usages are for MIC tokens).
func usage(byInitiator bool) uint32 {
	if byInitiator {
		return keyusage.GSSAPI_INITIATOR_SEAL
	}
	return keyusage.GSSAPI_ACCEPTOR_SEAL
}

// overhead returns how many bytes wrapping adds to a payload.
func (c *securityContext) overhead(seal bool) (int, error) {
	key, _ := c.sendKey()
	et, err := supportedEType(key)
	if err != nil {
		return 0, err
	}
	mac := et.GetHMACBitLength() / 8
	if seal {
		return wrapHeaderLen + confounderLen + wrapHeaderLen + mac, nil
	}
	return wrapHeaderLen + mac, nil
}

// wrap protects payload in a wrap token: with seal it is encrypted and
// integrity protected, otherwise only integrity protected. Tokens are sent
// with EC 0 (sealed; AES-CTS needs no padding) and RRC 0.
func (c *securityContext) wrap(payload []byte, seal bool) ([]byte, error) {
	key, flags := c.sendKey()
	et, err := supportedEType(key)
	if err != nil {
		return nil, err
	}
	if !c.initiator {
		flags |= flagSentByAcceptor
	}
	if seal {
		flags |= flagSealed
	}
	hdr := make([]byte, wrapHeaderLen, wrapHeaderLen+len(payload)+64)
	copy(hdr, wrapTokenID[:])
	hdr[2] = flags
	hdr[3] = 0xFF
	binary.BigEndian.PutUint64(hdr[8:], c.sendSeq)
	u := usage(c.initiator)

	var token []byte
	if seal {
		// EC = 0 and RRC = 0 in both the outer header and the encrypted copy.
		plain := make([]byte, 0, len(payload)+wrapHeaderLen)
		plain = append(append(plain, payload...), hdr...)
		_, sealed, err := et.EncryptMessage(key.KeyValue, plain, u)
		if err != nil {
			return nil, fmt.Errorf("gssapi: encrypting wrap token: %w", err)
		}
		token = append(hdr, sealed...)
	} else {
		// The checksum covers payload | header with EC and RRC zero; the EC
		// field then carries the checksum length.
		sum, err := et.GetChecksumHash(key.KeyValue, append(append([]byte{}, payload...), hdr...), u)
		if err != nil {
			return nil, fmt.Errorf("gssapi: checksumming wrap token: %w", err)
		}
		binary.BigEndian.PutUint16(hdr[4:], uint16(len(sum)))
		token = append(append(hdr, payload...), sum...)
	}
	c.sendSeq++
	return token, nil
}

// unwrap verifies a GSS_Wrap token from the peer and returns its payload
// and whether it was sealed. It accepts any EC and RRC (Windows sends RRC
// 28) and requires the peer's sequence numbers to follow on one by one.
func (c *securityContext) unwrap(token []byte) ([]byte, bool, error) {
	return c.open(token, nil)
}

// signOnly is data a GSS_WrapEx token protects without carrying it: DCE/RPC
// packet privacy signs the PDU header before the stub and the sec_trailer
// after it (MS-RPCE 2.2.2.11).
type signOnly struct{ prefix, suffix []byte }

// unwrapEx verifies a sealed token made by Windows' GSS_WrapEx (MS-KILE
// 3.4.5.4.1), whose checksum also covers prefix and suffix, and whose
// trailer is rotated by RRC+EC rather than RRC. spnaudit's LDAP traffic is
// plain GSS_Wrap (unwrap); unwrapEx exists so that the one token parser is
// proven against Windows' DCE/RPC output too (testdata/windows). MS-KILE
// defines GSS_WrapEx for the AES-SHA1 enctypes only.
func (c *securityContext) unwrapEx(token, prefix, suffix []byte) ([]byte, error) {
	payload, _, err := c.open(token, &signOnly{prefix: prefix, suffix: suffix})
	return payload, err
}

// errInitiatorKeyAfterSubkey: RFC 4121 section 2 says that once the acceptor
// has asserted a subkey in its AP-REP, both sides protect every later token
// with it; a token under the initiator's subkey is then a downgrade.
var errInitiatorKeyAfterSubkey = errors.New("gssapi: wrap token under the initiator's subkey after the acceptor asserted its own")

// peerKey returns the key a token with these flags was protected with.
func (c *securityContext) peerKey(flags byte) (types.EncryptionKey, error) {
	switch {
	case flags&flagAcceptorSubkey == 0 && c.acceptorKey != nil:
		return types.EncryptionKey{}, errInitiatorKeyAfterSubkey
	case flags&flagAcceptorSubkey == 0:
		return c.initiatorKey, nil
	case c.acceptorKey == nil:
		return types.EncryptionKey{}, errors.New("gssapi: wrap token uses an acceptor subkey that was never asserted")
	}
	return *c.acceptorKey, nil
}

// open verifies a wrap token: GSS_Wrap with ex nil, GSS_WrapEx otherwise.
func (c *securityContext) open(token []byte, ex *signOnly) ([]byte, bool, error) {
	if len(token) < wrapHeaderLen {
		return nil, false, errors.New("gssapi: wrap token shorter than its header")
	}
	hdr := token[:wrapHeaderLen]
	if hdr[0] != wrapTokenID[0] || hdr[1] != wrapTokenID[1] {
		return nil, false, fmt.Errorf("gssapi: not a wrap token (token ID %x)", hdr[:2])
	}
	flags := hdr[2]
	if hdr[3] != 0xFF {
		return nil, false, errors.New("gssapi: wrap token filler byte is not 0xFF")
	}
	if (flags&flagSentByAcceptor != 0) != c.initiator {
		return nil, false, errors.New("gssapi: wrap token sent in the wrong direction (reflected?)")
	}
	key, err := c.peerKey(flags)
	if err != nil {
		return nil, false, err
	}
	et, err := supportedEType(key)
	if err != nil {
		return nil, false, err
	}
	ec := int(binary.BigEndian.Uint16(hdr[4:6]))
	rrc := int(binary.BigEndian.Uint16(hdr[6:8]))
	seq := binary.BigEndian.Uint64(hdr[8:16])
	sealed := flags&flagSealed != 0
	if ex != nil {
		switch {
		case !sealed:
			return nil, false, errors.New("gssapi: GSS_WrapEx token is not sealed (DCE/RPC integrity uses MIC tokens)")
		case !isRFC3961Simplified(et):
			return nil, false, fmt.Errorf("gssapi: GSS_WrapEx is not defined for encryption type %d", et.GetETypeID())
		}
		rrc += ec
	}
	body := unrotate(token[wrapHeaderLen:], rrc)
	mac := et.GetHMACBitLength() / 8
	u := usage(!c.initiator)

	var payload []byte
	if sealed {
		if len(body) < confounderLen+ec+wrapHeaderLen+mac {
			return nil, false, errors.New("gssapi: sealed wrap token too short")
		}
		var plain []byte
		if ex == nil {
			plain, err = et.DecryptMessage(key.KeyValue, body, u)
		} else {
			plain, err = decryptSignOnly(et, key, body, u, ec, ex)
		}
		if err != nil {
			return nil, false, fmt.Errorf("gssapi: sealed wrap token failed integrity check: %w", err)
		}
		if len(plain) < ec+wrapHeaderLen {
			return nil, false, errors.New("gssapi: sealed wrap token too short after decryption")
		}
		inner := plain[len(plain)-wrapHeaderLen:]
		want := append([]byte{}, hdr...)
		want[6], want[7] = 0, 0 // the encrypted copy carries RRC 0
		if !hmac.Equal(inner, want) {
			return nil, false, errors.New("gssapi: sealed wrap token header does not match its encrypted copy")
		}
		payload = plain[:len(plain)-wrapHeaderLen-ec]
	} else {
		if ec != mac || len(body) < ec {
			return nil, false, fmt.Errorf("gssapi: signed wrap token has checksum length %d, want %d", ec, mac)
		}
		payload = body[:len(body)-ec]
		zeroed := append([]byte{}, hdr...)
		zeroed[4], zeroed[5], zeroed[6], zeroed[7] = 0, 0, 0, 0
		if !et.VerifyChecksum(key.KeyValue, append(append([]byte{}, payload...), zeroed...), body[len(body)-ec:], u) {
			return nil, false, errors.New("gssapi: signed wrap token failed integrity check")
		}
	}
	if err := c.consume(seq); err != nil {
		return nil, false, err
	}
	return payload, sealed, nil
}

// consume accepts the peer's next sequence number.
func (c *securityContext) consume(seq uint64) error {
	switch {
	case seq < c.recvSeq:
		return errReplay
	case seq > c.recvSeq:
		return errOutOfOrder
	}
	c.recvSeq++
	return nil
}

// isRFC3961Simplified reports whether e is one of the AES-SHA1 enctypes,
// whose encryption is RFC 3961's simplified profile: HMAC(Ki, confounder |
// plaintext) beside E(Ke, confounder | plaintext).
func isRFC3961Simplified(e etype.EType) bool {
	id := e.GetETypeID()
	return id == etypeID.AES128_CTS_HMAC_SHA1_96 || id == etypeID.AES256_CTS_HMAC_SHA1_96
}

// decryptSignOnly decrypts a GSS_WrapEx body and checks its HMAC, which
// MS-KILE 3.4.5.4.1 computes over confounder | prefix | payload | suffix |
// filler | header although only confounder | payload | filler | header is
// encrypted. It returns payload | filler | header.
func decryptSignOnly(e etype.EType, key types.EncryptionKey, body []byte, u uint32, ec int, ex *signOnly) ([]byte, error) {
	mac := e.GetHMACBitLength() / 8
	ke, err := e.DeriveKey(key.KeyValue, gocommon.GetUsageKe(u))
	if err != nil {
		return nil, err
	}
	plain, err := e.DecryptData(ke, body[:len(body)-mac])
	if err != nil {
		return nil, err
	}
	conf := e.GetConfounderByteSize()
	if len(plain) < conf+ec+wrapHeaderLen {
		return nil, errors.New("too short")
	}
	split := len(plain) - ec - wrapHeaderLen
	signed := make([]byte, 0, len(plain)+len(ex.prefix)+len(ex.suffix))
	signed = append(signed, plain[:conf]...)
	signed = append(signed, ex.prefix...)
	signed = append(signed, plain[conf:split]...)
	signed = append(signed, ex.suffix...)
	signed = append(signed, plain[split:]...)
	want, err := gocommon.GetIntegrityHash(signed, key.KeyValue, u, e)
	if err != nil {
		return nil, err
	}
	if !hmac.Equal(want, body[len(body)-mac:]) {
		return nil, errors.New("integrity verification failed")
	}
	return plain[conf:], nil
}

// unrotate undoes the sender's right rotation of the bytes after the header
// by rrc (RFC 4121 section 4.2.5).
func unrotate(b []byte, rrc int) []byte {
	if len(b) == 0 {
		return b
	}
	r := rrc % len(b)
	if r == 0 {
		return b
	}
	out := make([]byte, 0, len(b))
	return append(append(out, b[r:]...), b[:r]...)
}
