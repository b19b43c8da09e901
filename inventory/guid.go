package inventory

import (
	"bytes"
	"fmt"
)

// GUID is an objectGUID. It holds the 16 bytes in the order their hex
// digits have in the canonical text form (8-4-4-4-12, the first three
// fields byte-swapped from the wire), so that comparing two GUIDs compares
// their texts. It is 16 bytes in the object where the text was a 16-byte
// string header and 36 bytes of text (issue 9), and a cheap map key. The
// zero GUID stands for "none" (an LDIF export without objectGUID): AD
// never gives an object the nil GUID.
type GUID [16]byte

// GUIDFromBytes returns the GUID of b, an objectGUID value as LDAP returns
// it (the first three fields little-endian).
func GUIDFromBytes(b []byte) (GUID, error) {
	var g GUID
	if len(b) != 16 {
		return g, fmt.Errorf("want 16 bytes, got %d", len(b))
	}
	for i, k := range guidWireOrder {
		g[i] = b[k]
	}
	return g, nil
}

// guidWireOrder is, for each byte of the text order, its position on the
// wire.
var guidWireOrder = [16]int{3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15}

// ParseGUID parses the canonical text form of a GUID
// (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, hex digits of either case). ""
// is the zero GUID.
func ParseGUID(s string) (GUID, error) {
	var g GUID
	if s == "" {
		return g, nil
	}
	if len(s) != 36 {
		return g, fmt.Errorf("objectGUID %q is not a GUID: want 36 characters (8-4-4-4-12 hex digits), got %d", s, len(s))
	}
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if s[i] != '-' {
				return GUID{}, fmt.Errorf("objectGUID %q is not a GUID: want '-' at character %d (8-4-4-4-12 hex digits)", s, i+1)
			}
			i++
			continue
		}
		hi, ok1 := fromHex(s[i])
		lo, ok2 := fromHex(s[i+1])
		if !ok1 || !ok2 {
			return GUID{}, fmt.Errorf("objectGUID %q is not a GUID: %q at character %d is not a hex digit", s, s[i:i+2], i+1)
		}
		g[j] = hi<<4 | lo
		j++
		i += 2
	}
	return g, nil
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// MustParseGUID is ParseGUID for constants (tests, generated directories):
// it panics on a malformed GUID.
func MustParseGUID(s string) GUID {
	g, err := ParseGUID(s)
	if err != nil {
		panic(err)
	}
	return g
}

// IsZero reports whether g is the zero GUID ("none"); encoding/json's
// omitzero omits it.
func (g GUID) IsZero() bool { return g == GUID{} }

// Compare orders GUIDs as their texts order.
func (g GUID) Compare(h GUID) int { return bytes.Compare(g[:], h[:]) }

// AppendText appends the canonical text form, lower case.
func (g GUID) AppendText(dst []byte) ([]byte, error) { return g.appendText(dst), nil }

func (g GUID) appendText(dst []byte) []byte {
	// Hex by hand, not fmt: one GUID per object of a large export (issue 9).
	const hexDigits = "0123456789abcdef"
	for i, b := range g {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[b>>4], hexDigits[b&0xf])
	}
	return dst
}

// String returns the canonical text form, lower case.
func (g GUID) String() string {
	var buf [36]byte
	return string(g.appendText(buf[:0]))
}

// MarshalText writes the JSON "guid" as the text form (Object's omits a
// zero GUID).
func (g GUID) MarshalText() ([]byte, error) { return g.appendText(make([]byte, 0, 36)), nil }

// UnmarshalText parses the text form; a malformed GUID is an error.
func (g *GUID) UnmarshalText(b []byte) error {
	v, err := ParseGUID(string(b))
	if err != nil {
		return err
	}
	*g = v
	return nil
}
