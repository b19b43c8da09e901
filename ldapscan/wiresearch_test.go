package ldapscan

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// TestEncodeSearchRequestMatchesGoLDAP: the search requests spnaudit writes
// itself are byte for byte those go-ldap writes for the same request.
func TestEncodeSearchRequestMatchesGoLDAP(t *testing.T) {
	paging := ldap.NewControlPaging(1000)
	paging.SetCookie([]byte{1, 2, 0xff})
	tests := []struct {
		name string
		req  *ldap.SearchRequest
	}{
		{"inventory", ldap.NewSearchRequest(fakeDomainNC, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
			"(servicePrincipalName=*)", objectAttributes, []ldap.Control{ldap.NewControlPaging(1000)})},
		{"changes with cookie and show deleted", ldap.NewSearchRequest("DC=x", ldap.ScopeWholeSubtree, ldap.DerefAlways, 5, 30, false,
			"(&(uSNChanged>=12)(|(servicePrincipalName=*)(isDeleted=TRUE)))", []string{"objectGUID", "isDeleted"},
			[]ldap.Control{ldap.NewControlMicrosoftShowDeleted(), paging})},
		{"base, types only, no attributes, no controls", ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, true,
			"(objectClass=*)", nil, nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, server := net.Pipe()
			defer client.Close()
			defer server.Close()
			lc := ldap.NewConn(client, false)
			lc.Start()
			defer lc.Close()
			go func() { lc.SearchAsync(context.Background(), tt.req, 0).Next() }()
			m, id, err := readWireMessage(bufio.NewReader(server))
			if err != nil {
				t.Fatal(err)
			}
			ours, err := encodeSearchRequest(id, tt.req, tt.req.Controls)
			if err != nil {
				t.Fatal(err)
			}
			if string(ours) != string(m.raw) {
				t.Fatalf("request differs:\nours   % x\ngo-ldap % x", ours, m.raw)
			}
		})
	}
}

// TestSearchRecordsPipelines: searchRecords asks for the next page as soon
// as a page's cookie arrives, before the page is decoded and converted; it
// asks for no more than one page beyond the one waiting for onPage (memory
// stays at three pages); pages arrive in order, each entry once; a failed
// conversion fails the search with no page after it.
func TestSearchRecordsPipelines(t *testing.T) {
	const accounts, pageSize = 350, 100
	failure := errors.New("conversion failed")
	tests := []struct {
		name    string
		failAt  int // page (1-based) whose conversion fails; 0: none
		want    error
		wantAll bool
	}{
		{name: "every page, each entry once", wantAll: true},
		{name: "conversion fails on page 2", failAt: 2, want: failure},
		{name: "conversion fails on the last page", failAt: 4, want: failure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fa := bulkDirectory(accounts)
			sc := newTestScanner(t, []string{"ldap://" + fa.serve(t, nil, false)}, nil)
			s, err := sc.connectAny(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(s.close)
			if s.wire == nil {
				t.Fatal("no wireConn under the session")
			}
			req := ldap.NewSearchRequest(fa.domainNC, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
				"(servicePrincipalName=*)", []string{"sAMAccountName"}, nil)
			var refs referrals
			seen := map[string]int{}
			pages := 0
			var overlapped, bounded bool
			err = s.searchRecords(context.Background(), req, pageSize, &refs, func(page []*record) error {
				pages++
				if pages == 1 {
					// Page 2 was read while page 1 was decoded, and its cookie
					// sent the request for page 3 though page 2 waits for us.
					for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !overlapped; time.Sleep(time.Millisecond) {
						overlapped = fa.pagesServed.Load() >= 3
					}
					time.Sleep(100 * time.Millisecond)
					bounded = fa.pagesServed.Load() <= 3
				}
				for _, r := range page {
					seen[strings.ToLower(r.first("sAMAccountName"))]++
				}
				if pages == tt.failAt {
					return failure
				}
				return nil
			})
			if !errors.Is(err, tt.want) {
				t.Fatalf("searchRecords error = %v, want %v", err, tt.want)
			}
			if !overlapped {
				t.Error("page 3 was not asked for while page 1 was converted and page 2 waited")
			}
			if !bounded {
				t.Errorf("%d pages asked for while page 1 was converted, want at most 3", fa.pagesServed.Load())
			}
			if tt.failAt > 0 && pages != tt.failAt {
				t.Errorf("onPage called %d times, want %d (no page after the failure)", pages, tt.failAt)
			}
			if !tt.wantAll {
				return
			}
			if pages != 4 || len(seen) != accounts {
				t.Fatalf("pages %d, distinct entries %d; want 4 pages, %d entries", pages, len(seen), accounts)
			}
			for sam, n := range seen {
				if n != 1 {
					t.Fatalf("%s handed over %d times", sam, n)
				}
			}
			// go-ldap still works on the connection the pages were read from.
			if _, err := s.readEntry(context.Background(), fa.domainNC, []string{"objectClass"}, &refs); err != nil {
				t.Fatalf("go-ldap after the wire search: %v", err)
			}
		})
	}
}

// scriptedServer answers each search request on one connection with two
// entries, then follows its script: stall (answer nothing more), or close
// the connection. It records the abandon requests it receives.
type scriptedServer struct {
	addr      string
	abandoned atomic.Int64 // message ID of the last abandon request
}

func newScriptedServer(t *testing.T, script string) *scriptedServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &scriptedServer{addr: l.Addr().String()}
	t.Cleanup(func() { l.Close() })
	go func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		br := bufio.NewReader(conn)
		for {
			m, id, err := readWireMessage(br)
			if err != nil {
				return
			}
			switch m.op {
			case 0x63: // SearchRequest
				for _, cn := range []string{"a", "b"} {
					_, _ = conn.Write(entryMessage(id, "CN="+cn+",DC=x", true, testAttr{"cn", []string{cn}}))
				}
				if script == "close" {
					return
				}
			case 0x50: // AbandonRequest
				// [APPLICATION 16] MessageID, primitive: its contents are the ID.
				p, err := ber.DecodePacketErr(m.raw)
				if err == nil && len(p.Children) > 1 {
					var abandoned int64
					for _, c := range p.Children[1].Data.Bytes() {
						abandoned = abandoned<<8 | int64(c)
					}
					srv.abandoned.Store(abandoned)
				}
			}
		}
	}()
	return srv
}

// TestSearchRecordsFailsCleanly: a DC that stops answering mid-page fails
// the search after the request timeout, or as soon as the context ends,
// and is told to abandon the request; a connection cut mid-page fails it
// as a network error and closes go-ldap's side too (the session is dead).
// Nothing is handed to onPage from the unfinished page.
func TestSearchRecordsFailsCleanly(t *testing.T) {
	tests := []struct {
		name    string
		script  string
		cancel  bool
		want    string
		abandon bool
	}{
		{name: "DC stalls: request timeout", script: "stall", want: context.DeadlineExceeded.Error(), abandon: true},
		{name: "context cancelled", script: "stall", cancel: true, want: context.Canceled.Error(), abandon: true},
		{name: "connection cut mid-page", script: "close", want: "Network Error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScriptedServer(t, tt.script)
			sc := newTestScanner(t, []string{"ldap://" + srv.addr}, func(c *Config) { c.Timeout = 300 * time.Millisecond })
			s, err := sc.connectAny(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(s.close)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel {
				time.AfterFunc(50*time.Millisecond, cancel)
			}
			req := ldap.NewSearchRequest("DC=x", ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
				"(cn=*)", []string{"cn"}, nil)
			var refs referrals
			started := time.Now()
			handed := 0
			err = s.searchRecords(ctx, req, 100, &refs, func(page []*record) error {
				handed += len(page)
				return nil
			})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `search "DC=x"`) {
				t.Fatalf("searchRecords error = %v, want one naming the search and %q", err, tt.want)
			}
			if took := time.Since(started); took > 3*time.Second {
				t.Errorf("failed after %v", took)
			}
			if handed != 0 {
				t.Errorf("%d entries of the unfinished page handed over", handed)
			}
			if tt.abandon {
				for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline) && srv.abandoned.Load() == 0; time.Sleep(5 * time.Millisecond) {
				}
				if srv.abandoned.Load() != wireIDBase {
					t.Errorf("abandoned message %d, want the search's %d", srv.abandoned.Load(), wireIDBase)
				}
			} else {
				for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline) && s.alive(); time.Sleep(5 * time.Millisecond) {
				}
				if s.alive() {
					t.Error("go-ldap's side of the cut connection is still alive")
				}
			}
		})
	}
}

// TestReadWireMessage: messages are split by their BER length whatever
// the length's form; a length the input does not back ends in an error
// without allocating it; broken framing is refused.
func TestReadWireMessage(t *testing.T) {
	big := entryMessage(wireIDBase+1, "CN=big,DC=x", true, testAttr{"description", []string{strings.Repeat("x", 3*wireChunk)}})
	tests := []struct {
		name    string
		input   []byte
		wantID  int64
		wantOp  byte
		wantErr string
	}{
		{name: "short form", input: entryMessage(5, "CN=a", false), wantID: 5, wantOp: tagSearchEntry},
		{name: "AD's 4-byte lengths", input: entryMessage(wireIDBase, "CN=a", true), wantID: wireIDBase, wantOp: tagSearchEntry},
		{name: "larger than a chunk", input: big, wantID: wireIDBase + 1, wantOp: tagSearchEntry},
		{name: "length not backed", input: []byte{0x30, 0x84, 0x0f, 0xff, 0xff, 0xff, 0x02, 0x01, 0x01}, wantErr: io.ErrUnexpectedEOF.Error()},
		{name: "over the limit", input: []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff}, wantErr: "over the"},
		{name: "indefinite length", input: []byte{0x30, 0x80, 0x02, 0x01, 0x01}, wantErr: "indefinite"},
		{name: "not a sequence", input: []byte{0x04, 0x00}, wantErr: "want a SEQUENCE"},
		{name: "no message ID", input: []byte{0x30, 0x02, 0x04, 0x00}, wantErr: "messageID: tag 0x04"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			m, id, err := readWireMessage(bufio.NewReader(bytes.NewReader(tt.input)))
			runtime.ReadMemStats(&after)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if grew := after.TotalAlloc - before.TotalAlloc; grew > 4*wireChunk {
					t.Errorf("allocated %d bytes for a message that never came", grew)
				}
				return
			}
			if err != nil || id != tt.wantID || m.op != tt.wantOp || !bytes.Equal(m.raw, tt.input) {
				t.Fatalf("got id %d op 0x%02x, %d bytes, %v", id, m.op, len(m.raw), err)
			}
		})
	}
}

// TestSearchRecordsWithoutWire: a session whose Authenticator started
// go-ldap on its own (no wireConn) reads the same records through
// pagedSearch.
func TestSearchRecordsWithoutWire(t *testing.T) {
	fa := bulkDirectory(150)
	sc := newTestScanner(t, []string{"ldap://" + fa.serve(t, nil, false)}, nil)
	s, err := sc.connectAny(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	s.wire = nil
	req := ldap.NewSearchRequest(fa.domainNC, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(servicePrincipalName=*)", []string{"sAMAccountName", "servicePrincipalName"}, nil)
	var refs referrals
	n := 0
	err = s.searchRecords(context.Background(), req, 100, &refs, func(page []*record) error {
		for _, r := range page {
			if !strings.HasPrefix(r.first("servicePrincipalName"), "HTTP/app") || r.first("sAMAccountName") == "" {
				return errors.New("record without its values: " + r.dn)
			}
			n++
		}
		return nil
	})
	if err != nil || n != 150 {
		t.Fatalf("%d records, %v; want 150", n, err)
	}
}
