package krb

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/asn1tools"
	gocrypto "github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/chksumtype"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// Layer is the SASL security layer (RFC 4752 section 3.3) asked of the server.
type Layer int

const (
	// None: no protection after the bind (what LDAPS wants on Windows).
	None Layer = iota
	// Sign: every message integrity protected (LDAP signing).
	Sign
	// Seal: every message encrypted and integrity protected.
	Seal
)

// bit is the layer's RFC 4752 bitmask value.
func (l Layer) bit() byte { return 1 << l }

func (l Layer) String() string {
	switch l {
	case None:
		return "none"
	case Sign:
		return "sign"
	case Seal:
		return "seal"
	}
	return fmt.Sprintf("Layer(%d)", int(l))
}

func layerNames(mask byte) string {
	var names []string
	for l := None; l <= Seal; l++ {
		if mask&l.bit() != 0 {
			names = append(names, l.String())
		}
	}
	if names == nil {
		return "nothing"
	}
	return strings.Join(names, ", ")
}

// GSSAPIOptions configure one bind.
type GSSAPIOptions struct {
	Layer Layer
	// ChannelBinding is TLSServerEndPoint(server leaf certificate) on LDAPS
	// and StartTLS connections, nil on plain LDAP.
	ChannelBinding []byte
	// Timeout bounds the KDC exchange for the service ticket; 30 s if zero.
	Timeout time.Duration
}

// GSSAPI is one Kerberos security context for one LDAP bind; it implements
// go-ldap's ldap.GSSAPIClient. Make a fresh one per connection with
// Client.NewGSSAPI; after a successful bind hand it to SASLConn.Install.
type GSSAPI struct {
	client *Client
	opts   GSSAPIOptions
	// bindCtx is the bind's context: go-ldap's GSSAPIClient methods take
	// none, so NewGSSAPI keeps it for the service-ticket request.
	bindCtx context.Context

	mu sync.Mutex
	// Handshake state, wiped by DeleteSecContext.
	sessionKey types.EncryptionKey
	ctime      time.Time
	cusec      int
	ctx        *securityContext
	// negotiated is the layer agreed in NegotiateSaslAuth, waiting for
	// Install; it survives DeleteSecContext, which go-ldap calls (deferred)
	// before the caller can install it.
	negotiated *layerState
	stage      stage
}

// stage is how far the bind has gone.
type stage int

const (
	stageNew stage = iota
	stageAPReqSent
	stageEstablished
	stageNegotiated
	stageDeleted
)

// NewGSSAPI returns a security context for one bind. Cancelling ctx (or
// its deadline) ends the KDC exchange for the service ticket, which
// opts.Timeout also bounds.
func (c *Client) NewGSSAPI(ctx context.Context, opts GSSAPIOptions) *GSSAPI {
	return &GSSAPI{client: c, opts: opts, bindCtx: ctx}
}

// InitSecContext is InitSecContextWithOptions with no AP options.
func (g *GSSAPI) InitSecContext(target string, token []byte) ([]byte, bool, error) {
	return g.InitSecContextWithOptions(target, token, nil)
}

// InitSecContextWithOptions sends the AP-REQ for the service principal
// target (first call, token nil) and verifies the server's AP-REP (second
// call). Mutual authentication is always required.
func (g *GSSAPI) InitSecContextWithOptions(target string, token []byte, apOptions []int) ([]byte, bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if token == nil {
		return g.apReq(target, apOptions)
	}
	return nil, false, g.apRep(token)
}

func (g *GSSAPI) apReq(target string, apOptions []int) ([]byte, bool, error) {
	if g.stage != stageNew {
		return nil, false, errors.New("gssapi: security context already used; make a new GSSAPI per bind")
	}
	timeout := g.opts.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(g.bindCtx, timeout)
	defer cancel()
	st, err := g.client.serviceTicket(ctx, target)
	if err != nil {
		return nil, false, err
	}
	et, err := supportedEType(st.key)
	if err != nil {
		return nil, false, err
	}
	auth, err := types.NewAuthenticator(st.crealm, st.cname)
	if err != nil {
		return nil, false, err
	}
	if err := auth.GenerateSeqNumberAndSubKey(st.key.KeyType, keySize(et)); err != nil {
		return nil, false, err
	}
	auth.Cksum = types.Checksum{CksumType: chksumtype.GSSAPI, Checksum: gssChecksum(g.opts.Layer, g.opts.ChannelBinding)}
	req, err := messages.NewAPReq(st.ticket, st.key, auth)
	if err != nil {
		return nil, false, err
	}
	types.SetFlag(&req.APOptions, flags.APOptionMutualRequired)
	for _, o := range apOptions {
		types.SetFlag(&req.APOptions, o)
	}
	b, err := req.Marshal()
	if err != nil {
		return nil, false, err
	}
	g.sessionKey, g.ctime, g.cusec = st.key, auth.CTime, auth.Cusec
	g.ctx = &securityContext{initiator: true, initiatorKey: auth.SubKey, sendSeq: uint64(auth.SeqNumber)}
	g.stage = stageAPReqSent
	return krb5Token(apReqTokenID, b), true, nil
}

// gssChecksum builds the RFC 4121 section 4.1.1 authenticator checksum:
// Lgth (16), the channel bindings hash and the context flags, little-endian.
func gssChecksum(layer Layer, channelBinding []byte) []byte {
	f := uint32(gssapi.ContextFlagMutual | gssapi.ContextFlagSequence)
	if layer >= Sign {
		f |= gssapi.ContextFlagInteg
	}
	if layer == Seal {
		f |= gssapi.ContextFlagConf
	}
	b := make([]byte, 24)
	binary.LittleEndian.PutUint32(b, 16)
	copy(b[4:20], bindingsHash(channelBinding))
	binary.LittleEndian.PutUint32(b[20:], f)
	return b
}

var (
	apReqTokenID    = []byte{0x01, 0x00}
	apRepTokenID    = []byte{0x02, 0x00}
	krbErrorTokenID = []byte{0x03, 0x00}
	// krb5OID is the DER encoding of 1.2.840.113554.1.2.2 (RFC 1964).
	krb5OID = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02}
)

// krb5Token frames a Kerberos message as an RFC 2743 initial context token.
func krb5Token(tokID, msg []byte) []byte {
	b := append(append(append([]byte{}, krb5OID...), tokID...), msg...)
	return asn1tools.AddASNAppTag(b, 0)
}

// parseKRB5Token splits an RFC 2743 context token carrying the Kerberos
// mechanism into its 2-byte token ID and Kerberos message.
func parseKRB5Token(b []byte) (tokID, msg []byte, err error) {
	bad := errors.New("gssapi: the server's reply is not a Kerberos GSS token")
	if len(b) < 2 || b[0] != 0x60 {
		return nil, nil, bad
	}
	n, body := int(b[1]), b[2:]
	if n >= 0x80 {
		lenLen := n & 0x7f
		if lenLen == 0 || lenLen > 3 || len(body) < lenLen || body[0] == 0 {
			return nil, nil, bad
		}
		n = 0
		for _, d := range body[:lenLen] {
			n = n<<8 | int(d)
		}
		body = body[lenLen:]
		if n < 0x80 { // DER: the short form was due
			return nil, nil, bad
		}
	}
	if n != len(body) || !bytes.HasPrefix(body, krb5OID) || len(body) < len(krb5OID)+2 {
		return nil, nil, bad
	}
	body = body[len(krb5OID):]
	return body[:2], body[2:], nil
}

func (g *GSSAPI) apRep(token []byte) error {
	if g.stage != stageAPReqSent {
		return errors.New("gssapi: unexpected reply token")
	}
	tokID, msg, err := parseKRB5Token(token)
	if err != nil {
		return err
	}
	var rep messages.APRep
	switch {
	case bytes.Equal(tokID, krbErrorTokenID):
		var krbErr messages.KRBError
		if err := krbErr.Unmarshal(msg); err != nil {
			return fmt.Errorf("gssapi: bad KRB-ERROR from the server: %w", err)
		}
		return classify("the LDAP server refused the Kerberos ticket", krbErr)
	case !bytes.Equal(tokID, apRepTokenID):
		return fmt.Errorf("gssapi: the server's reply is not an AP-REP (token ID %x)", tokID)
	}
	if err := rep.Unmarshal(msg); err != nil {
		return fmt.Errorf("gssapi: bad AP-REP: %w", err)
	}
	plain, err := gocrypto.DecryptEncPart(rep.EncPart, g.sessionKey, keyusage.AP_REP_ENCPART)
	if err != nil {
		return &Error{Kind: KindProtocol, Cause: "mutual authentication failed: the server's AP-REP does not decrypt with the session key", Fix: "the server is not who its SPN claims; check DNS and the SPN", Err: err}
	}
	var part messages.EncAPRepPart
	if err := part.Unmarshal(plain); err != nil {
		return fmt.Errorf("gssapi: bad AP-REP: %w", err)
	}
	if !part.CTime.Equal(g.ctime.Truncate(time.Second)) || part.Cusec != g.cusec {
		return &Error{Kind: KindProtocol, Cause: "mutual authentication failed: the AP-REP does not answer our authenticator", Fix: "retry; if it persists something is replaying traffic"}
	}
	if part.Subkey.KeyType != 0 {
		if _, err := supportedEType(part.Subkey); err != nil {
			return err
		}
		key := part.Subkey
		g.ctx.acceptorKey = &key
	}
	seq, err := seqNumber(part.SequenceNumber)
	if err != nil {
		return err
	}
	g.ctx.recvSeq = uint64(seq)
	g.stage = stageEstablished
	return nil
}

// seqNumber reads the acceptor's initial sequence number as MIT krb5 does
// (decode_seqno, lib/krb5/asn.1/asn1_k_encode.c): RFC 4120 makes it a
// UInt32, but old implementations encode values of 2^31 and above as
// negative INTEGERs ("accepted for interoperability with old
// implementations"), so -2^31 .. 2^32-1 is taken modulo 2^32 and anything
// else is refused. Without this, -2 would become 2^64-2 and the first
// token (sequence 2^32-2) would be refused as a replay.
func seqNumber(v int64) (uint32, error) {
	if v < math.MinInt32 || v > math.MaxUint32 {
		return 0, &Error{Kind: KindProtocol, Cause: fmt.Sprintf("the server's AP-REP carries sequence number %d, outside 32 bits", v), Fix: "report this; the server is not speaking RFC 4120"}
	}
	return uint32(v), nil
}

// NegotiateSaslAuth reads the server's offer of security layers and buffer
// size and answers with the layer asked for in GSSAPIOptions (RFC 4752
// section 3.1). It fails if the server does not offer that layer.
func (g *GSSAPI) NegotiateSaslAuth(token []byte, authzid string) ([]byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stage != stageEstablished {
		return nil, errors.New("gssapi: SASL negotiation before the security context is established")
	}
	offer, _, err := g.ctx.unwrap(token)
	if err != nil {
		return nil, err
	}
	if len(offer) != 4 {
		return nil, fmt.Errorf("gssapi: SASL offer is %d bytes, want 4", len(offer))
	}
	want := g.opts.Layer
	if offer[0]&want.bit() == 0 {
		return nil, &Error{Kind: KindLayerNotOffered,
			Cause: fmt.Sprintf("the LDAP server does not offer the SASL security layer %q (it offers %s)", want, layerNames(offer[0])),
			Fix:   "set ldap.sasl_security to auto, or to a layer the server offers (none over LDAPS on Windows)"}
	}
	if authzid != "" {
		return nil, errors.New("gssapi: spnaudit sends no SASL authorization identity: Windows refuses one that is not exactly the account's DN, and the bind identity is the ticket's")
	}
	peerMax := int(offer[1])<<16 | int(offer[2])<<8 | int(offer[3])
	if want != None {
		over, err := g.ctx.overhead(want == Seal)
		if err != nil {
			return nil, err
		}
		if peerMax <= over {
			return nil, fmt.Errorf("gssapi: server's SASL buffer of %d bytes cannot hold a wrap token", peerMax)
		}
		g.negotiated = &layerState{ctx: g.ctx, seal: want == Seal, maxPlain: peerMax - over}
	}
	// The reply offers the buffer SASLConn accepts, with every layer: RFC
	// 4752 asks for 0 without a layer, but Windows refuses a reply offering
	// less than 0x58 bytes (Samba's client notes "0x58 is the minimum
	// windows accepts" and never sends less), and without a layer there are
	// no wrapped messages for the figure to bound.
	reply := binary.BigEndian.AppendUint32(nil, maxReceiveBuffer)
	reply[0] = want.bit()
	out, err := g.ctx.wrap(reply, false)
	if err != nil {
		return nil, err
	}
	g.stage = stageNegotiated
	return out, nil
}

// DeleteSecContext ends the handshake and forgets its keys. go-ldap calls it
// when GSSAPIBindRequest returns, so a negotiated layer stays available to
// SASLConn.Install.
func (g *GSSAPI) DeleteSecContext() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sessionKey = types.EncryptionKey{}
	g.ctx = nil
	if g.stage != stageNegotiated {
		g.stage = stageDeleted
	}
	return nil
}

// takeLayer hands the negotiated layer over, once; nil with Layer None.
func (g *GSSAPI) takeLayer() (*layerState, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.stage != stageNegotiated:
		return nil, errors.New("gssapi: no security layer to install: the bind did not complete")
	case g.opts.Layer == None:
		return nil, nil
	case g.negotiated == nil:
		return nil, errors.New("gssapi: the security layer was installed already")
	}
	st := g.negotiated
	g.negotiated = nil
	return st, nil
}
