package krb

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	gocrypto "github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/types"
)

var wrapETypes = []int32{
	etypeID.AES128_CTS_HMAC_SHA1_96, etypeID.AES256_CTS_HMAC_SHA1_96,
	etypeID.AES128_CTS_HMAC_SHA256_128, etypeID.AES256_CTS_HMAC_SHA384_192,
}

func randomKey(t testing.TB, et int32) types.EncryptionKey {
	t.Helper()
	e, err := gocrypto.GetEtype(et)
	if err != nil {
		t.Fatal(err)
	}
	k := make([]byte, keySize(e))
	rand.Read(k)
	return types.EncryptionKey{KeyType: et, KeyValue: k}
}

// newPair returns the two ends of one context, as the AP exchange leaves
// them: the initiator's subkey, optionally an acceptor subkey, and each
// side's initial sequence number.
func newPair(t testing.TB, et int32, acceptorSubkey bool) (ini, acc *securityContext) {
	t.Helper()
	ik := randomKey(t, et)
	ini = &securityContext{initiator: true, initiatorKey: ik, sendSeq: 1000, recvSeq: 5000}
	acc = &securityContext{initiator: false, initiatorKey: ik, sendSeq: 5000, recvSeq: 1000}
	if acceptorSubkey {
		ak := randomKey(t, et)
		ini.acceptorKey, acc.acceptorKey = &ak, &ak
	}
	return ini, acc
}

func TestWrapRoundTrip(t *testing.T) {
	payloads := [][]byte{{}, []byte("x"), bytes.Repeat([]byte("servicePrincipalName "), 300)}
	for _, et := range wrapETypes {
		for _, sub := range []bool{false, true} {
			for _, seal := range []bool{false, true} {
				t.Run(fmt.Sprintf("etype%d/acceptorSubkey=%v/seal=%v", et, sub, seal), func(t *testing.T) {
					ini, acc := newPair(t, et, sub)
					for _, p := range payloads {
						for _, dir := range []struct {
							name     string
							from, to *securityContext
						}{{"initiator->acceptor", ini, acc}, {"acceptor->initiator", acc, ini}} {
							tok, err := dir.from.wrap(p, seal)
							if err != nil {
								t.Fatal(err)
							}
							if seal && len(p) > 8 && bytes.Contains(tok, p[:9]) {
								t.Fatalf("%s: sealed token shows the payload", dir.name)
							}
							if !seal && !bytes.Contains(tok, p) {
								t.Fatalf("%s: signed token should carry the payload in clear", dir.name)
							}
							got, sealed, err := dir.to.unwrap(tok)
							if err != nil {
								t.Fatalf("%s: %v", dir.name, err)
							}
							if sealed != seal || !bytes.Equal(got, p) {
								t.Fatalf("%s: got %q sealed=%v", dir.name, got, sealed)
							}
						}
					}
				})
			}
		}
	}
}

// rotate re-emits token with its body rotated right by rrc, as Windows does.
func rotate(token []byte, rrc int) []byte {
	body := token[wrapHeaderLen:]
	r := rrc % len(body)
	out := append([]byte{}, token[:wrapHeaderLen]...)
	binary.BigEndian.PutUint16(out[6:], uint16(rrc))
	return append(append(out, body[len(body)-r:]...), body[:len(body)-r]...)
}

func TestUnwrapRotated(t *testing.T) {
	for _, seal := range []bool{false, true} {
		for _, rrc := range []int{0, 12, 28, 1000} {
			t.Run(fmt.Sprintf("seal=%v/rrc=%d", seal, rrc), func(t *testing.T) {
				ini, acc := newPair(t, etypeID.AES256_CTS_HMAC_SHA1_96, true)
				tok, err := acc.wrap([]byte("rotated payload"), seal)
				if err != nil {
					t.Fatal(err)
				}
				got, _, err := ini.unwrap(rotate(tok, rrc))
				if err != nil || string(got) != "rotated payload" {
					t.Fatalf("got %q, %v", got, err)
				}
			})
		}
	}
}

// sealWithFiller builds a sealed token the way Windows does, with EC filler
// bytes and RRC = EC + checksum length, independently of wrap.
func sealWithFiller(t *testing.T, from *securityContext, payload []byte, ec int) []byte {
	t.Helper()
	key, flags := from.sendKey()
	e, _ := gocrypto.GetEtype(key.KeyType)
	hdr := []byte{0x05, 0x04, flags | flagSealed | flagSentByAcceptor, 0xFF, 0, byte(ec), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint64(hdr[8:], from.sendSeq)
	plain := append(append(append([]byte{}, payload...), make([]byte, ec)...), hdr...)
	_, ct, err := e.EncryptMessage(key.KeyValue, plain, 22)
	if err != nil {
		t.Fatal(err)
	}
	from.sendSeq++
	return rotate(append(hdr, ct...), ec+e.GetHMACBitLength()/8)
}

func TestUnwrapFillerAndRRC(t *testing.T) {
	ini, acc := newPair(t, etypeID.AES256_CTS_HMAC_SHA1_96, true)
	tok := sealWithFiller(t, acc, []byte("windows style"), 16)
	if rrc := binary.BigEndian.Uint16(tok[6:]); rrc != 28 {
		t.Fatalf("test token has RRC %d, want 28", rrc)
	}
	got, sealed, err := ini.unwrap(tok)
	if err != nil || !sealed || string(got) != "windows style" {
		t.Fatalf("got %q sealed=%v err=%v", got, sealed, err)
	}
}

func TestUnwrapRejects(t *testing.T) {
	for _, seal := range []bool{false, true} {
		mk := func(t *testing.T) (*securityContext, []byte) {
			ini, acc := newPair(t, etypeID.AES128_CTS_HMAC_SHA1_96, true)
			tok, err := acc.wrap([]byte("directory data"), seal)
			if err != nil {
				t.Fatal(err)
			}
			return ini, tok
		}
		for _, tc := range []struct {
			name   string
			tamper func(tok []byte) []byte
		}{
			{"flipped payload or ciphertext byte", func(b []byte) []byte { b[wrapHeaderLen+2] ^= 1; return b }},
			{"flipped checksum byte", func(b []byte) []byte { b[len(b)-1] ^= 1; return b }},
			{"changed sequence number", func(b []byte) []byte { b[15] ^= 1; return b }},
			{"cleared acceptor subkey flag", func(b []byte) []byte { b[2] &^= flagAcceptorSubkey; return b }},
			{"reflected (initiator flag)", func(b []byte) []byte { b[2] &^= flagSentByAcceptor; return b }},
			{"bad token ID", func(b []byte) []byte { b[0] = 0x04; return b }},
			{"bad filler", func(b []byte) []byte { b[3] = 0; return b }},
			{"truncated", func(b []byte) []byte { return b[:len(b)-5] }},
			{"header only", func(b []byte) []byte { return b[:wrapHeaderLen] }},
			{"short", func(b []byte) []byte { return b[:7] }},
		} {
			t.Run(fmt.Sprintf("seal=%v/%s", seal, tc.name), func(t *testing.T) {
				ini, tok := mk(t)
				if _, _, err := ini.unwrap(tc.tamper(tok)); err == nil {
					t.Fatal("tampered token accepted")
				}
			})
		}
		t.Run(fmt.Sprintf("seal=%v/untampered control", seal), func(t *testing.T) {
			ini, tok := mk(t)
			if _, _, err := ini.unwrap(tok); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("sealed flag cleared", func(t *testing.T) {
		ini, acc := newPair(t, etypeID.AES128_CTS_HMAC_SHA1_96, false)
		tok, _ := acc.wrap([]byte("directory data"), true)
		tok[2] &^= flagSealed
		if _, _, err := ini.unwrap(tok); err == nil {
			t.Fatal("accepted")
		}
	})
}

func TestUnwrapSequence(t *testing.T) {
	ini, acc := newPair(t, etypeID.AES256_CTS_HMAC_SHA1_96, true)
	var toks [][]byte
	for i := range 3 {
		tok, err := acc.wrap([]byte{byte(i)}, true)
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
	}
	if _, _, err := ini.unwrap(toks[0]); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ini.unwrap(toks[0]); !errors.Is(err, errReplay) {
		t.Fatalf("replay: got %v", err)
	}
	if _, _, err := ini.unwrap(toks[2]); !errors.Is(err, errOutOfOrder) {
		t.Fatalf("skip: got %v", err)
	}
	for i := 1; i < 3; i++ {
		if got, _, err := ini.unwrap(toks[i]); err != nil || got[0] != byte(i) {
			t.Fatalf("token %d: %v %v", i, got, err)
		}
	}
}

func TestWrapRefusesRC4(t *testing.T) {
	ctx := &securityContext{initiator: true, initiatorKey: types.EncryptionKey{KeyType: etypeID.RC4_HMAC, KeyValue: make([]byte, 16)}}
	_, err := ctx.wrap([]byte("x"), true)
	if !IsKind(err, KindEncType) {
		t.Fatalf("got %v, want KindEncType", err)
	}
}

// BenchmarkWrapUnwrap measures a sealed or signed round trip of a 16 KiB
// LDAP message (a typical search result page fragment).
func BenchmarkWrapUnwrap(b *testing.B) {
	msg := bytes.Repeat([]byte("s"), 16<<10)
	for _, seal := range []bool{false, true} {
		b.Run(fmt.Sprintf("seal=%v", seal), func(b *testing.B) {
			ini, acc := newPair(b, etypeID.AES256_CTS_HMAC_SHA1_96, true)
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				tok, err := acc.wrap(msg, seal)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := ini.unwrap(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestUnwrapInitiatorKeyAfterAcceptorSubkey: once the acceptor has asserted
// a subkey, a token protected with the initiator's subkey is refused even
// though its checksum is right (RFC 4121 section 2), in both directions.
func TestUnwrapInitiatorKeyAfterAcceptorSubkey(t *testing.T) {
	for _, seal := range []bool{false, true} {
		for _, fromAcceptor := range []bool{true, false} {
			t.Run(fmt.Sprintf("seal=%v/from acceptor=%v", seal, fromAcceptor), func(t *testing.T) {
				ini, acc := newPair(t, etypeID.AES256_CTS_HMAC_SHA1_96, true)
				from, to := acc, ini
				if !fromAcceptor {
					from, to = ini, acc
				}
				stale := *from
				stale.acceptorKey = nil // protects with the initiator's subkey
				tok, err := stale.wrap([]byte("directory data"), seal)
				if err != nil {
					t.Fatal(err)
				}
				control := *to
				control.acceptorKey = nil
				if _, _, err := control.unwrap(tok); err != nil {
					t.Fatalf("control: a context without acceptor subkey refuses the token: %v", err)
				}
				if _, _, err := to.unwrap(tok); !errors.Is(err, errInitiatorKeyAfterSubkey) {
					t.Fatalf("got %v, want %v", err, errInitiatorKeyAfterSubkey)
				}
			})
		}
	}
}

// TestUnwrapExRefuses: GSS_WrapEx is taken only where MS-KILE 3.4.5.4.1
// defines it here: sealed tokens under an AES-SHA1 key.
func TestUnwrapExRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		et   int32
		seal bool
	}{
		{"signed only", etypeID.AES256_CTS_HMAC_SHA1_96, false},
		{"RFC 8009 enctype", etypeID.AES256_CTS_HMAC_SHA384_192, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ini, acc := newPair(t, tc.et, true)
			tok, err := acc.wrap([]byte("stub"), tc.seal)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ini.unwrapEx(tok, []byte("hdr"), []byte("trl")); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
