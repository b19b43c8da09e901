package ldapscan

import (
	"errors"
	"fmt"
)

// The BER tags of the LDAP messages read by hand (RFC 4511 4.1, 4.5.2): all
// fit one byte.
const (
	tagInteger     = 0x02
	tagOctetString = 0x04
	tagSequence    = 0x30
	tagSet         = 0x31
	tagControls    = 0xa0 // [0] constructed
	tagSearchEntry = 0x64 // [APPLICATION 4] constructed
	tagSearchDone  = 0x65 // [APPLICATION 5] constructed
	tagSearchRef   = 0x73 // [APPLICATION 19] constructed
	tagIntermed    = 0x79 // [APPLICATION 25] constructed
)

var errTruncated = errors.New("truncated")

// berLength decodes a definite length (RFC 4511 5.1: LDAP uses only the
// definite form) at b: short form, or long form of 1 to 4 bytes, leading
// zeros allowed (AD always writes 4). It returns the length and the bytes
// it took.
func berLength(b []byte) (int, int, error) {
	if len(b) == 0 {
		return 0, 0, errTruncated
	}
	if b[0] < 0x80 {
		return int(b[0]), 1, nil
	}
	n := int(b[0] & 0x7f)
	if n == 0 {
		return 0, 0, errors.New("indefinite length")
	}
	if n > 4 {
		return 0, 0, fmt.Errorf("length of %d bytes", n)
	}
	if len(b) < 1+n {
		return 0, 0, errTruncated
	}
	size := 0
	for _, c := range b[1 : 1+n] {
		size = size<<8 | int(c)
	}
	return size, 1 + n, nil
}

// berElement splits the element of tag want at the start of b into its
// contents and the rest of b.
func berElement(b []byte, want byte, what string) (contents, rest []byte, err error) {
	if len(b) == 0 {
		return nil, nil, fmt.Errorf("%s: %w", what, errTruncated)
	}
	if b[0] != want {
		return nil, nil, fmt.Errorf("%s: tag 0x%02x, want 0x%02x", what, b[0], want)
	}
	size, n, err := berLength(b[1:])
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", what, err)
	}
	end := 1 + n + size
	if size > len(b)-1-n {
		return nil, nil, fmt.Errorf("%s: length %d past the end of its container", what, size)
	}
	return b[1+n : end], b[end:], nil
}

// messageIDAndOp reads the messageID and the protocolOp's tag from the
// contents of an LDAPMessage.
func messageIDAndOp(b []byte) (int64, byte, error) {
	v, rest, err := berElement(b, tagInteger, "messageID")
	if err != nil {
		return 0, 0, err
	}
	// MessageID ::= INTEGER (0 .. maxInt), maxInt 2^31-1: at most 4 bytes,
	// non-negative.
	if len(v) == 0 || len(v) > 4 || v[0]&0x80 != 0 {
		return 0, 0, fmt.Errorf("messageID: %d-byte integer % x out of range", len(v), v)
	}
	var id int64
	for _, c := range v {
		id = id<<8 | int64(c)
	}
	if len(rest) == 0 {
		return 0, 0, errors.New("no protocolOp")
	}
	return id, rest[0], nil
}

// entryDecoder turns SearchResultEntry messages into records. It keeps the
// attribute descriptions it has seen, so that each entry of a search does
// not allocate them again; one decoder serves one goroutine.
type entryDecoder struct {
	names map[string]string
}

func newEntryDecoder() *entryDecoder { return &entryDecoder{names: map[string]string{}} }

// decodeSearchEntry decodes a whole LDAPMessage holding a SearchResultEntry
// (RFC 4511 4.5.2) into a record, ranged values merged as recordFromEntry
// does. Values point into raw, which must not change afterwards. It is
// strict: every length must fit its container exactly, tags must be the
// ones RFC 4511 gives (strings in primitive form only, 5.1), and nothing may
// follow the message; controls on an entry are checked for framing and
// ignored, as go-ldap's are by every caller.
func (d *entryDecoder) decodeSearchEntry(raw []byte) (*record, error) {
	msg, rest, err := berElement(raw, tagSequence, "LDAPMessage")
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("LDAPMessage: %d bytes after its end", len(rest))
	}
	if _, _, err := messageIDAndOp(msg); err != nil {
		return nil, err
	}
	_, msg, _ = berElement(msg, tagInteger, "messageID")
	op, msg, err := berElement(msg, tagSearchEntry, "searchResEntry")
	if err != nil {
		return nil, err
	}
	if len(msg) > 0 {
		if _, msg, err = berElement(msg, tagControls, "controls"); err != nil {
			return nil, err
		}
		if len(msg) > 0 {
			return nil, fmt.Errorf("LDAPMessage: %d bytes after the controls", len(msg))
		}
	}
	dn, op, err := berElement(op, tagOctetString, "objectName")
	if err != nil {
		return nil, err
	}
	attrs, op, err := berElement(op, tagSequence, "attributes")
	if err != nil {
		return nil, err
	}
	if len(op) > 0 {
		return nil, fmt.Errorf("searchResEntry: %d bytes after the attributes", len(op))
	}
	// One backing array for the values of all attributes, each attribute's
	// part capped so that appending to it cannot reach the next one.
	total, err := countValues(attrs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dn, err)
	}
	backing := make([][]byte, 0, total)
	r := newRecord(string(dn))
	for len(attrs) > 0 {
		var attr, vals, desc []byte
		attr, attrs, _ = berElement(attrs, tagSequence, "")
		desc, attr, _ = berElement(attr, tagOctetString, "")
		vals, _, _ = berElement(attr, tagSet, "")
		start := len(backing)
		for len(vals) > 0 {
			var v []byte
			v, vals, _ = berElement(vals, tagOctetString, "")
			backing = append(backing, v)
		}
		if err := r.add(d.name(desc), backing[start:len(backing):len(backing)]); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// countValues checks the framing of a PartialAttributeList and counts its
// values, so that decodeSearchEntry can walk it without further checks.
func countValues(attrs []byte) (int, error) {
	total := 0
	for len(attrs) > 0 {
		attr, rest, err := berElement(attrs, tagSequence, "PartialAttribute")
		if err != nil {
			return 0, err
		}
		attrs = rest
		desc, attr, err := berElement(attr, tagOctetString, "attribute type")
		if err != nil {
			return 0, err
		}
		// The attribute is named only on error: formatting its name for
		// every attribute read was 7% of the client's CPU.
		vals, attr, err := berElement(attr, tagSet, "values")
		if err != nil {
			return 0, fmt.Errorf("attribute %q: %w", desc, err)
		}
		if len(attr) > 0 {
			return 0, fmt.Errorf("attribute %q: %d bytes after its values", desc, len(attr))
		}
		for len(vals) > 0 {
			if _, vals, err = berElement(vals, tagOctetString, "value"); err != nil {
				return 0, fmt.Errorf("attribute %q: %w", desc, err)
			}
			total++
		}
	}
	return total, nil
}

// name returns desc as a string, allocated once per decoder.
func (d *entryDecoder) name(desc []byte) string {
	if s, ok := d.names[string(desc)]; ok {
		return s
	}
	s := string(desc)
	if len(d.names) < 256 {
		d.names[s] = s
	}
	return s
}
