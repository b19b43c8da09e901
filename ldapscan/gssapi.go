package ldapscan

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/spnaudit/spnaudit/krb"
)

// Kerberos authenticates with SASL GSSAPI through a krb.Client: the SASL
// security layer is installed between go-ldap and the transport (above TLS),
// and on TLS connections the bind carries the tls-server-end-point channel
// binding of the server's certificate.
type Kerberos struct {
	Client *krb.Client
	// ServicePrincipal is the LDAP service principal of the DC, used for
	// every URL; empty means ldap/<host of the URL> (and of the Global
	// Catalog), which is right when ldap.urls name DCs by their FQDN.
	ServicePrincipal string
}

// Bind implements Authenticator.
func (k Kerberos) Bind(ctx context.Context, t *Transport, layer krb.Layer) (*ldap.Conn, error) {
	if k.Client == nil {
		return nil, errors.New("kerberos: no client")
	}
	var binding []byte
	if t.TLS != nil {
		if len(t.TLS.PeerCertificates) == 0 {
			return nil, errors.New("channel binding: the TLS server sent no certificate")
		}
		var err error
		if binding, err = krb.TLSServerEndPoint(t.TLS.PeerCertificates[0]); err != nil {
			return nil, err
		}
	}
	spn := k.ServicePrincipal
	if spn == "" {
		spn = "ldap/" + t.Host
	}
	opts := krb.GSSAPIOptions{Layer: layer, ChannelBinding: binding}
	if deadline, ok := ctx.Deadline(); ok {
		opts.Timeout = time.Until(deadline)
	}
	sasl := krb.NewSASLConn(t.Conn)
	lc := t.Start(sasl)
	g := k.Client.NewGSSAPI(ctx, opts)
	if err := lc.GSSAPIBindRequest(g, &ldap.GSSAPIBindRequest{ServicePrincipalName: spn}); err != nil {
		lc.Close()
		return nil, fmt.Errorf("GSSAPI bind as %s to %s: %w", k.Client.Principal(), spn, err)
	}
	if err := sasl.Install(g); err != nil {
		lc.Close()
		return nil, err
	}
	return lc, nil
}
