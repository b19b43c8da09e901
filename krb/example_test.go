package krb_test

import (
	"context"
	"crypto/tls"
	"log"
	"net"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/spnaudit/spnaudit/krb"
)

// Binding over LDAPS with channel binding and, over plain LDAP, sealing.
func Example() {
	client, err := krb.New(krb.Config{
		Principal:  "spnaudit@CORP.EXAMPLE.TEST",
		KeytabFile: "/etc/spnaudit/spnaudit.keytab",
		KDCs:       []string{"dc1.corp.example.test"},
	}, nil)
	if err != nil {
		log.Fatal(err) // one line: cause and fix
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := client.Login(ctx); err != nil {
		log.Fatal(err)
	}

	useTLS := false
	raw, err := net.DialTimeout("tcp", "dc1.corp.example.test:389", 10*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	var cbt []byte // no channel bindings on plain LDAP
	layer := krb.Seal
	if useTLS {
		tc := tls.Client(raw, &tls.Config{ServerName: "dc1.corp.example.test"})
		if err := tc.HandshakeContext(ctx); err != nil {
			log.Fatal(err)
		}
		if cbt, err = krb.TLSServerEndPoint(tc.ConnectionState().PeerCertificates[0]); err != nil {
			log.Fatal(err)
		}
		raw, layer = tc, krb.None // TLS protects the traffic already
	}

	sc := krb.NewSASLConn(raw) // passes bytes through until Install
	lc := ldap.NewConn(sc, useTLS)
	lc.Start()
	defer lc.Close()
	g := client.NewGSSAPI(ctx, krb.GSSAPIOptions{Layer: layer, ChannelBinding: cbt}) // one per bind
	if err := lc.GSSAPIBindRequestWithAPOptions(g, &ldap.GSSAPIBindRequest{ServicePrincipalName: "ldap/dc1.corp.example.test"}, nil); err != nil {
		log.Fatal(err)
	}
	if err := sc.Install(g); err != nil { // from here on every message is sealed
		log.Fatal(err)
	}
	res, err := lc.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 10, false,
		"(objectClass=*)", []string{"defaultNamingContext"}, nil))
	if err != nil {
		log.Fatal(err)
	}
	log.Println(res.Entries[0].GetAttributeValue("defaultNamingContext"))
}

// GSSAPI is what go-ldap's GSSAPI bind expects.
var _ ldap.GSSAPIClient = (*krb.GSSAPI)(nil)
