package krb

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/krberror"
	"github.com/jcmturner/gokrb5/v8/messages"
)

// kdcError wraps a KRB-ERROR the way gokrb5's AS and TGS exchanges do.
func kdcError(code int32) error {
	return krberror.Errorf(messages.KRBError{ErrorCode: code}, krberror.KDCError, "AS Exchange Error: kerberos error response from KDC")
}

func TestClassify(t *testing.T) {
	dialErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	for _, tc := range []struct {
		name string
		err  error
		want Kind
	}{
		{"preauth failed", kdcError(errorcode.KDC_ERR_PREAUTH_FAILED), KindBadCredentials},
		{"AS-REP does not decrypt", krberror.New(krberror.KRBMsgError, "AS Exchange Error: AS_REP is not valid or client password/keytab incorrect"), KindBadCredentials},
		{"unknown client", kdcError(errorcode.KDC_ERR_C_PRINCIPAL_UNKNOWN), KindUnknownClient},
		{"disabled account", kdcError(errorcode.KDC_ERR_CLIENT_REVOKED), KindAccountUnusable},
		{"password expired", kdcError(errorcode.KDC_ERR_KEY_EXPIRED), KindAccountUnusable},
		{"clock skew", kdcError(errorcode.KRB_AP_ERR_SKEW), KindClockSkew},
		{"clock skew from the LDAP server", messages.KRBError{ErrorCode: errorcode.KRB_AP_ERR_SKEW}, KindClockSkew},
		{"unknown service", kdcError(errorcode.KDC_ERR_S_PRINCIPAL_UNKNOWN), KindUnknownService},
		{"expired TGT", kdcError(errorcode.KRB_AP_ERR_TKT_EXPIRED), KindTicketExpired},
		{"SPN on the wrong account", messages.KRBError{ErrorCode: errorcode.KRB_AP_ERR_MODIFIED}, KindServiceKey},
		{"no common etype", kdcError(errorcode.KDC_ERR_ETYPE_NOSUPP), KindEncType},
		{"wrong realm", kdcError(errorcode.KDC_ERR_WRONG_REALM), KindUnknownRealm},
		{"realm without KDC", errors.New("client krb5 config does not have any defined KDCs for the default realm"), KindUnknownRealm},
		{"keytab without the key", krberror.Errorf(errors.New("matching key not found in keytab. Looking for \"auditor\" realm: CORP kvno: 0 etype: 18"), krberror.EncryptingError, "error getting key from credentials"), KindKeytab},
		{"KDC refuses connections", krberror.Errorf(fmt.Errorf("error sending to a KDC: %w", dialErr), krberror.NetworkingError, "AS Exchange Error: failed sending AS_REQ to KDC"), KindKDCUnreachable},
		{"bare dial error", dialErr, KindKDCUnreachable},
		// Must not fire: an unrelated failure stays KindOther, first line only.
		{"something else", errors.New("asn1: structure error\nsecond line"), KindOther},
		{"bad integrity is not a network error", kdcError(errorcode.KRB_AP_ERR_BAD_INTEGRITY), KindBadCredentials},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := classify("logging in as auditor@CORP.EXAMPLE.TEST", tc.err)
			var e *Error
			if !errors.As(err, &e) || e.Kind != tc.want {
				t.Fatalf("got %#v, want kind %d", err, tc.want)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("message spans lines: %q", msg)
			}
			if tc.want != KindOther && !strings.Contains(msg, "; fix: ") {
				t.Errorf("message has no fix: %q", msg)
			}
			if e.Err == nil || e.Err.Error() != tc.err.Error() {
				t.Errorf("the library error is not kept: %v", e.Err)
			}
		})
	}
	if classify("x", nil) != nil {
		t.Error("nil error classified")
	}
	already := &Error{Kind: KindCCache, Cause: "c"}
	if classify("x", already) != already {
		t.Error("an *Error was reclassified")
	}
}

func TestFileError(t *testing.T) {
	_, notExist := os.ReadFile("/nonexistent/secret")
	for _, tc := range []struct {
		name, want string
		err        error
	}{
		{"missing", "does not exist", notExist},
		{"permission", "not readable", os.ErrPermission},
		{"other", "cannot read", errors.New("is a directory")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := fileError(KindKeytab, "keytab", "/etc/spnaudit.keytab", tc.err)
			if !IsKind(err, KindKeytab) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "/etc/spnaudit.keytab") {
				t.Fatalf("got %v", err)
			}
		})
	}
}
