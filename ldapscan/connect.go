package ldapscan

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/spnaudit/spnaudit/krb"
)

// Transport is a fresh connection to a directory server, before any LDAP
// operation: plain TCP, or TLS for ldaps:// and after StartTLS. A SASL
// security layer is installed above it, so it is handed to the
// Authenticator before go-ldap sees it.
type Transport struct {
	Conn net.Conn
	// TLS is the state of the TLS connection (the server certificate, for
	// channel binding); nil on plain LDAP.
	TLS *tls.ConnectionState
	// URL identifies the server; Host is the host name of the URL (the
	// default service principal is ldap/<Host>).
	URL  string
	Host string
	// GlobalCatalog is set for connections to the Global Catalog port.
	GlobalCatalog bool

	timeout time.Duration
	// wire is what Start gave go-ldap: it lets searchRecords read the
	// inventory's pages itself on the same connection.
	wire *wireConn
}

// Start creates and starts the go-ldap connection over conn, which is
// t.Conn itself or a wrapper around it (a SASL security layer), with the
// configured per-request timeout. go-ldap reads conn through a wireConn.
func (t *Transport) Start(conn net.Conn) *ldap.Conn {
	t.wire = newWireConn(conn)
	lc := ldap.NewConn(t.wire, t.TLS != nil)
	lc.SetTimeout(t.timeout)
	lc.Start()
	return lc
}

// Authenticator binds a fresh transport. Bind starts the LDAP connection
// through t.Start (wrapping t.Conn first if it needs to) and authenticates
// with the given SASL security layer; mechanisms without layers accept only
// krb.None. An answer of strongerAuthRequired must be returned as the
// *ldap.Error the server sent, so the caller can try a stronger layer.
type Authenticator interface {
	Bind(ctx context.Context, t *Transport, layer krb.Layer) (*ldap.Conn, error)
}

// SimpleBind authenticates with an LDAP simple bind, or anonymously when DN
// is empty. Active Directory refuses it on plain LDAP when signing is
// required; it serves tests and directories that allow it over TLS.
type SimpleBind struct {
	DN       string
	Password string
}

// Bind implements Authenticator.
func (a SimpleBind) Bind(_ context.Context, t *Transport, layer krb.Layer) (*ldap.Conn, error) {
	if layer != krb.None {
		return nil, fmt.Errorf("simple bind offers no SASL %s layer: set ldap.sasl_security to none", layer)
	}
	lc := t.Start(t.Conn)
	if a.DN == "" {
		return lc, nil
	}
	if _, err := lc.SimpleBind(&ldap.SimpleBindRequest{Username: a.DN, Password: a.Password}); err != nil {
		lc.Close()
		return nil, err
	}
	return lc, nil
}

// layerPlan lists the layers to try, in order, for a security policy: auto
// seals plain LDAP; over TLS it binds without a layer first (Windows refuses
// layers inside TLS) and signs if the server answers strongerAuthRequired
// (as Samba does).
func layerPlan(policy SASLSecurity, overTLS bool) []krb.Layer {
	switch policy {
	case SASLNone:
		return []krb.Layer{krb.None}
	case SASLSign:
		return []krb.Layer{krb.Sign}
	case SASLSeal:
		return []krb.Layer{krb.Seal}
	}
	if overTLS {
		return []krb.Layer{krb.None, krb.Sign}
	}
	return []krb.Layer{krb.Seal}
}

// negotiateLayer binds with each layer of plan in turn, moving on only when
// the server answers strongerAuthRequired.
func negotiateLayer(ctx context.Context, plan []krb.Layer, bind func(context.Context, krb.Layer) (*ldap.Conn, error)) (*ldap.Conn, krb.Layer, error) {
	var err error
	for _, layer := range plan {
		var lc *ldap.Conn
		lc, err = bind(ctx, layer)
		if err == nil {
			return lc, layer, nil
		}
		if !ldap.IsErrorWithCode(err, ldap.LDAPResultStrongAuthRequired) {
			return nil, layer, err
		}
	}
	return nil, plan[len(plan)-1], err
}

// dial opens a transport to ep: TCP, then TLS for ldaps:// or StartTLS.
func (sc *Scanner) dial(ctx context.Context, ep endpoint, gc bool) (*Transport, error) {
	ctx, cancel := context.WithTimeout(ctx, sc.cfg.Timeout)
	defer cancel()
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", ep.address())
	if err != nil {
		return nil, err
	}
	t := &Transport{Conn: raw, URL: ep.url, Host: ep.host, GlobalCatalog: gc, timeout: sc.cfg.Timeout}
	if !ep.tls && !sc.cfg.StartTLS {
		return t, nil
	}
	if !ep.tls {
		if err := startTLS(ctx, raw); err != nil {
			raw.Close()
			return nil, err
		}
	}
	tc := tls.Client(raw, sc.cfg.tlsConfig(ep.host, sc.roots))
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, fmt.Errorf("TLS handshake: %w", err)
	}
	state := tc.ConnectionState()
	t.Conn, t.TLS = tc, &state
	return t, nil
}

// startTLSOID is the StartTLS extended operation (RFC 4511 4.14).
const startTLSOID = "1.3.6.1.4.1.1466.20037"

// startTLS sends the StartTLS extended request on the raw connection and
// reads the answer, so that TLS, and a SASL layer above it, can be stacked
// before go-ldap takes the connection over.
func startTLS(ctx context.Context, raw net.Conn) error {
	if deadline, ok := ctx.Deadline(); ok {
		if err := raw.SetDeadline(deadline); err != nil {
			return err
		}
	}
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	const messageID = 1
	packet := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Request")
	packet.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, messageID, "MessageID"))
	request := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationExtendedRequest, nil, "Start TLS")
	request.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, startTLSOID, "TLS Extended Command"))
	packet.AppendChild(request)
	if _, err := raw.Write(packet.Bytes()); err != nil {
		return fmt.Errorf("StartTLS request: %w", err)
	}
	// ber.ReadPacket reads exactly one message, leaving the TLS handshake
	// bytes unread on the connection.
	resp, err := ber.ReadPacket(raw)
	if err != nil {
		return fmt.Errorf("StartTLS response: %w", err)
	}
	if err := checkStartTLSResponse(resp, messageID); err != nil {
		return err
	}
	return raw.SetDeadline(time.Time{})
}

func checkStartTLSResponse(resp *ber.Packet, messageID int64) error {
	if len(resp.Children) < 2 {
		return errors.New("StartTLS: malformed response")
	}
	if id, ok := resp.Children[0].Value.(int64); !ok || id != messageID {
		return fmt.Errorf("StartTLS: response to message %v, want %d", resp.Children[0].Value, messageID)
	}
	if op := resp.Children[1]; op.ClassType != ber.ClassApplication || op.Tag != ldap.ApplicationExtendedResponse {
		return fmt.Errorf("StartTLS: unexpected response type %d", op.Tag)
	}
	if err := ldap.GetLDAPError(resp); err != nil {
		return fmt.Errorf("StartTLS refused: %w", err)
	}
	return nil
}
