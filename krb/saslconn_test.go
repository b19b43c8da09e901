package krb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
)

// installed returns a SASLConn with a layer installed (as after a bind that
// negotiated seal or sign), the server's end of the pipe under it, and the
// server's security context.
func installed(t *testing.T, seal bool) (*SASLConn, net.Conn, *securityContext) {
	t.Helper()
	ini, acc := newPair(t, etypeID.AES256_CTS_HMAC_SHA1_96, true)
	client, server := net.Pipe()
	t.Cleanup(func() { client.Close(); server.Close() })
	sc := NewSASLConn(client)
	sc.layer.Store(&layerState{ctx: ini, seal: seal, maxPlain: 4096})
	return sc, server, acc
}

func frame(token []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(token))), token...)
}

// readWithin runs one Read and fails the test if it has not returned in d.
func readWithin(t *testing.T, sc *SASLConn, d time.Duration) ([]byte, error) {
	t.Helper()
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b := make([]byte, 256)
		n, err := sc.Read(b)
		done <- result{b[:n], err}
	}()
	select {
	case r := <-done:
		return r.b, r.err
	case <-time.After(d):
		t.Fatalf("Read still blocked after %v", d)
		return nil, nil
	}
}

// TestSASLConnSealDowngrade: on a sealed connection a correctly signed but
// unencrypted frame from the server is refused (it would let directory data
// cross in clear); on a signed connection both kinds are accepted.
func TestSASLConnSealDowngrade(t *testing.T) {
	for _, tc := range []struct {
		layerSeal, frameSeal bool
		want                 error
	}{
		{layerSeal: true, frameSeal: true},
		{layerSeal: true, frameSeal: false, want: errUnsealedFrame},
		{layerSeal: false, frameSeal: false},
		{layerSeal: false, frameSeal: true},
	} {
		t.Run(fmt.Sprintf("layer seal=%v/frame sealed=%v", tc.layerSeal, tc.frameSeal), func(t *testing.T) {
			sc, server, acc := installed(t, tc.layerSeal)
			tok, err := acc.wrap([]byte("searchResEntry"), tc.frameSeal)
			if err != nil {
				t.Fatal(err)
			}
			go server.Write(frame(tok))
			got, err := readWithin(t, sc, 5*time.Second)
			if tc.want == nil {
				if err != nil || string(got) != "searchResEntry" {
					t.Fatalf("got %q, %v", got, err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %q, %v; want %v", got, err, tc.want)
			}
			if _, err := readWithin(t, sc, time.Second); !errors.Is(err, tc.want) {
				t.Fatalf("the connection goes on after a refused frame: %v", err)
			}
		})
	}
}

// TestSASLConnOversizeFrame: a frame header announcing more than the buffer
// we offered (maxReceiveBuffer) is refused at once, without waiting for, or
// buffering, the bytes it announces.
func TestSASLConnOversizeFrame(t *testing.T) {
	for _, size := range []uint32{maxReceiveBuffer + 1, 1 << 31, 0xFFFFFFFF} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			sc, server, _ := installed(t, true)
			go server.Write(binary.BigEndian.AppendUint32(nil, size))
			_, err := readWithin(t, sc, 5*time.Second)
			if !errors.Is(err, errFrameTooLarge) {
				t.Fatalf("got %v, want %v", err, errFrameTooLarge)
			}
			if len(sc.raw) > 4 {
				t.Fatalf("%d bytes buffered for a refused frame", len(sc.raw))
			}
		})
	}
	t.Run("largest allowed header waits for its bytes", func(t *testing.T) {
		sc, server, _ := installed(t, true)
		go server.Write(binary.BigEndian.AppendUint32(nil, maxReceiveBuffer))
		done := make(chan error, 1)
		go func() {
			_, err := sc.Read(make([]byte, 16))
			done <- err
		}()
		select {
		case err := <-done:
			t.Fatalf("a frame of exactly the negotiated size was refused: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
	})
}
