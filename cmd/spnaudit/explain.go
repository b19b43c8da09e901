package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"syscall"

	"github.com/go-ldap/ldap/v3"

	"github.com/spnaudit/spnaudit/config"
	"github.com/spnaudit/spnaudit/krb"
	"github.com/spnaudit/spnaudit/ldapscan"
)

// explain turns a failure to read the directory under ctx into one line,
// "<cause>; <fix>". Kerberos and configuration errors already say both;
// LDAP, TLS and network errors get the fix here, where the configuration
// keys are known.
func explain(ctx context.Context, err error, cfg *config.Config) error {
	var se *ldapscan.Error
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("the scan did not finish within scan.timeout (%s); raise scan.timeout", cfg.Scan.Timeout)
	case errors.Is(ctx.Err(), context.Canceled):
		return errors.New("interrupted; nothing was printed")
	case !errors.As(err, &se):
		return err // Kerberos, configuration
	}
	failures := []error{se}
	if joined, ok := se.Err.(interface{ Unwrap() []error }); ok && se.Server == "" {
		// Every server of ldap.urls failed; each failure carries its server.
		failures = joined.Unwrap()
	}
	var causes, fixes []string
	for _, f := range failures {
		cause, fix := describe(f, cfg)
		causes = append(causes, cause)
		if fix != "" && !slices.Contains(fixes, fix) {
			fixes = append(fixes, fix)
		}
	}
	msg := strings.Join(causes, "; ")
	if len(fixes) > 0 {
		msg += "; " + strings.Join(fixes, "; ")
	}
	return errors.New(msg)
}

// describe names the server and stage of one failure, what went wrong, and
// the fix; the fix is empty when the cause already carries one.
func describe(err error, cfg *config.Config) (cause, fix string) {
	where := "ldap"
	var se *ldapscan.Error
	if errors.As(err, &se) {
		where = strings.TrimSpace(fmt.Sprintf("ldap %s %s", se.Stage, se.Server))
		err = se.Err
	}
	cause, fix = diagnose(err, cfg)
	return where + ": " + cause, fix
}

// diagnose finds the innermost error an administrator can act on.
func diagnose(err error, cfg *config.Config) (cause, fix string) {
	var (
		ke       *krb.Error
		hostname x509.HostnameError
		unknown  x509.UnknownAuthorityError
		invalid  x509.CertificateInvalidError
		record   tls.RecordHeaderError
		dnsErr   *net.DNSError
		opErr    *net.OpError
		ldapErr  *ldap.Error
	)
	switch {
	case errors.As(err, &ke):
		return ke.Error(), ""
	case errors.As(err, &hostname):
		return certificateName(hostname)
	case errors.As(err, &unknown):
		return "the DC's certificate is not signed by a trusted CA",
			"set ldap.tls.ca_file to the PEM certificate of the CA that issued it"
	case errors.As(err, &invalid):
		return "the DC's certificate is not valid: " + invalid.Error(),
			"renew the DC's certificate, or check this host's clock"
	case errors.As(err, &record):
		return "the server does not speak TLS on this port",
			"use ldaps:// for port 636, or ldap:// (port 389) with ldap.start_tls"
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("cannot resolve %s", dnsErr.Name),
			"check the host name in ldap.urls and this host's DNS"
	case errors.Is(err, syscall.ECONNREFUSED):
		addr := "the server"
		if errors.As(err, &opErr) && opErr.Addr != nil {
			addr = opErr.Addr.String()
		}
		return fmt.Sprintf("connection refused by %s", addr),
			"check ldap.urls: the DC's name and port (389 for ldap://, 636 for ldaps://), and that it is up"
	case isTimeout(err):
		return fmt.Sprintf("no answer within ldap.timeout (%v)", cfg.LDAP.Timeout),
			"check that the DC is reachable from this host (routing, firewalls), or raise ldap.timeout"
	case errors.As(err, &opErr):
		return opErr.Err.Error(), "check that the DC is reachable from this host (ldap.urls, routing, firewalls)"
	case errors.As(err, &ldapErr) && ldapErr.ResultCode == ldap.LDAPResultReferral:
		// ldapscan's message names the naming context and where it was referred.
		return oneLine(err.Error()),
			"point ldap.urls at a domain controller of that domain, or correct ldap.base_dn; referrals are not followed"
	case errors.As(err, &ldapErr):
		return ldapResult(ldapErr)
	}
	return oneLine(err.Error()), "rerun with --log.level debug for details"
}

// certificateName explains a certificate that does not match the DC's name.
func certificateName(e x509.HostnameError) (cause, fix string) {
	c := e.Certificate
	if len(c.DNSNames) == 0 && len(c.IPAddresses) == 0 {
		return fmt.Sprintf("the DC's certificate names its host only in the Common Name (%q), which Go does not accept", c.Subject.CommonName),
			"give the DC a certificate with its DNS name as subjectAltName (AD CS's Kerberos Authentication template does)"
	}
	return fmt.Sprintf("the DC's certificate is for %s, not %q", strings.Join(c.DNSNames, ", "), e.Host),
		"set ldap.tls.server_name to a name of the certificate, or name the DC that way in ldap.urls"
}

// ldapResult explains an LDAP result code.
func ldapResult(e *ldap.Error) (cause, fix string) {
	msg := oneLine(e.Error())
	switch e.ResultCode {
	case ldap.LDAPResultStrongAuthRequired:
		return msg, "set ldap.sasl_security to auto, sign or seal: the DC requires signing"
	case ldap.LDAPResultUnwillingToPerform:
		if strings.Contains(msg, "TLS") {
			// Samba 4.17's default "ldap server require strong auth = yes"
			// wants sign or seal, and refuses both inside TLS.
			return msg, "use ldap:// URLs (ldap.sasl_security auto seals), or set 'ldap server require strong auth = allow_sasl_over_tls' on the Samba DC"
		}
	case ldap.LDAPResultConfidentialityRequired:
		return msg, "use ldaps:// URLs or ldap.start_tls, or ldap.sasl_security seal"
	case ldap.LDAPResultInvalidCredentials:
		return msg, "check that ldap.service_principal names this DC and that the audit account is enabled"
	case ldap.LDAPResultInsufficientAccessRights:
		return msg, "give the audit account read access to the objects and their servicePrincipalName"
	case ldap.LDAPResultNoSuchObject:
		return msg, "check ldap.base_dn, or leave it empty to read the whole forest"
	case ldap.ErrorNetwork:
		return msg, "check that the DC is reachable and answers LDAP (ldap.urls)"
	}
	return msg, "rerun with --log.level debug for details"
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// oneLine collapses the lines and runs of spaces of a message.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
