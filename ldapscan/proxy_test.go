package ldapscan

import (
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// proxy sits between the scanner and the fake AD on plain LDAP. It can cut
// every connection after a number of pages, and it rewrites what gldap
// cannot send: an entry whose DN is "ref:<url>" becomes a search result
// reference (the DN is "ref:<url> ,<parent DN>"), and a referral result with the diagnostic "referral:<urls>"
// gets its referral field.
type proxy struct {
	addr        string
	target      string
	dropAfter   atomic.Int64 // cut connections once this many paged results were relayed; 0: never
	pagesRelays atomic.Int64
	accepted    atomic.Int64

	mu       sync.Mutex
	conns    []net.Conn
	listener net.Listener
}

func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{addr: l.Addr().String(), target: target, listener: l}
	t.Cleanup(func() {
		l.Close()
		p.cut()
	})
	go func() {
		for {
			client, err := l.Accept()
			if err != nil {
				return
			}
			p.accepted.Add(1)
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			p.track(client, server)
			go func() { _, _ = io.Copy(server, client); server.Close() }()
			go p.relay(client, server)
		}
	}()
	return p
}

func (p *proxy) track(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns = append(p.conns, conns...)
}

// cut closes every connection, as a DC restart or a network cut would.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// refuse stops accepting connections and cuts the open ones: the server is
// down.
func (p *proxy) refuse() {
	p.listener.Close()
	p.cut()
}

func (p *proxy) relay(client, server net.Conn) {
	defer client.Close()
	for {
		packet, err := ber.ReadPacket(server)
		if err != nil {
			return
		}
		if isPagedDone(packet) {
			if n := p.pagesRelays.Add(1); p.dropAfter.Load() > 0 && n > p.dropAfter.Load() {
				p.cut()
				return
			}
		}
		if _, err := client.Write(rewrite(packet).Bytes()); err != nil {
			return
		}
	}
}

func isPagedDone(packet *ber.Packet) bool {
	return len(packet.Children) > 2 && packet.Children[1].Tag == ldap.ApplicationSearchResultDone
}

func rewrite(packet *ber.Packet) *ber.Packet {
	if len(packet.Children) < 2 {
		return packet
	}
	op := packet.Children[1]
	switch op.Tag {
	case ldap.ApplicationSearchResultEntry:
		marker, ok := strings.CutPrefix(op.Children[0].Value.(string), "ref:")
		if !ok {
			return packet
		}
		url, _, _ := strings.Cut(marker, " ")
		ref := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchResultReference, nil, "Search Result Reference")
		ref.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, url, "URI"))
		return envelope(packet, ref)
	case ldap.ApplicationSearchResultDone:
		if len(op.Children) < 3 {
			return packet
		}
		urls, ok := strings.CutPrefix(op.Children[2].Value.(string), "referral:")
		if !ok {
			return packet
		}
		field := ber.Encode(ber.ClassContext, ber.TypeConstructed, 3, nil, "Referral")
		for _, u := range strings.Fields(urls) {
			field.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, u, "URI"))
		}
		done := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchResultDone, nil, "Search Result Done")
		for _, c := range op.Children[:2] {
			done.AppendChild(c)
		}
		done.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "Diagnostic"))
		done.AppendChild(field)
		return envelope(packet, done)
	}
	return packet
}

func envelope(orig, op *ber.Packet) *ber.Packet {
	out := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Response")
	out.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, orig.Children[0].Value, "MessageID"))
	out.AppendChild(op)
	return out
}
