package krb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// maxReceiveBuffer is the largest wrap token we accept, advertised to the
// server in the SASL negotiation (a 3-byte field).
const maxReceiveBuffer = 1<<24 - 1

// readChunk is how much is read from the network at a time.
const readChunk = 32 << 10

// errFrameTooLarge and errUnsealedFrame end a connection whose server breaks
// the negotiated layer: a frame larger than the buffer we offered (which
// would otherwise make us buffer up to 4 GiB), or a merely signed frame on a
// sealed connection (a downgrade that would let directory data cross in
// clear).
var (
	errFrameTooLarge = errors.New("gssapi: server sent a SASL frame larger than the buffer negotiated")
	errUnsealedFrame = errors.New("gssapi: server sent an unencrypted frame on a sealed connection")
)

// layerState is an installed SASL security layer.
type layerState struct {
	ctx *securityContext
	// seal says whether tokens we send are encrypted; received tokens must
	// be sealed too when it is set.
	seal bool
	// maxPlain is the largest payload per token the peer accepts.
	maxPlain int
}

// SASLConn is a net.Conn that carries LDAP in clear until the SASL bind
// completes and, once Install is called, frames every message as RFC 4752
// says: a 4-byte big-endian length and an RFC 4121 wrap token. Writes and
// reads may run concurrently (go-ldap reads in its own goroutine).
type SASLConn struct {
	net.Conn

	layer atomic.Pointer[layerState]

	writeMu sync.Mutex

	readMu sync.Mutex
	// readErr is the network's read error, returned once the bytes read
	// before it are consumed; broken is a bad frame, which ends the stream.
	readErr error
	broken  error
	// plain holds bytes ready for Read; raw holds wrapped bytes not yet a
	// whole frame.
	plain []byte
	raw   []byte
	buf   []byte
}

// NewSASLConn wraps a freshly dialled connection (net.Conn or *tls.Conn).
func NewSASLConn(conn net.Conn) *SASLConn {
	return &SASLConn{Conn: conn, buf: make([]byte, readChunk)}
}

// Install switches the connection to the security layer g negotiated in its
// successful bind (after GSSAPIBindRequest returns nil). With Layer None it
// does nothing. A negotiated layer can be installed once, on one connection.
func (c *SASLConn) Install(g *GSSAPI) error {
	st, err := g.takeLayer()
	if err != nil || st == nil {
		return err
	}
	if !c.layer.CompareAndSwap(nil, st) {
		return errors.New("gssapi: a security layer is already installed on this connection")
	}
	return nil
}

// Write sends p, split and wrapped when a layer is installed. It reports
// len(p) only when all of it was sent.
func (c *SASLConn) Write(p []byte) (int, error) {
	st := c.layer.Load()
	if st == nil {
		return c.Conn.Write(p)
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	for off := 0; off < len(p); {
		n := min(len(p)-off, st.maxPlain)
		token, err := st.ctx.wrap(p[off:off+n], st.seal)
		if err != nil {
			return off, err
		}
		frame := make([]byte, 4, 4+len(token))
		binary.BigEndian.PutUint32(frame, uint32(len(token)))
		if _, err := c.Conn.Write(append(frame, token...)); err != nil {
			return off, err
		}
		off += n
	}
	return len(p), nil
}

// Read returns clear bytes. go-ldap's reader is usually already blocked here
// when the bind completes, so whether the bytes are wrapped is decided when
// they arrive, not when Read was called.
func (c *SASLConn) Read(p []byte) (int, error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	for {
		if len(c.plain) > 0 {
			n := copy(p, c.plain)
			c.plain = c.plain[n:]
			return n, nil
		}
		if c.broken != nil {
			return 0, c.broken
		}
		if st := c.layer.Load(); st != nil {
			done, err := c.decodeFrame(st)
			if err != nil {
				c.broken = err
			}
			if done || err != nil {
				continue
			}
		}
		if c.readErr != nil {
			if errors.Is(c.readErr, io.EOF) && len(c.raw) > 0 {
				return 0, io.ErrUnexpectedEOF
			}
			return 0, c.readErr
		}
		n, err := c.Conn.Read(c.buf)
		if n > 0 {
			if c.layer.Load() == nil {
				c.plain = append(c.plain[:0], c.buf[:n]...)
			} else {
				c.raw = append(c.raw, c.buf[:n]...)
			}
		}
		c.readErr = err
	}
}

// decodeFrame unwraps the first frame of c.raw into c.plain if it is complete.
func (c *SASLConn) decodeFrame(st *layerState) (bool, error) {
	if len(c.raw) < 4 {
		return false, nil
	}
	size := binary.BigEndian.Uint32(c.raw)
	if size > maxReceiveBuffer {
		return false, fmt.Errorf("%w (%d bytes, %d negotiated)", errFrameTooLarge, size, maxReceiveBuffer)
	}
	if len(c.raw) < 4+int(size) {
		return false, nil
	}
	payload, sealed, err := st.ctx.unwrap(c.raw[4 : 4+size])
	if err != nil {
		return false, err
	}
	if st.seal && !sealed {
		return false, errUnsealedFrame
	}
	c.plain = append(c.plain[:0], payload...)
	c.raw = append(c.raw[:0], c.raw[4+size:]...)
	return true, nil
}
