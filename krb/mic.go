package krb

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
)

var micTokenID = [2]byte{0x04, 0x04}

// verifyMIC checks a MIC token (RFC 4121 section 4.2.6.1) the peer made
// over message, and consumes its sequence number, which MIC and wrap tokens
// share. The SASL layer itself sends only wrap tokens (RFC 4752); verifyMIC
// proves the key choice and key usages shared with unwrap against Windows'
// own MICs (the SPNEGO mechListMICs in testdata/windows).
func (c *securityContext) verifyMIC(message, token []byte) error {
	if len(token) < wrapHeaderLen {
		return errors.New("gssapi: MIC token shorter than its header")
	}
	hdr := token[:wrapHeaderLen]
	if hdr[0] != micTokenID[0] || hdr[1] != micTokenID[1] {
		return fmt.Errorf("gssapi: not a MIC token (token ID %x)", hdr[:2])
	}
	flags := hdr[2]
	for _, b := range hdr[3:8] {
		if b != 0xFF {
			return errors.New("gssapi: MIC token filler is not 0xFF")
		}
	}
	if flags&flagSealed != 0 {
		return errors.New("gssapi: MIC token has the sealed flag")
	}
	if (flags&flagSentByAcceptor != 0) != c.initiator {
		return errors.New("gssapi: MIC token sent in the wrong direction (reflected?)")
	}
	key, err := c.peerKey(flags)
	if err != nil {
		return err
	}
	et, err := supportedEType(key)
	if err != nil {
		return err
	}
	sum := token[wrapHeaderLen:]
	if len(sum) != et.GetHMACBitLength()/8 {
		return fmt.Errorf("gssapi: MIC token checksum is %d bytes, want %d", len(sum), et.GetHMACBitLength()/8)
	}
	u := uint32(keyusage.GSSAPI_ACCEPTOR_SIGN)
	if !c.initiator {
		u = keyusage.GSSAPI_INITIATOR_SIGN
	}
	signed := append(append([]byte{}, message...), hdr...)
	if !et.VerifyChecksum(key.KeyValue, signed, sum, u) {
		return errors.New("gssapi: MIC token failed integrity check")
	}
	return c.consume(binary.BigEndian.Uint64(hdr[8:16]))
}
