package ldapscan

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
)

// wireConn sits between go-ldap and the transport (a SASL security layer,
// TLS or TCP) and lets spnaudit read the responses to its own requests
// itself. go-ldap's reader decodes every message into a tree of ber.Packet
// (go-asn1-ber reads each primitive through io.ReadAll and re-encodes each
// child into its parent): for the inventory search that was 47% of the
// client's CPU and sat between the DC's pages (docs/performance.md, "Live").
//
// One goroutine (pump) reads the transport and splits it into LDAP messages
// by their BER length; a message whose ID belongs to a request sent through
// send is queued for that request, every other one is handed to go-ldap
// through Read, byte for byte. go-ldap never reads the transport itself, so
// binding, range retrieval and the other reads keep running through go-ldap
// on the same connection while the inventory pages are read here. Neither
// side ever blocks the pump: both queues grow instead, bounded by the
// requests each side has in flight (the paged search asks for at most one
// page ahead).
type wireConn struct {
	net.Conn // the transport below; Close closes it and ends the pump

	writeMu sync.Mutex // go-ldap's writes and ours are whole messages each

	mu   sync.Mutex
	cond *sync.Cond // go-ldap's Read waits on it
	// toLDAP holds go-ldap's messages not read yet; err is the pump's read
	// error, returned once toLDAP is drained.
	toLDAP []byte
	err    error
	routes map[int64]*wireRoute
	nextID int64
}

// wireIDBase is the first message ID of our requests: go-ldap numbers its
// own from 1, one per request, and never gets near it.
const wireIDBase = 1 << 30

// maxWireMessage bounds one LDAP message (a directory entry): far above
// what an inventory entry carries (AD returns at most 1500 values of an
// attribute per message), low enough that a broken length cannot make us
// buffer gigabytes.
const maxWireMessage = 256 << 20

// wireChunk is the most a message's buffer is allocated ahead of its bytes.
const wireChunk = 1 << 20

func newWireConn(conn net.Conn) *wireConn {
	w := &wireConn{Conn: conn, routes: map[int64]*wireRoute{}, nextID: wireIDBase}
	w.cond = sync.NewCond(&w.mu)
	go w.pump()
	return w
}

// wireMessage is one LDAP message read for one of our requests.
type wireMessage struct {
	op  byte   // the protocolOp's tag byte
	raw []byte // the whole LDAPMessage
}

// wireRoute queues the messages of one of our requests. Its queue is only
// read by the goroutine that sent the request.
type wireRoute struct {
	mu     sync.Mutex
	queue  []wireMessage
	err    error
	notify chan struct{} // capacity 1: something was queued, or err set
}

func (r *wireRoute) push(m wireMessage) {
	r.mu.Lock()
	r.queue = append(r.queue, m)
	r.mu.Unlock()
	r.wake()
}

func (r *wireRoute) fail(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
	r.wake()
}

func (r *wireRoute) wake() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// take returns the queued messages (possibly none) and the connection's
// error once nothing is left queued.
func (r *wireRoute) take(into []wireMessage) ([]wireMessage, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.queue) == 0 {
		return into, r.err
	}
	into = append(into, r.queue...)
	clear(r.queue)
	r.queue = r.queue[:0]
	return into, nil
}

// send writes one request built by encode for a fresh message ID and
// returns the route its responses arrive on; release it with done.
func (w *wireConn) send(encode func(id int64) ([]byte, error)) (int64, *wireRoute, error) {
	w.mu.Lock()
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		return 0, nil, err
	}
	id := w.nextID
	w.nextID++
	r := &wireRoute{notify: make(chan struct{}, 1)}
	w.routes[id] = r
	w.mu.Unlock()
	msg, err := encode(id)
	if err == nil {
		_, err = w.Write(msg)
	}
	if err != nil {
		w.done(id)
		return 0, nil, err
	}
	return id, r, nil
}

// done stops routing id to us: late messages for it are dropped.
func (w *wireConn) done(id int64) {
	w.mu.Lock()
	delete(w.routes, id)
	w.mu.Unlock()
}

// Write sends one whole message (go-ldap writes each request at once).
func (w *wireConn) Write(p []byte) (int, error) {
	w.writeMu.Lock()
	defer w.writeMu.Unlock()
	return w.Conn.Write(p)
}

// Read hands go-ldap its messages.
func (w *wireConn) Read(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.toLDAP) == 0 && w.err == nil {
		w.cond.Wait()
	}
	if len(w.toLDAP) == 0 {
		return 0, w.err
	}
	n := copy(p, w.toLDAP)
	w.toLDAP = w.toLDAP[n:]
	if len(w.toLDAP) == 0 {
		w.toLDAP = nil // let the drained buffer go
	}
	return n, nil
}

// pump reads messages until the transport fails or is closed; then every
// route and go-ldap get the error.
func (w *wireConn) pump() {
	br := bufio.NewReaderSize(w.Conn, 64<<10)
	var err error
	for {
		var m wireMessage
		var id int64
		if m, id, err = readWireMessage(br); err != nil {
			break
		}
		w.mu.Lock()
		if r, ours := w.routes[id]; ours {
			w.mu.Unlock()
			r.push(m)
			continue
		}
		if id < wireIDBase {
			w.toLDAP = append(w.toLDAP, m.raw...)
			w.cond.Signal()
		} // else: a late answer to a request of ours that was given up
		w.mu.Unlock()
	}
	if errors.Is(err, io.EOF) {
		err = fmt.Errorf("the server closed the connection: %w", err)
	}
	w.mu.Lock()
	w.err = err
	routes := w.routes
	w.routes = map[int64]*wireRoute{}
	w.cond.Broadcast()
	w.mu.Unlock()
	for _, r := range routes {
		r.fail(err)
	}
}

// readWireMessage reads one LDAPMessage: its SEQUENCE header, then as many
// bytes as it says, and returns it with its message ID and the tag of its
// protocolOp. The contents are checked by whoever decodes them (go-ldap,
// or decodeSearchEntry).
func readWireMessage(br *bufio.Reader) (wireMessage, int64, error) {
	var head [6]byte
	if _, err := io.ReadFull(br, head[:2]); err != nil {
		return wireMessage{}, 0, err
	}
	if head[0] != tagSequence {
		return wireMessage{}, 0, fmt.Errorf("ldap message: tag 0x%02x, want a SEQUENCE", head[0])
	}
	hlen := 2
	if head[1]&0x80 != 0 {
		n := int(head[1] & 0x7f)
		if n == 0 || n > 4 {
			return wireMessage{}, 0, fmt.Errorf("ldap message: length of %d bytes (indefinite or over 4 bytes)", n)
		}
		if _, err := io.ReadFull(br, head[2:2+n]); err != nil {
			return wireMessage{}, 0, unexpectedEOF(err)
		}
		hlen += n
	}
	size, _, err := berLength(head[1:hlen])
	if err != nil {
		return wireMessage{}, 0, fmt.Errorf("ldap message: %w", err)
	}
	if size > maxWireMessage {
		return wireMessage{}, 0, fmt.Errorf("ldap message of %d bytes: over the %d accepted", size, maxWireMessage)
	}
	// Exact for the usual message; a large one grows as its bytes arrive,
	// so that a length the input does not back allocates nothing big.
	raw := make([]byte, hlen, hlen+min(size, wireChunk))
	copy(raw, head[:hlen])
	for len(raw) < hlen+size {
		if len(raw) == cap(raw) {
			raw = slices.Grow(raw, len(raw))
		}
		n := min(cap(raw), hlen+size) - len(raw)
		if _, err := io.ReadFull(br, raw[len(raw):len(raw)+n]); err != nil {
			return wireMessage{}, 0, unexpectedEOF(err)
		}
		raw = raw[:len(raw)+n]
	}
	id, op, err := messageIDAndOp(raw[hlen:])
	if err != nil {
		return wireMessage{}, 0, fmt.Errorf("ldap message: %w", err)
	}
	return wireMessage{op: op, raw: raw}, id, nil
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
