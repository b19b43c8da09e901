package krb

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/jcmturner/gokrb5/v8/messages"
)

// Kind says which class of failure an Error is, so callers can react (for
// example ldapscan's "auto" layer choice) without matching message text.
type Kind int

// The kinds of Kerberos failure spnaudit explains to an administrator.
const (
	KindOther Kind = iota
	KindConfig
	KindBadCredentials
	KindUnknownClient
	KindAccountUnusable
	KindKeytab
	KindPasswordFile
	KindCCache
	KindUnknownRealm
	KindKDCUnreachable
	KindClockSkew
	KindUnknownService
	KindEncType
	KindLayerNotOffered
	KindProtocol
	KindTicketExpired
	KindServiceKey
)

// Error is a Kerberos failure explained in one line: what went wrong and what
// to do about it. It never carries a secret; Err keeps the library error for
// debug logging and errors.Is/As.
type Error struct {
	Kind  Kind
	Cause string
	Fix   string
	Err   error
}

func (e *Error) Error() string {
	if e.Fix == "" {
		return "kerberos: " + e.Cause
	}
	return "kerberos: " + e.Cause + "; fix: " + e.Fix
}

func (e *Error) Unwrap() error { return e.Err }

// IsKind reports whether err is (or wraps) an *Error of the given kind.
func IsKind(err error, k Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == k
}

const (
	fixCredentials = "check kerberos.password_file, or export a fresh keytab for the principal (a password change invalidates old keytabs)"
	fixRealm       = "set kerberos.realm to the AD DNS domain in upper case and list its KDCs in kerberos.kdcs or in the [realms] section of kerberos.krb5_conf"
	fixReach       = "check that the KDC (a domain controller, port 88 TCP/UDP) is reachable from this host: kerberos.kdcs, DNS and firewalls"
	fixSkew        = "synchronise this host's clock with the domain controllers (NTP); Kerberos tolerates 5 minutes of skew"
	fixService     = "set ldap.service_principal to ldap/<DC fully qualified host name> as registered in AD (not an IP address or DNS alias)"
	fixEncType     = "enable AES for the accounts involved (msDS-SupportedEncryptionTypes, or 'This account supports Kerberos AES' in AD) and reset their passwords; RC4 and DES are not supported"
)

// classify turns an error from gokrb5 (or the network) met while doing op into
// an *Error. gokrb5 flattens KDC errors into text, so the KDC error code names
// are matched in the message.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	msg := err.Error()
	var krbErr messages.KRBError
	if errors.As(err, &krbErr) {
		msg = krbErr.Error()
	}
	wrap := func(k Kind, cause, fix string) error {
		return &Error{Kind: k, Cause: op + ": " + cause, Fix: fix, Err: err}
	}
	has := func(s string) bool { return strings.Contains(msg, s) }
	switch {
	case has("KDC_ERR_PREAUTH_FAILED"), has("KRB_AP_ERR_BAD_INTEGRITY"),
		has("client password/keytab incorrect"):
		return wrap(KindBadCredentials, "the KDC rejected the password or key (pre-authentication failed)", fixCredentials)
	case has("KDC_ERR_C_PRINCIPAL_UNKNOWN"):
		return wrap(KindUnknownClient, "the KDC does not know this client principal", "check kerberos.principal and kerberos.realm")
	case has("KDC_ERR_CLIENT_REVOKED"), has("KDC_ERR_KEY_EXPIRED"), has("KDC_ERR_POLICY"):
		return wrap(KindAccountUnusable, "the account is disabled, locked out, expired or its password has expired", "unlock or re-enable the audit account in AD, or set a new password and re-export its keytab")
	case has("KRB_AP_ERR_SKEW"):
		return wrap(KindClockSkew, "clock skew too great between this host and the domain controller", fixSkew)
	case has("KRB_AP_ERR_TKT_EXPIRED"):
		return wrap(KindTicketExpired, "the ticket presented has expired (or has less than the KDC's minimum lifetime left)", "synchronise clocks; keep a ccache fresh (k5start) or use a keytab; ticket lifetimes under 3 minutes are too short for Samba")
	case has("KRB_AP_ERR_MODIFIED"):
		return wrap(KindServiceKey, "the server cannot decrypt the ticket: the SPN belongs to another account, is duplicated, or the server's key changed", "check which account holds the SPN (setspn -Q) and ldap.service_principal")
	case has("KDC_ERR_S_PRINCIPAL_UNKNOWN"):
		return wrap(KindUnknownService, "the KDC does not know the service principal", fixService)
	case has("KDC_ERR_ETYPE_NOSUPP"), has("KDC_ERR_ETYPE_NOTSUPP"):
		return wrap(KindEncType, "no encryption type in common with the KDC", fixEncType)
	case has("KDC_ERR_WRONG_REALM"), has("does not have any defined KDCs"), has("no KDC defined"),
		has("error getting KDCs"), has("no KDCs defined"), has("could not get valid TGT for client's realm"):
		return wrap(KindUnknownRealm, "no KDC is known for the realm", fixRealm)
	case has("matching key not found in keytab"):
		return wrap(KindKeytab, "the keytab holds no key for this principal and encryption type", "export a keytab for kerberos.principal with AES keys (samba-tool domain exportkeytab, or ktpass on Windows)")
	case has("failed to communicate with KDC"), has("error sending to a KDC"), has("communication error with KDC"),
		has("error sending to KDC"), has("no response data from"), isNetErr(err):
		return wrap(KindKDCUnreachable, "cannot reach any KDC", fixReach)
	}
	first, _, _ := strings.Cut(msg, "\n")
	return wrap(KindOther, first, "")
}

func isNetErr(err error) bool {
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ne) || errors.As(err, &oe)
}

// fileError explains a missing or unreadable credential file without echoing
// its content.
func fileError(k Kind, what, path string, err error) error {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return &Error{Kind: k, Cause: fmt.Sprintf("%s %q does not exist", what, path), Fix: "check the path in the configuration", Err: err}
	case errors.Is(err, os.ErrPermission):
		return &Error{Kind: k, Cause: fmt.Sprintf("%s %q is not readable by this process", what, path), Fix: "give the spnaudit user read access (mode 0600, owned by it)", Err: err}
	}
	return &Error{Kind: k, Cause: fmt.Sprintf("cannot read %s %q: %v", what, path, err), Fix: "check the file", Err: err}
}
