package ldapscan

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/spnaudit/spnaudit/internal/labtest"
	"github.com/spnaudit/spnaudit/lab"
)

// wireSearchRaw reads the SearchResultEntry messages of a paged search as
// the lab DC sends them, through the session's wireConn.
func wireSearchRaw(t *testing.T, ctx context.Context, s *session, base, filter string, attrs []string) [][]byte {
	t.Helper()
	req := ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil)
	paging := ldap.NewControlPaging(1000)
	var out [][]byte
	var refs referrals
	for {
		id, route, err := s.wire.send(func(id int64) ([]byte, error) {
			return encodeSearchRequest(id, req, []ldap.Control{paging})
		})
		if err != nil {
			t.Fatal(err)
		}
		page, cookie, err := s.collectPage(ctx, route, base, &refs)
		s.wire.done(id)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page...)
		if len(cookie) == 0 {
			return out
		}
		paging.SetCookie(cookie)
	}
}

// TestLabDecoderMatchesGoLDAP: every entry the lab DC sends for the
// inventory search of the whole domain (sealed GSSAPI; OU=Bulk's ranged
// servicePrincipalName included when the bench seeded it) decodes to the
// record go-ldap's decoding gives. With SPNAUDIT_CAPTURE_WIRE=1 it writes
// OU=Farm's entries, and the first ranged one, to testdata/wire/lab.ber
// for TestDecodeSearchEntryMatchesGoLDAP and the fuzz seeds.
func TestLabDecoderMatchesGoLDAP(t *testing.T) {
	l := labtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sc := labScanner(t, l, lab.LDAPURL(), SASLSeal, false)
	s, err := sc.connectAny(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if s.wire == nil {
		t.Fatal("the Kerberos bind did not go through Transport.Start")
	}
	entries := wireSearchRaw(t, ctx, s, lab.BaseDN, "(servicePrincipalName=*)", objectAttributes)
	if len(entries) == 0 {
		t.Fatal("no entries")
	}
	farm := strings.ToLower("OU=Farm," + lab.BaseDN)
	var capture bytes.Buffer
	ranged := false
	for _, raw := range entries {
		if !checkDifferential(t, raw) {
			_, err := newEntryDecoder().decodeSearchEntry(raw)
			t.Fatalf("lab entry refused: %v", err)
		}
		r, _ := newEntryDecoder().decodeSearchEntry(raw)
		if strings.HasSuffix(strings.ToLower(r.dn), farm) || (!ranged && len(r.incomplete()) > 0) {
			ranged = ranged || len(r.incomplete()) > 0
			capture.Write(raw)
		}
	}
	t.Logf("%d entries decoded alike", len(entries))
	if os.Getenv("SPNAUDIT_CAPTURE_WIRE") == "1" {
		if err := os.MkdirAll("testdata/wire", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("testdata/wire/lab.ber", capture.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
