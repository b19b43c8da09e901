package ldapscan

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// searchRecords runs req with the paged results control (RFC 2696) and hands
// each page, decoded into records, to onPage, in order. It is pagedSearch
// with the responses read off the connection by spnaudit (wireConn) rather
// than by go-ldap, for the inventory search where the decoding is the
// client's cost:
//
//   - the next page is asked for as soon as a page's SearchResultDone (its
//     cookie) arrives, before any entry of the page is decoded, as
//     ldapsearch does;
//   - each SearchResultEntry is decoded straight from its bytes into a
//     record (decodeSearchEntry), the page split across the cores;
//   - onPage converts a page while the next one is read; it may issue its
//     own requests (range retrieval) through go-ldap on the same connection.
//
// Memory is bounded by three pages: one in onPage, one waiting for it, one
// arriving. A failed page, entry or onPage fails the search and nothing is
// returned for a partial read; when both a page and onPage fail, the error
// of the earlier page wins. Errors are those of pagedSearch: a referral
// result fails at stage referral, the rest as "search <base>: ...".
func (s *session) searchRecords(ctx context.Context, req *ldap.SearchRequest, pageSize uint32, refs *referrals, onPage func([]*record) error) error {
	if s.wire == nil { // an Authenticator that started go-ldap on its own
		return s.pagedSearch(ctx, req, pageSize, refs, func(page []*ldap.Entry) error {
			recs := make([]*record, len(page))
			for i, e := range page {
				var err error
				if recs[i], err = recordFromEntry(e); err != nil {
					return err
				}
			}
			return onPage(recs)
		})
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	decoders := newPageDecoders()
	return convertWhileReading(cancel, func(pages chan<- [][]byte) error {
		return s.readWirePages(ctx, req, pageSize, refs, pages)
	}, func(page [][]byte) error {
		recs, err := decoders.decode(page)
		if err != nil {
			return fmt.Errorf("search %q: malformed entry: %w", req.BaseDN, err)
		}
		return onPage(recs)
	})
}

// readWirePages sends the pages of req, each as the entries' raw messages,
// to pages.
func (s *session) readWirePages(ctx context.Context, req *ldap.SearchRequest, pageSize uint32, refs *referrals, pages chan<- [][]byte) error {
	paging := ldap.NewControlPaging(pageSize)
	controls := append(req.Controls[:len(req.Controls):len(req.Controls)], paging)
	send := func() (int64, *wireRoute, error) {
		id, route, err := s.wire.send(func(id int64) ([]byte, error) { return encodeSearchRequest(id, req, controls) })
		if err != nil {
			return 0, nil, fmt.Errorf("search %q: %w", req.BaseDN, ldap.NewError(ldap.ErrorNetwork, err))
		}
		return id, route, nil
	}
	id, route, err := send()
	for err == nil {
		var page [][]byte
		var cookie []byte
		page, cookie, err = s.collectPage(ctx, route, req.BaseDN, refs)
		s.wire.done(id)
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				s.wire.abandon(id)
			}
			return err
		}
		route = nil
		if len(cookie) > 0 { // the next request leaves before this page is decoded
			paging.SetCookie(cookie)
			if id, route, err = send(); err != nil {
				return err
			}
		}
		select {
		case pages <- page:
		case <-ctx.Done():
			if route != nil {
				s.wire.done(id)
				s.wire.abandon(id)
			}
			return ctx.Err()
		}
		if route == nil {
			return nil
		}
	}
	return err
}

// collectPage gathers the entries of one page until its SearchResultDone
// and returns them with the page's cookie. Continuation references are
// recorded, not followed (as stream does). The request's timeout runs from
// when the page is waited for.
func (s *session) collectPage(ctx context.Context, route *wireRoute, base string, refs *referrals) ([][]byte, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var page [][]byte
	var batch []wireMessage
	for {
		var qerr error
		batch, qerr = route.take(batch[:0])
		for _, m := range batch {
			switch m.op {
			case tagSearchEntry:
				page = append(page, m.raw)
			case tagSearchRef:
				url, err := referenceURL(m.raw)
				if err != nil {
					return nil, nil, fmt.Errorf("search %q: %w", base, err)
				}
				refs.add(s.log, base, url)
			case tagIntermed: // nothing the inventory asks for; go-ldap passes them on as controls
			case tagSearchDone:
				cookie, err := s.searchDone(m.raw, base, refs)
				return page, cookie, err
			default:
				return nil, nil, fmt.Errorf("search %q: unexpected response (tag 0x%02x)", base, m.op)
			}
		}
		if len(batch) > 0 {
			continue
		}
		if qerr != nil {
			return nil, nil, fmt.Errorf("search %q: %w", base, ldap.NewError(ldap.ErrorNetwork, qerr))
		}
		select {
		case <-route.notify:
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("search %q: %w", base, ctx.Err())
		}
	}
}

// searchDone reads a SearchResultDone with go-asn1-ber (one per page: its
// cost does not matter, and go-ldap's result and control decoding then
// apply unchanged) and returns the paged results cookie.
func (s *session) searchDone(raw []byte, base string, refs *referrals) ([]byte, error) {
	packet, err := ber.DecodePacketErr(raw)
	if err != nil {
		return nil, fmt.Errorf("search %q: malformed SearchResultDone: %w", base, err)
	}
	if err := ldap.GetLDAPError(packet); err != nil {
		return nil, s.searchFailed(base, refs, err)
	}
	if len(packet.Children) < 3 {
		return nil, nil
	}
	for _, child := range packet.Children[2].Children {
		c, err := ldap.DecodeControl(child)
		if err != nil {
			return nil, fmt.Errorf("search %q: failed to decode child control: %w", base, err)
		}
		if p, ok := c.(*ldap.ControlPaging); ok {
			return p.Cookie, nil
		}
	}
	return nil, nil
}

// referenceURL reads the first URI of a SearchResultReference, as go-ldap
// reports it.
func referenceURL(raw []byte) (string, error) {
	packet, err := ber.DecodePacketErr(raw)
	if err != nil {
		return "", fmt.Errorf("malformed SearchResultReference: %w", err)
	}
	if len(packet.Children) < 2 || len(packet.Children[1].Children) == 0 {
		return "", errors.New("malformed SearchResultReference: no URI")
	}
	url, ok := packet.Children[1].Children[0].Value.(string)
	if !ok {
		return "", errors.New("malformed SearchResultReference: URI is not a string")
	}
	return url, nil
}

// encodeSearchRequest encodes req with the given controls as go-ldap does
// (SearchRequest.appendTo is not exported; TestEncodeSearchRequestMatchesGoLDAP).
func encodeSearchRequest(id int64, req *ldap.SearchRequest, controls []ldap.Control) ([]byte, error) {
	filter, err := ldap.CompileFilter(req.Filter)
	if err != nil {
		return nil, err
	}
	packet := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Request")
	packet.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, "MessageID"))
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchRequest, nil, "Search Request")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, req.BaseDN, "Base DN"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, uint64(req.Scope), "Scope"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, uint64(req.DerefAliases), "Deref Aliases"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, uint64(req.SizeLimit), "Size Limit"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, uint64(req.TimeLimit), "Time Limit"))
	op.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, req.TypesOnly, "Types Only"))
	op.AppendChild(filter)
	attrs := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Attributes")
	for _, a := range req.Attributes {
		attrs.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a, "Attribute"))
	}
	op.AppendChild(attrs)
	packet.AppendChild(op)
	if len(controls) > 0 {
		cs := ber.Encode(ber.ClassContext, ber.TypeConstructed, 0, nil, "Controls")
		for _, c := range controls {
			cs.AppendChild(c.Encode())
		}
		packet.AppendChild(cs)
	}
	return packet.Bytes(), nil
}

// abandon asks the server to stop answering request id (RFC 4511 4.11),
// best effort: the request was given up (cancelled or timed out).
func (w *wireConn) abandon(id int64) {
	packet := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Request")
	packet.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, w.abandonID(), "MessageID"))
	packet.AppendChild(ber.NewInteger(ber.ClassApplication, ber.TypePrimitive, ldap.ApplicationAbandonRequest, id, "Abandon Request"))
	_, _ = w.Write(packet.Bytes())
}

func (w *wireConn) abandonID() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	id := w.nextID
	w.nextID++
	return id
}

// pageDecoders decode the entries of a page on up to two goroutines (one
// per core the client is likely to have to itself; more only adds
// contention with the DC and onPage).
type pageDecoders []*entryDecoder

func newPageDecoders() pageDecoders {
	n := min(runtime.GOMAXPROCS(0), 2)
	d := make(pageDecoders, n)
	for i := range d {
		d[i] = newEntryDecoder()
	}
	return d
}

// minSplit is the smallest page worth splitting across goroutines.
const minSplit = 64

func (d pageDecoders) decode(page [][]byte) ([]*record, error) {
	recs := make([]*record, len(page))
	workers := len(d)
	if len(page) < minSplit {
		workers = 1
	}
	chunk := (len(page) + workers - 1) / max(workers, 1)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*chunk, min((w+1)*chunk, len(page))
		run := func() {
			for i := lo; i < hi; i++ {
				r, err := d[w].decodeSearchEntry(page[i])
				if err != nil {
					errs[w] = err
					return
				}
				recs[i] = r
			}
		}
		if w == workers-1 {
			run()
			continue
		}
		wg.Go(run)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err // the earliest entry's error
		}
	}
	return recs, nil
}
