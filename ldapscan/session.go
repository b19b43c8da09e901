package ldapscan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/spnaudit/spnaudit/krb"
)

// session is one bound connection to a directory server.
type session struct {
	ep      endpoint
	conn    *ldap.Conn
	timeout time.Duration // per request
	log     *slog.Logger
	// wire carries conn; searchRecords reads its own responses off it. nil
	// when the Authenticator started go-ldap without Transport.Start.
	wire *wireConn
}

func (s *session) close() {
	if s != nil {
		s.conn.Close()
	}
}

// alive reports whether the connection has not been closed, by us or by the
// server (go-ldap closes it when its reader fails).
func (s *session) alive() bool { return s != nil && !s.conn.IsClosing() }

// connect dials ep and binds, following the SASL security policy; each layer
// attempt gets a fresh transport.
func (sc *Scanner) connect(ctx context.Context, ep endpoint, gc bool) (*session, error) {
	plan := layerPlan(sc.cfg.SASLSecurity, ep.tls || sc.cfg.StartTLS)
	var bound *Transport
	lc, layer, err := negotiateLayer(ctx, plan, func(ctx context.Context, layer krb.Layer) (*ldap.Conn, error) {
		t, err := sc.dial(ctx, ep, gc)
		if err != nil {
			return nil, &Error{Stage: StageConnect, Server: ep.url, Err: err}
		}
		lc, err := sc.bind(ctx, t, layer)
		if err != nil {
			t.Conn.Close()
			return nil, &Error{Stage: StageBind, Server: ep.url, Err: fmt.Errorf("SASL layer %s: %w", layer, err)}
		}
		bound = t
		return lc, nil
	})
	sc.servers.note(ep.url, gc, err == nil)
	if err != nil {
		return nil, err
	}
	sc.log.Debug("ldap connected", "server", ep.url, "global_catalog", gc, "sasl_layer", layer.String())
	return &session{ep: ep, conn: lc, wire: bound.wire, timeout: sc.cfg.Timeout, log: sc.log}, nil
}

// bind runs the Authenticator under the request timeout; the transport is
// closed if the context ends first, which unblocks any pending exchange.
func (sc *Scanner) bind(ctx context.Context, t *Transport, layer krb.Layer) (*ldap.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, sc.cfg.Timeout)
	defer cancel()
	abort := context.AfterFunc(ctx, func() { t.Conn.Close() })
	lc, err := sc.auth.Bind(ctx, t, layer)
	if !abort() {
		// The context ended while binding: the transport is closed.
		if lc != nil {
			lc.Close()
		}
		return nil, fmt.Errorf("bind: %w", ctx.Err())
	}
	return lc, err
}

// connectAny tries the configured servers in order (failover) and returns
// the first bound session. When every server fails, the error carries the
// furthest stage reached and every server's failure.
func (sc *Scanner) connectAny(ctx context.Context) (*session, error) {
	var errs []error
	stage := StageConnect
	for _, ep := range sc.eps {
		s, err := sc.connect(ctx, ep, false)
		if err == nil {
			return s, nil
		}
		if ctx.Err() != nil {
			return nil, &Error{Stage: StageOf(err), Server: ep.url, Err: err}
		}
		sc.log.Warn("ldap server unavailable", "server", ep.url, "err", err)
		if StageOf(err) == StageBind {
			stage = StageBind
		}
		errs = append(errs, err)
	}
	return nil, &Error{Stage: stage, Err: errors.Join(errs...)}
}

// referrals collects the referrals a scan met; they are reported, never
// followed.
type referrals struct {
	mu    sync.Mutex // a paged search's next page and range reads of the last one add concurrently
	count int
	urls  []string
}

// maxReferralURLs bounds the referral URLs kept for the report.
const maxReferralURLs = 20

func (r *referrals) add(log *slog.Logger, base string, urls ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.count++
	for _, u := range urls {
		if len(r.urls) < maxReferralURLs {
			r.urls = append(r.urls, u)
		}
	}
	log.Debug("ldap referral not followed", "base", base, "urls", urls)
}

// stream runs one search request and hands every entry to onEntry as it
// arrives; it returns the controls of the final result. Continuation
// references (searchResRef: other naming contexts below the base, each read
// on its own or out of scope) are recorded, not followed. A referral result
// means the server does not hold the base asked for: every search reads a
// naming context in scope, so it fails at stage referral rather than
// returning a scan without that naming context.
func (s *session) stream(ctx context.Context, req *ldap.SearchRequest, refs *referrals, onEntry func(*ldap.Entry) error) ([]ldap.Control, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	res := s.conn.SearchAsync(ctx, req, 64)
	var controls []ldap.Control
	for res.Next() {
		switch {
		case res.Entry() != nil:
			if err := onEntry(res.Entry()); err != nil {
				return nil, err
			}
		case res.Referral() != "":
			refs.add(s.log, req.BaseDN, res.Referral())
		default:
			controls = append(controls, res.Controls()...)
		}
	}
	if err := res.Err(); err != nil {
		return nil, s.searchFailed(req.BaseDN, refs, err)
	}
	// SearchAsync ends silently when its context does.
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("search %q: %w", req.BaseDN, err)
	}
	return controls, nil
}

// searchFailed wraps the error result of a search of base. A referral
// result means the server does not hold the base asked for: every search
// reads a naming context in scope, so it fails at stage referral rather than
// returning a scan without that naming context.
func (s *session) searchFailed(base string, refs *referrals, err error) error {
	if urls, ok := referralURLs(err); ok {
		refs.add(s.log, base, urls...)
		return &Error{Stage: StageReferral, Server: s.ep.url,
			Err: fmt.Errorf("search %q answered with a referral to %s (not followed): this server does not hold that naming context: %w",
				base, referralTargets(urls), err)}
	}
	return fmt.Errorf("search %q: %w", base, err)
}

// referralTargets names the URLs of a referral for a message.
func referralTargets(urls []string) string {
	if len(urls) == 0 {
		return "no URL"
	}
	return strings.Join(urls, ", ")
}

// referralURLs reports whether err is a referral result and returns the
// URLs of its LDAPResult referral field ([3], RFC 4511 4.1.9).
func referralURLs(err error) ([]string, bool) {
	var le *ldap.Error
	if !errors.As(err, &le) || le.ResultCode != ldap.LDAPResultReferral {
		return nil, false
	}
	var urls []string
	if le.Packet != nil && len(le.Packet.Children) > 1 {
		for _, field := range le.Packet.Children[1].Children {
			if field.ClassType == ber.ClassContext && field.Tag == 3 {
				for _, u := range field.Children {
					if v, ok := u.Value.(string); ok {
						urls = append(urls, v)
					}
				}
			}
		}
	}
	return urls, true
}

// pagedSearch runs req with the paged results control (RFC 2696) and hands
// each page to onPage once the page is complete, in order. The next page is
// asked for as soon as a page's cookie arrives, and onPage converts the page
// just read while the DC builds the next one: paging one page at a time made
// the client's decoding add straight to the DC's time (docs/performance.md).
// Memory is bounded by two pages; onPage runs on one goroutine, one page at
// a time, and may issue its own requests (range retrieval) on the same
// connection meanwhile (LDAP requests carry their own message IDs).
//
// A failed page fails the search, and so does a failed onPage (the request
// in flight is then cancelled): nothing is returned for a partial read. When
// both fail (the connection dropped), the error of the earlier page wins.
func (s *session) pagedSearch(ctx context.Context, req *ldap.SearchRequest, pageSize uint32, refs *referrals, onPage func([]*ldap.Entry) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	return convertWhileReading(cancel, func(pages chan<- []*ldap.Entry) error {
		return s.readPages(ctx, req, pageSize, refs, pages)
	}, onPage)
}

// convertWhileReading runs read, which sends pages, while convert takes them
// in order on another goroutine: one page converted while the next is read
// (the channel is unbuffered). A failed convert cancels the read (whose
// context cancel ends) and its error wins: it is about an earlier page than
// the read's.
func convertWhileReading[P any](cancel context.CancelFunc, read func(chan<- P) error, convert func(P) error) error {
	pages := make(chan P)
	handled := make(chan error, 1)
	go func() {
		var err error
		for page := range pages {
			if err == nil {
				if err = convert(page); err != nil {
					cancel() // stop reading pages nobody will convert
				}
			}
		}
		handled <- err
	}()
	err := read(pages)
	close(pages)
	if perr := <-handled; perr != nil {
		return perr
	}
	return err
}

// readPages sends the pages of req to pages, asking for each next page as
// soon as the previous one's cookie arrived.
func (s *session) readPages(ctx context.Context, req *ldap.SearchRequest, pageSize uint32, refs *referrals, pages chan<- []*ldap.Entry) error {
	paging := ldap.NewControlPaging(pageSize)
	base := req.Controls[:len(req.Controls):len(req.Controls)]
	for {
		req.Controls = append(base, paging)
		page := make([]*ldap.Entry, 0, min(pageSize, 1000))
		controls, err := s.stream(ctx, req, refs, func(e *ldap.Entry) error {
			page = append(page, e)
			return nil
		})
		if err != nil {
			return err
		}
		select {
		case pages <- page:
		case <-ctx.Done():
			return ctx.Err()
		}
		next, _ := ldap.FindControl(controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		if next == nil || len(next.Cookie) == 0 {
			return nil
		}
		paging.SetCookie(next.Cookie)
	}
}

// readEntry reads one object with a base search; it returns nil when the
// object does not exist.
func (s *session) readEntry(ctx context.Context, dn string, attrs []string, refs *referrals) (*ldap.Entry, error) {
	req := ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", attrs, nil)
	var found *ldap.Entry
	_, err := s.stream(ctx, req, refs, func(e *ldap.Entry) error {
		found = e
		return nil
	})
	if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return nil, nil
	}
	return found, err
}
