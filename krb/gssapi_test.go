package krb

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"testing"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/client"
	krb5config "github.com/jcmturner/gokrb5/v8/config"
	gocrypto "github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

const testSPN = "ldap/dc1.corp.example.test"

// testClient returns a Client that already holds a TGT and a service ticket
// for testSPN with sessionKey, so no KDC is needed.
func testClient(t *testing.T, sessionKey types.EncryptionKey) *Client {
	t.Helper()
	now := time.Now()
	valid := ticketTimes{auth: now, start: now, end: now.Add(10 * time.Hour)}
	cname := types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, "auditor")
	return &Client{
		src: fromKeytab, log: slog.New(slog.DiscardHandler), now: time.Now,
		tgt: &heldTGT{cname: cname, crealm: "CORP.EXAMPLE.TEST", times: valid},
		services: map[string]*serviceTicket{testSPN: {
			ticket: messages.Ticket{TktVNO: 5, Realm: "CORP.EXAMPLE.TEST",
				SName:   types.NewPrincipalName(nametype.KRB_NT_SRV_INST, testSPN),
				EncPart: types.EncryptedData{EType: sessionKey.KeyType, KVNO: 1, Cipher: []byte("opaque to the client")}},
			key: sessionKey, times: valid, cname: cname, crealm: "CORP.EXAMPLE.TEST",
		}},
	}
}

// fakeAcceptor is the server side of the AP exchange, written from RFC 4120
// and RFC 4121 with gokrb5's message types.
type fakeAcceptor struct {
	t          *testing.T
	sessionKey types.EncryptionKey
	subkey     types.EncryptionKey
	auth       types.Authenticator
	apOptions  asn1.BitString
	// seq is the acceptor's initial sequence number as put in the AP-REP.
	seq int64
}

func (a *fakeAcceptor) readAPReq(token []byte) {
	tokID, msg, err := parseKRB5Token(token)
	if err != nil || !bytes.Equal(tokID, apReqTokenID) {
		a.t.Fatalf("AP-REQ token: %x %v", tokID, err)
	}
	var req messages.APReq
	if err := req.Unmarshal(msg); err != nil {
		a.t.Fatal(err)
	}
	if err := req.DecryptAuthenticator(a.sessionKey); err != nil {
		a.t.Fatal(err)
	}
	a.auth, a.apOptions = req.Authenticator, req.APOptions
}

// apRep answers with an acceptor subkey and sequence number a.seq.
func (a *fakeAcceptor) apRep(key types.EncryptionKey, cusecDelta int) []byte {
	part := messages.EncAPRepPart{CTime: a.auth.CTime, Cusec: a.auth.Cusec + cusecDelta, Subkey: a.subkey, SequenceNumber: a.seq}
	pb, err := asn1.Marshal(part)
	if err != nil {
		a.t.Fatal(err)
	}
	enc, err := gocrypto.GetEncryptedData(asn1tools.AddASNAppTag(pb, asnAppTag.EncAPRepPart), key, keyusage.AP_REP_ENCPART, 0)
	if err != nil {
		a.t.Fatal(err)
	}
	rb, err := asn1.Marshal(messages.APRep{PVNO: 5, MsgType: 15, EncPart: enc})
	if err != nil {
		a.t.Fatal(err)
	}
	return krb5Token(apRepTokenID, asn1tools.AddASNAppTag(rb, asnAppTag.APREP))
}

// context returns the acceptor's end of the established context.
func (a *fakeAcceptor) context() *securityContext {
	sub := a.subkey
	return &securityContext{initiatorKey: a.auth.SubKey, acceptorKey: &sub, sendSeq: uint64(uint32(a.seq)), recvSeq: uint64(a.auth.SeqNumber)}
}

// establish runs the AP exchange of g against a fake acceptor.
func establish(t *testing.T, opts GSSAPIOptions) (*GSSAPI, *fakeAcceptor) {
	t.Helper()
	g, acc, err := establishSeq(t, opts, 777)
	if err != nil {
		t.Fatalf("AP-REP: %v", err)
	}
	return g, acc
}

// establishSeq is establish with the acceptor's initial sequence number
// seq; it returns the error of the AP-REP.
func establishSeq(t *testing.T, opts GSSAPIOptions, seq int64) (*GSSAPI, *fakeAcceptor, error) {
	t.Helper()
	sk := randomKey(t, etypeID.AES256_CTS_HMAC_SHA1_96)
	g := testClient(t, sk).NewGSSAPI(t.Context(), opts)
	out, more, err := g.InitSecContextWithOptions(testSPN, nil, []int{})
	if err != nil || !more {
		t.Fatalf("AP-REQ: more=%v err=%v", more, err)
	}
	acc := &fakeAcceptor{t: t, sessionKey: sk, subkey: randomKey(t, etypeID.AES256_CTS_HMAC_SHA1_96), seq: seq}
	acc.readAPReq(out)
	out, more, err = g.InitSecContextWithOptions(testSPN, acc.apRep(sk, 0), []int{})
	if err != nil {
		return nil, nil, err
	}
	if more || len(out) != 0 {
		t.Fatalf("AP-REP: out=%x more=%v", out, more)
	}
	return g, acc, nil
}

func TestAPReqChecksum(t *testing.T) {
	cbt, err := TLSServerEndPoint(loadCert(t, "rsa-sha256.pem"))
	if err != nil {
		t.Fatal(err)
	}
	const mutual, sequence, conf, integ = 2, 8, 16, 32
	for _, tc := range []struct {
		name      string
		opts      GSSAPIOptions
		wantFlags uint32
		wantBnd   string
	}{
		{"plain none", GSSAPIOptions{Layer: None}, mutual | sequence, "00000000000000000000000000000000"},
		{"plain sign", GSSAPIOptions{Layer: Sign}, mutual | sequence | integ, "00000000000000000000000000000000"},
		{"plain seal", GSSAPIOptions{Layer: Seal}, mutual | sequence | integ | conf, "00000000000000000000000000000000"},
		// Bnd from TestChannelBindingAgainstOpenSSL.
		{"tls none", GSSAPIOptions{Layer: None, ChannelBinding: cbt}, mutual | sequence, "d8082f9311829d8b8be09fb7da794c28"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, acc := establish(t, tc.opts)
			ck := acc.auth.Cksum
			if ck.CksumType != 0x8003 || len(ck.Checksum) != 24 {
				t.Fatalf("checksum type %#x length %d", ck.CksumType, len(ck.Checksum))
			}
			if l := binary.LittleEndian.Uint32(ck.Checksum); l != 16 {
				t.Errorf("Lgth = %d", l)
			}
			if got := string(mustHex(t, tc.wantBnd)); string(ck.Checksum[4:20]) != got {
				t.Errorf("Bnd = %x, want %s", ck.Checksum[4:20], tc.wantBnd)
			}
			if f := binary.LittleEndian.Uint32(ck.Checksum[20:]); f != tc.wantFlags {
				t.Errorf("flags = %#x, want %#x", f, tc.wantFlags)
			}
			if !types.IsFlagSet(&acc.apOptions, flags.APOptionMutualRequired) {
				t.Error("MutualRequired not set")
			}
			if acc.auth.SubKey.KeyType != etypeID.AES256_CTS_HMAC_SHA1_96 || len(acc.auth.SubKey.KeyValue) != 32 {
				t.Errorf("initiator subkey %d/%d bytes", acc.auth.SubKey.KeyType, len(acc.auth.SubKey.KeyValue))
			}
		})
	}
}

func TestAPRepRejected(t *testing.T) {
	sk := randomKey(t, etypeID.AES256_CTS_HMAC_SHA1_96)
	krbErr := messages.NewKRBError(types.NewPrincipalName(nametype.KRB_NT_SRV_INST, testSPN), "CORP.EXAMPLE.TEST", errorcode.KRB_AP_ERR_SKEW, "")
	skew, err := krbErr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		reply func(a *fakeAcceptor) []byte
		kind  Kind
	}{
		{"wrong key", func(a *fakeAcceptor) []byte { return a.apRep(randomKey(t, etypeID.AES256_CTS_HMAC_SHA1_96), 0) }, KindProtocol},
		{"other authenticator", func(a *fakeAcceptor) []byte { return a.apRep(sk, 1) }, KindProtocol},
		{"KRB-ERROR skew", func(*fakeAcceptor) []byte { return krb5Token(krbErrorTokenID, skew) }, KindClockSkew},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := testClient(t, sk).NewGSSAPI(t.Context(), GSSAPIOptions{Layer: Seal})
			out, _, err := g.InitSecContext(testSPN, nil)
			if err != nil {
				t.Fatal(err)
			}
			acc := &fakeAcceptor{t: t, sessionKey: sk, subkey: randomKey(t, etypeID.AES256_CTS_HMAC_SHA1_96)}
			acc.readAPReq(out)
			if _, _, err := g.InitSecContext(testSPN, tc.reply(acc)); !IsKind(err, tc.kind) {
				t.Fatalf("got %v, want kind %d", err, tc.kind)
			}
		})
	}
}

// TestNegotiateSaslAuth checks the client's answer to the server's layer
// offer: the layer asked for, a receive buffer of at least 0x58 bytes with
// every layer and no authorization identity, which is what Windows accepts
// (Samba's client, source3/libads/sasl.c: "0x58 is the minimum windows
// accepts"; it sends no authzid since Windows refuses a wrong DN).
func TestNegotiateSaslAuth(t *testing.T) {
	for _, tc := range []struct {
		name      string
		layer     Layer
		offer     byte
		authzid   string
		wantErr   Kind
		wantReply []byte
	}{
		{"seal offered", Seal, 0x07, "", -1, []byte{0x04, 0xFF, 0xFF, 0xFF}},
		{"sign offered", Sign, 0x06, "", -1, []byte{0x02, 0xFF, 0xFF, 0xFF}},
		{"none offered", None, 0x01, "", -1, []byte{0x01, 0xFF, 0xFF, 0xFF}},
		{"seal not offered", Seal, 0x03, "", KindLayerNotOffered, nil},
		{"none not offered", None, 0x06, "", KindLayerNotOffered, nil},
		{"authzid refused", Seal, 0x07, "dn:CN=auditor,CN=Users,DC=corp", KindOther, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, acc := establish(t, GSSAPIOptions{Layer: tc.layer})
			actx := acc.context()
			offer, err := actx.wrap([]byte{tc.offer, 0x00, 0x10, 0x00}, false)
			if err != nil {
				t.Fatal(err)
			}
			reply, err := g.NegotiateSaslAuth(offer, tc.authzid)
			if tc.wantErr >= 0 {
				// KindOther: any error (the authzid refusal is for the
				// programmer, not the administrator).
				if err == nil || tc.wantErr != KindOther && !IsKind(err, tc.wantErr) {
					t.Fatalf("got %v, want kind %d", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, sealed, err := actx.unwrap(reply)
			if err != nil || sealed || !bytes.Equal(got, tc.wantReply) {
				t.Fatalf("reply %x sealed=%v err=%v, want %x", got, sealed, err, tc.wantReply)
			}
			if max := int(got[1])<<16 | int(got[2])<<8 | int(got[3]); len(got) != 4 || max < 0x58 {
				t.Fatalf("reply %x: buffer %#x (want >= 0x58), %d bytes of authzid (want none)", got, max, len(got)-4)
			}
		})
	}
}

// TestAPRepSequenceNumber: the acceptor's initial sequence number is a
// UInt32 that some servers encode as a negative INTEGER; it is read modulo
// 2^32 as MIT krb5 does, so the server's first token is accepted, and
// values outside 32 bits are refused.
func TestAPRepSequenceNumber(t *testing.T) {
	for _, tc := range []struct {
		asn1 int64
		want uint64
		ok   bool
	}{
		{777, 777, true},
		{0, 0, true},
		{-2, 0xFFFFFFFE, true},
		{-1, 0xFFFFFFFF, true},
		{math.MinInt32, 0x80000000, true},
		{math.MaxUint32, 0xFFFFFFFF, true},
		{math.MaxUint32 + 1, 0, false},
		{math.MinInt32 - 1, 0, false},
	} {
		t.Run(fmt.Sprint(tc.asn1), func(t *testing.T) {
			g, acc, err := establishSeq(t, GSSAPIOptions{Layer: Seal}, tc.asn1)
			if !tc.ok {
				if !IsKind(err, KindProtocol) {
					t.Fatalf("got %v, want a protocol error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g.ctx.recvSeq != tc.want {
				t.Fatalf("expecting server sequence %#x, want %#x", g.ctx.recvSeq, tc.want)
			}
			actx := acc.context()
			for i := range 2 { // the second crosses 2^32 for -1 and MaxUint32
				offer, err := actx.wrap([]byte{0x07, 0x00, 0x10, 0x00}, false)
				if err != nil {
					t.Fatal(err)
				}
				if _, _, err := g.ctx.unwrap(offer); err != nil {
					t.Fatalf("server token %d with sequence %#x refused: %v", i, actx.sendSeq-1, err)
				}
			}
		})
	}
}

// TestSASLConnAfterBind runs the whole life of a connection: plain bytes
// during the bind, go-ldap's reader blocked in Read when the layer is
// installed, then wrapped traffic both ways split at the server's buffer.
func TestSASLConnAfterBind(t *testing.T) {
	for _, layer := range []Layer{Sign, Seal} {
		t.Run(layer.String(), func(t *testing.T) {
			g, acc := establish(t, GSSAPIOptions{Layer: layer})
			actx := acc.context()
			const serverMax = 4096
			offer, _ := actx.wrap([]byte{0x07, 0, serverMax >> 8, 0}, false)
			reply, err := g.NegotiateSaslAuth(offer, "")
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := actx.unwrap(reply); err != nil {
				t.Fatal(err)
			}
			g.DeleteSecContext() // as GSSAPIBindRequest does before returning

			client, server := net.Pipe()
			defer client.Close()
			defer server.Close()
			sc := NewSASLConn(client)

			go server.Write([]byte("plain bind response"))
			buf := make([]byte, 64)
			if n, err := sc.Read(buf); err != nil || string(buf[:n]) != "plain bind response" {
				t.Fatalf("plain read: %q %v", buf[:n], err)
			}

			type result struct {
				b   []byte
				err error
			}
			blocked := make(chan result)
			go func() {
				b := make([]byte, 64)
				n, err := sc.Read(b)
				blocked <- result{b[:n], err}
			}()
			time.Sleep(20 * time.Millisecond) // let the reader block first
			if err := sc.Install(g); err != nil {
				t.Fatal(err)
			}
			if err := sc.Install(g); err == nil {
				t.Fatal("second Install accepted")
			}
			tok, _ := actx.wrap([]byte("wrapped search result"), layer == Seal)
			frame := binary.BigEndian.AppendUint32(nil, uint32(len(tok)))
			go server.Write(append(frame, tok...))
			if r := <-blocked; r.err != nil || string(r.b) != "wrapped search result" {
				t.Fatalf("read after install: %q %v", r.b, r.err)
			}

			msg := bytes.Repeat([]byte("searchRequest "), 1000)
			go func() { sc.Write(msg) }()
			var got []byte
			for len(got) < len(msg) {
				var hdr [4]byte
				if _, err := io.ReadFull(server, hdr[:]); err != nil {
					t.Fatal(err)
				}
				size := binary.BigEndian.Uint32(hdr[:])
				if size > serverMax {
					t.Fatalf("frame of %d bytes exceeds the server's %d", size, serverMax)
				}
				tok := make([]byte, size)
				if _, err := io.ReadFull(server, tok); err != nil {
					t.Fatal(err)
				}
				if layer == Seal && bytes.Contains(tok, []byte("searchRequest")) {
					t.Fatal("sealed frame shows the request")
				}
				p, sealed, err := actx.unwrap(tok)
				if err != nil || sealed != (layer == Seal) {
					t.Fatalf("server unwrap: sealed=%v %v", sealed, err)
				}
				got = append(got, p...)
			}
			if !bytes.Equal(got, msg) {
				t.Fatal("request corrupted")
			}
		})
	}
}

func TestInstallMisuse(t *testing.T) {
	sc := NewSASLConn(nil)
	g := testClient(t, randomKey(t, etypeID.AES128_CTS_HMAC_SHA1_96)).NewGSSAPI(t.Context(), GSSAPIOptions{Layer: Seal})
	if err := sc.Install(g); err == nil {
		t.Fatal("Install before the bind accepted")
	}
	g, acc := establish(t, GSSAPIOptions{Layer: None})
	offer, _ := acc.context().wrap([]byte{0x01, 0, 0, 0}, false)
	if _, err := g.NegotiateSaslAuth(offer, ""); err != nil {
		t.Fatal(err)
	}
	if err := sc.Install(g); err != nil || sc.layer.Load() != nil {
		t.Fatalf("Install with layer none: %v, layer %v", err, sc.layer.Load())
	}
	if _, _, err := g.InitSecContext(testSPN, nil); err == nil {
		t.Fatal("a used GSSAPI started a second context")
	}
}

// TestServiceTicketRequestCancelled: the bind's context reaches the KDC
// exchange for the service ticket. The KDC here accepts the connection and
// never answers (gokrb5 itself would wait 5 s per attempt); cancelling the
// bind must end InitSecContext at once with context.Canceled.
func TestServiceTicketRequestCancelled(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go io.Copy(io.Discard, c) // read the TGS-REQ, answer nothing
		}
	}()
	const realm = "CORP.EXAMPLE.TEST"
	conf, err := krb5config.NewFromString(buildKrb5Conf(realm, []string{l.Addr().String()}))
	if err != nil {
		t.Fatal(err)
	}
	sk := randomKey(t, etypeID.AES256_CTS_HMAC_SHA1_96)
	c := testClient(t, sk)
	c.services = map[string]*serviceTicket{} // no cached ticket: ask the KDC
	c.tgt.transport = client.NewWithPassword("auditor", realm, "unused", conf, client.DisablePAFXFAST(true))
	c.tgt.ticket = messages.Ticket{TktVNO: 5, Realm: realm,
		SName:   types.NewPrincipalName(nametype.KRB_NT_SRV_INST, "krbtgt/"+realm),
		EncPart: types.EncryptedData{EType: sk.KeyType, KVNO: 1, Cipher: []byte("opaque to the client")}}
	c.tgt.key = sk

	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, _, err = c.NewGSSAPI(ctx, GSSAPIOptions{Layer: Seal}).InitSecContext(testSPN, nil)
	if took := time.Since(start); !errors.Is(err, context.Canceled) || took > 2*time.Second {
		t.Fatalf("got %v after %v, want context.Canceled soon after 100ms", err, took)
	}
}
