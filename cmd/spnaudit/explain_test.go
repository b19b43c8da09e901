package main

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/spnaudit/spnaudit/config"
	"github.com/spnaudit/spnaudit/krb"
	"github.com/spnaudit/spnaudit/ldapscan"
)

func TestExplain(t *testing.T) {
	cfg := config.Default()
	refused := func(port int) error {
		return &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port},
			Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
	stage := func(s ldapscan.Stage, server string, err error) error {
		return &ldapscan.Error{Stage: s, Server: server, Err: err}
	}
	dcCert := &x509.Certificate{DNSNames: []string{"dc1.corp.example.test", "dc1"}}
	cnOnly := &x509.Certificate{Subject: pkix.Name{CommonName: "DC1.corp.example.test"}}
	skew := &krb.Error{Kind: krb.KindClockSkew, Cause: "logging in as svc@CORP.EXAMPLE.TEST: clock skew too great", Fix: "synchronise this host's clock"}
	expired, cancel := context.WithDeadline(context.Background(), time.Unix(1, 0))
	defer cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  error
		want string
	}{
		{
			"connection refused",
			context.Background(),
			&ldapscan.Error{Stage: ldapscan.StageConnect, Err: errors.Join(stage(ldapscan.StageConnect, "ldap://dc1:1", refused(1)))},
			"ldap connect ldap://dc1:1: connection refused by 127.0.0.1:1; check ldap.urls: the DC's name and port (389 for ldap://, 636 for ldaps://), and that it is up",
		},
		{
			"every server, the fix once",
			context.Background(),
			&ldapscan.Error{Stage: ldapscan.StageConnect, Err: errors.Join(
				stage(ldapscan.StageConnect, "ldap://dc1:1", refused(1)), stage(ldapscan.StageConnect, "ldap://dc2:2", refused(2)))},
			"ldap connect ldap://dc1:1: connection refused by 127.0.0.1:1; ldap connect ldap://dc2:2: connection refused by 127.0.0.1:2; " +
				"check ldap.urls: the DC's name and port (389 for ldap://, 636 for ldaps://), and that it is up",
		},
		{
			"certificate for another name",
			context.Background(),
			stage(ldapscan.StageConnect, "ldaps://dc1.corp.example.test", fmt.Errorf("TLS handshake: %w", x509.HostnameError{Certificate: dcCert, Host: "wrong.example"})),
			`ldap connect ldaps://dc1.corp.example.test: the DC's certificate is for dc1.corp.example.test, dc1, not "wrong.example"; ` +
				"set ldap.tls.server_name to a name of the certificate, or name the DC that way in ldap.urls",
		},
		{
			"certificate without subjectAltName",
			context.Background(),
			stage(ldapscan.StageConnect, "ldaps://dc1", x509.HostnameError{Certificate: cnOnly, Host: "dc1"}),
			`ldap connect ldaps://dc1: the DC's certificate names its host only in the Common Name ("DC1.corp.example.test"), which Go does not accept; ` +
				"give the DC a certificate with its DNS name as subjectAltName (AD CS's Kerberos Authentication template does)",
		},
		{
			"unknown CA",
			context.Background(),
			stage(ldapscan.StageConnect, "ldaps://dc1", x509.UnknownAuthorityError{}),
			"ldap connect ldaps://dc1: the DC's certificate is not signed by a trusted CA; set ldap.tls.ca_file to the PEM certificate of the CA that issued it",
		},
		{
			"signing required",
			context.Background(),
			stage(ldapscan.StageBind, "ldap://dc1", ldap.NewError(ldap.LDAPResultStrongAuthRequired, errors.New("SASL:[GSSAPI]: Sign or Seal are required."))),
			`ldap bind ldap://dc1: LDAP Result Code 8 "Strong Auth Required": SASL:[GSSAPI]: Sign or Seal are required.; ` +
				"set ldap.sasl_security to auto, sign or seal: the DC requires signing",
		},
		{
			"Samba refuses GSSAPI over TLS",
			context.Background(),
			stage(ldapscan.StageBind, "ldaps://dc1", ldap.NewError(ldap.LDAPResultUnwillingToPerform, errors.New("SASL:[GSSAPI]: Sign or Seal are not allowed if TLS is used"))),
			`ldap bind ldaps://dc1: LDAP Result Code 53 "Unwilling To Perform": SASL:[GSSAPI]: Sign or Seal are not allowed if TLS is used; ` +
				"use ldap:// URLs (ldap.sasl_security auto seals), or set 'ldap server require strong auth = allow_sasl_over_tls' on the Samba DC",
		},
		{
			"no such base",
			context.Background(),
			stage(ldapscan.StageSearch, "ldap://dc1", ldap.NewError(ldap.LDAPResultNoSuchObject, errors.New("0000208D: no such object"))),
			`ldap search ldap://dc1: LDAP Result Code 32 "No Such Object": 0000208D: no such object; check ldap.base_dn, or leave it empty to read the whole forest`,
		},
		{
			"a naming context answered by a referral",
			context.Background(),
			stage(ldapscan.StageReferral, "ldap://dc1:3268", fmt.Errorf(`search "DC=child,DC=corp" answered with a referral to ldap://dc9/DC=child,DC=corp (not followed): %w`,
				ldap.NewError(ldap.LDAPResultReferral, errors.New("0000202B: RefErr")))),
			`ldap referral ldap://dc1:3268: search "DC=child,DC=corp" answered with a referral to ldap://dc9/DC=child,DC=corp (not followed): ` +
				`LDAP Result Code 10 "Referral": 0000202B: RefErr; ` +
				"point ldap.urls at a domain controller of that domain, or correct ldap.base_dn; referrals are not followed",
		},
		{
			"a request timeout",
			context.Background(),
			stage(ldapscan.StageSearch, "ldap://dc1", fmt.Errorf("search: %w", context.DeadlineExceeded)),
			"ldap search ldap://dc1: no answer within ldap.timeout (30s); check that the DC is reachable from this host (routing, firewalls), or raise ldap.timeout",
		},
		{
			"Kerberos says cause and fix itself",
			context.Background(),
			stage(ldapscan.StageBind, "ldap://dc1", fmt.Errorf("GSSAPI bind: %w", skew)),
			"ldap bind ldap://dc1: kerberos: logging in as svc@CORP.EXAMPLE.TEST: clock skew too great; fix: synchronise this host's clock",
		},
		{"Kerberos login", context.Background(), skew, skew.Error()},
		{
			"something unforeseen",
			context.Background(),
			stage(ldapscan.StageRange, "ldap://dc1", errors.New("CN=x: no values returned\nfor servicePrincipalName;range=1500-*")),
			"ldap range ldap://dc1: CN=x: no values returned for servicePrincipalName;range=1500-*; rerun with --log.level debug for details",
		},
		{
			"the scan's own deadline",
			expired,
			stage(ldapscan.StageSearch, "ldap://dc1", context.DeadlineExceeded),
			"the scan did not finish within scan.timeout (10m0s); raise scan.timeout",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := explain(tc.ctx, tc.err, &cfg).Error(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
