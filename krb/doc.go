// Package krb is spnaudit's Kerberos: it logs in from a keytab, a password
// file or a FILE ccache and stays logged in for months (Client), binds to
// LDAP with SASL GSSAPI (GSSAPI, an ldap.GSSAPIClient), and protects the
// connection afterwards with the RFC 4752 security layers built on RFC 4121
// wrap tokens, signing or sealing (SASLConn). On TLS connections it binds
// the authenticator to the server certificate (TLSServerEndPoint, RFC 5929).
//
// What gokrb5 and go-ldap do not do and this package does by hand: wrap
// tokens with confidentiality, acceptor subkeys and right rotation; the
// SASL layer negotiation and framing; channel bindings in the 0x8003
// checksum; AP-REP verification; TGT lifetimes visible to the caller.
//
// Errors meant for an administrator are *Error values: one line with the
// cause and the fix, never a secret.
package krb
