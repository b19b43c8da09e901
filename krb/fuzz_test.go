package krb

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/types"
)

// fuzzPair is a context pair with fixed keys, so that seeds stay valid.
func fuzzPair(et int32, size int) (ini, acc *securityContext) {
	ik := types.EncryptionKey{KeyType: et, KeyValue: bytes.Repeat([]byte{7}, size)}
	ak := types.EncryptionKey{KeyType: et, KeyValue: bytes.Repeat([]byte{9}, size)}
	ini = &securityContext{initiator: true, initiatorKey: ik, acceptorKey: &ak, recvSeq: 5}
	acc = &securityContext{initiatorKey: ik, acceptorKey: &ak, sendSeq: 5}
	return ini, acc
}

// FuzzUnwrap feeds arbitrary server tokens to the initiator: it must never
// panic, and whatever it accepts must have been produced with the key.
func FuzzUnwrap(f *testing.F) {
	_, acc := fuzzPair(etypeID.AES256_CTS_HMAC_SHA1_96, 32)
	for _, seal := range []bool{false, true} {
		for _, p := range [][]byte{nil, []byte("0\x84\x00\x00\x00\x05searchResDone")} {
			acc.sendSeq = 5
			tok, err := acc.wrap(p, seal)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(tok)
			f.Add(rotate(tok, 28))
		}
	}
	f.Add([]byte{0x05, 0x04, 0x07, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 5})
	f.Fuzz(func(t *testing.T, token []byte) {
		ini, _ := fuzzPair(etypeID.AES256_CTS_HMAC_SHA1_96, 32)
		payload, _, err := ini.unwrap(token)
		if err == nil && ini.recvSeq != 6 {
			t.Fatalf("accepted %x (payload %q) without consuming a sequence number", token, payload)
		}
	})
}

// FuzzSASLConnRead feeds arbitrary bytes to an installed SASLConn: Read must
// return data or an error, never panic or spin.
func FuzzSASLConnRead(f *testing.F) {
	_, acc := fuzzPair(etypeID.AES128_CTS_HMAC_SHA1_96, 16)
	tok, _ := acc.wrap([]byte("result"), true)
	f.Add(append(binary.BigEndian.AppendUint32(nil, uint32(len(tok))), tok...))
	f.Add([]byte{0xFF, 0xFF, 0xFF, 0xFF})
	f.Add([]byte{0, 0, 0, 1, 0})
	f.Fuzz(func(t *testing.T, wire []byte) {
		ini, _ := fuzzPair(etypeID.AES128_CTS_HMAC_SHA1_96, 16)
		client, server := net.Pipe()
		defer client.Close()
		go func() {
			server.Write(wire)
			server.Close()
		}()
		sc := NewSASLConn(client)
		sc.layer.Store(&layerState{ctx: ini, seal: true, maxPlain: 1024})
		buf := make([]byte, 512)
		for range 1000 {
			if _, err := sc.Read(buf); err != nil {
				return
			}
		}
		t.Fatal("Read never ended")
	})
}

// FuzzParseKRB5Token checks the context token parser on arbitrary input.
func FuzzParseKRB5Token(f *testing.F) {
	f.Add(krb5Token(apRepTokenID, []byte("rep")))
	f.Add(krb5Token(apReqTokenID, bytes.Repeat([]byte{1}, 300)))
	f.Add([]byte{0x60, 0x84, 0xFF, 0xFF, 0xFF, 0xFF})
	f.Fuzz(func(t *testing.T, b []byte) {
		tokID, msg, err := parseKRB5Token(b)
		if err == nil && (len(tokID) != 2 || !bytes.Equal(krb5Token(tokID, msg), b)) {
			t.Fatalf("parse of %x does not round-trip", b)
		}
	})
}
