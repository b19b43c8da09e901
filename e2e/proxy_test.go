package e2e

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
)

// ldapProxy stands between spnaudit and the lab DC, so a test can break the
// connection without touching the DC that other test packages share: cut
// every connection in the middle of a search page, or refuse connections
// as a stopped DC would, then accept them again as a restarted one.
//
// To find the middle of a page it reads the DC's answers: plain LDAP
// messages during the bind, then SASL buffers holding RFC 4121 wrap tokens.
// Only signed tokens (ldap.sasl_security: sign) can be read; sealed ones are
// relayed untouched.
type ldapProxy struct {
	t      testing.TB
	addr   string
	target string

	mu       sync.Mutex
	listener net.Listener // nil while refusing
	conns    map[net.Conn]struct{}

	// armed is the action to take on the next search result entry under a
	// DN suffix; nil when disarmed.
	armed atomic.Pointer[entryTrigger]
}

type entryTrigger struct {
	suffix string // lower case
	action func()
	fired  chan struct{}
}

func newLDAPProxy(t testing.TB, target string) *ldapProxy {
	t.Helper()
	p := &ldapProxy{t: t, target: target, conns: map[net.Conn]struct{}{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = l.Addr().String()
	p.serve(l)
	t.Cleanup(p.refuse)
	return p
}

func (p *ldapProxy) serve(l net.Listener) {
	p.mu.Lock()
	p.listener = l
	p.mu.Unlock()
	go func() {
		for {
			client, err := l.Accept()
			if err != nil {
				return
			}
			server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
			if err != nil {
				client.Close()
				continue
			}
			if !p.track(client, server) {
				continue
			}
			go func() {
				_, _ = io.Copy(server, client)
				server.Close()
			}()
			go p.relayAnswers(client, server)
		}
	}()
}

// track registers a relayed pair, or closes it when the proxy started
// refusing meanwhile.
func (p *ldapProxy) track(client, server net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.listener == nil {
		client.Close()
		server.Close()
		return false
	}
	p.conns[client], p.conns[server] = struct{}{}, struct{}{}
	return true
}

// cut closes every relayed connection, as a network cut would.
func (p *ldapProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// refuse closes the listener and every connection: the DC is down, new
// connections are refused.
func (p *ldapProxy) refuse() {
	p.mu.Lock()
	if p.listener != nil {
		p.listener.Close()
		p.listener = nil
	}
	p.mu.Unlock()
	p.cut()
}

// allow listens again on the same address: the DC is back.
func (p *ldapProxy) allow() {
	p.t.Helper()
	var err error
	for range 50 {
		var l net.Listener
		if l, err = net.Listen("tcp", p.addr); err == nil {
			p.serve(l)
			return
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.t.Fatalf("proxy: listen again on %s: %v", p.addr, err)
}

// onEntry arms the proxy: the next search result entry whose DN ends with
// suffix is relayed only in part (half of the SASL buffer carrying it), then
// action runs. The returned channel is closed once it has.
func (p *ldapProxy) onEntry(suffix string, action func()) <-chan struct{} {
	trig := &entryTrigger{suffix: strings.ToLower(suffix), action: action, fired: make(chan struct{})}
	p.armed.Store(trig)
	return trig.fired
}

func (p *ldapProxy) relayAnswers(client, server net.Conn) {
	defer client.Close()
	r := bufio.NewReader(server)
	for {
		frame, messages, err := readAnswer(r)
		if err != nil {
			return
		}
		if trig := p.armed.Load(); trig != nil && hasEntryUnder(messages, trig.suffix) && p.armed.CompareAndSwap(trig, nil) {
			_, _ = client.Write(frame[:len(frame)/2])
			trig.action()
			close(trig.fired)
			return
		}
		if _, err := client.Write(frame); err != nil {
			return
		}
	}
}

// readAnswer reads one unit of the DC's stream: a plain LDAP message (before
// the SASL layer is installed) or one SASL buffer. It returns the raw bytes
// and the LDAP messages it could decode.
func readAnswer(r *bufio.Reader) ([]byte, []*ber.Packet, error) {
	first, err := r.Peek(1)
	if err != nil {
		return nil, nil, err
	}
	if first[0] == 0x30 { // SEQUENCE: an LDAPMessage without a layer
		raw, err := readBERElement(r)
		if err != nil {
			return nil, nil, err
		}
		return raw, decodeMessages(raw), nil
	}
	// A SASL buffer: a 4-byte length, then a wrap token (its first byte is
	// 0 for any buffer under 16 MiB, so never 0x30).
	var header [4]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return nil, nil, err
	}
	frame := make([]byte, 4+binary.BigEndian.Uint32(header[:]))
	copy(frame, header[:])
	if _, err := io.ReadFull(r, frame[4:]); err != nil {
		return nil, nil, err
	}
	return frame, decodeMessages(signedPayload(frame[4:])), nil
}

// signedPayload returns the data of an RFC 4121 wrap token without
// confidentiality (the checksum removed, the rotation undone), or nil for a
// sealed or unknown token.
func signedPayload(token []byte) []byte {
	const headerLen, sealedFlag = 16, 0x02
	if len(token) < headerLen || token[0] != 0x05 || token[1] != 0x04 || token[2]&sealedFlag != 0 {
		return nil
	}
	ec := int(binary.BigEndian.Uint16(token[4:6])) // checksum length when not sealed
	data := token[headerLen:]
	if len(data) < ec {
		return nil
	}
	rrc := int(binary.BigEndian.Uint16(token[6:8])) % max(len(data), 1)
	data = append(append([]byte{}, data[rrc:]...), data[:rrc]...)
	return data[:len(data)-ec]
}

// readBERElement reads one definite-length BER element.
func readBERElement(r *bufio.Reader) ([]byte, error) {
	head := make([]byte, 2)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, err
	}
	length := int(head[1])
	if head[1]&0x80 != 0 {
		n := int(head[1] & 0x7f)
		if n == 0 || n > 4 {
			return nil, fmt.Errorf("unsupported BER length form %#x", head[1])
		}
		ext := make([]byte, n)
		if _, err := io.ReadFull(r, ext); err != nil {
			return nil, err
		}
		head = append(head, ext...)
		length = 0
		for _, b := range ext {
			length = length<<8 | int(b)
		}
	}
	raw := make([]byte, len(head)+length)
	copy(raw, head)
	_, err := io.ReadFull(r, raw[len(head):])
	return raw, err
}

// decodeMessages decodes the LDAP messages data holds, up to the first it
// cannot read.
func decodeMessages(data []byte) []*ber.Packet {
	var out []*ber.Packet
	r := bufio.NewReader(bytes.NewReader(data))
	for {
		raw, err := readBERElement(r)
		if err != nil {
			return out
		}
		p, err := ber.DecodePacketErr(raw)
		if err != nil {
			return out
		}
		out = append(out, p)
	}
}

// searchResultEntry is the protocolOp tag of an entry (RFC 4511 4.5.2).
const searchResultEntry = 4

func hasEntryUnder(messages []*ber.Packet, suffix string) bool {
	for _, m := range messages {
		if len(m.Children) < 2 {
			continue
		}
		op := m.Children[1]
		if op.ClassType != ber.ClassApplication || op.Tag != searchResultEntry || len(op.Children) == 0 {
			continue
		}
		if dn, ok := op.Children[0].Value.(string); ok && strings.HasSuffix(strings.ToLower(dn), suffix) {
			return true
		}
	}
	return false
}
