// Package secdesc reads the binary, self-relative Windows security
// descriptors Active Directory stores in attributes such as
// msDS-AllowedToActOnBehalfOfOtherIdentity (MS-DTYP 2.4.6), and the SIDs in
// them (MS-DTYP 2.4.2). Written by hand: no maintained Go library parses
// them without Windows APIs, and only the DACL's trustees are needed. Every
// offset and length is checked against the buffer; a malformed descriptor
// is an error, never a panic (see FuzzParse).
package secdesc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Control flags of SECURITY_DESCRIPTOR (MS-DTYP 2.4.6).
const (
	ControlDACLPresent  uint16 = 0x0004
	ControlSelfRelative uint16 = 0x8000
)

// ACE types (MS-DTYP 2.4.4.1).
const (
	AccessAllowed               uint8 = 0x00
	AccessDenied                uint8 = 0x01
	AccessAllowedObject         uint8 = 0x05
	AccessDeniedObject          uint8 = 0x06
	AccessAllowedCallback       uint8 = 0x09
	AccessDeniedCallback        uint8 = 0x0A
	AccessAllowedCallbackObject uint8 = 0x0B
	AccessDeniedCallbackObject  uint8 = 0x0C
)

// AceFlagInheritOnly marks an ACE that applies to children only (MS-DTYP
// 2.4.4.2): it grants nothing on the object itself.
const AceFlagInheritOnly uint8 = 0x08

// ACE is one access control entry of a DACL. SID is empty for ACE types
// that carry no trustee this package knows how to find.
type ACE struct {
	Type  uint8
	Flags uint8
	Mask  uint32
	SID   string
}

// Allows reports whether the ACE grants access on the object itself.
func (a ACE) Allows() bool { return a.grants(false) }

// Denies reports whether the ACE denies access on the object itself.
func (a ACE) Denies() bool { return a.grants(true) }

func (a ACE) grants(deny bool) bool {
	if a.Flags&AceFlagInheritOnly != 0 || a.Mask == 0 || a.SID == "" {
		return false
	}
	switch a.Type {
	case AccessAllowed, AccessAllowedObject, AccessAllowedCallback, AccessAllowedCallbackObject:
		return !deny
	case AccessDenied, AccessDeniedObject, AccessDeniedCallback, AccessDeniedCallbackObject:
		return deny
	}
	return false
}

// Descriptor is the part of a security descriptor the audit reads.
type Descriptor struct {
	Control uint16
	Owner   string // "" when absent
	Group   string // "" when absent
	// DACLPresent is false when the descriptor has no DACL, and NullDACL is
	// true when it has a NULL one: both grant everyone every access.
	DACLPresent bool
	NullDACL    bool
	DACL        []ACE
}

// OpenToEveryone reports whether the descriptor has no DACL or a NULL DACL,
// which Windows access checks treat as granting everyone full access.
func (d *Descriptor) OpenToEveryone() bool { return !d.DACLPresent || d.NullDACL }

// Allowed returns, in DACL order and without repeats, the SIDs that an ACE
// allows on the object itself and no ACE denies explicitly. (A deny ACE for
// a group a principal belongs to also denies it; that takes group
// membership, which the descriptor alone does not give.)
func (d *Descriptor) Allowed() []string {
	denied := make(map[string]bool)
	for _, a := range d.DACL {
		if a.Denies() {
			denied[a.SID] = true
		}
	}
	var out []string
	seen := make(map[string]bool)
	for _, a := range d.DACL {
		if a.Allows() && !denied[a.SID] && !seen[a.SID] {
			seen[a.SID] = true
			out = append(out, a.SID)
		}
	}
	return out
}

const headerSize = 20

// Parse reads a self-relative SECURITY_DESCRIPTOR. The SACL is not read.
func Parse(b []byte) (*Descriptor, error) {
	if len(b) < headerSize {
		return nil, fmt.Errorf("security descriptor: %d bytes, want at least %d", len(b), headerSize)
	}
	if b[0] != 1 {
		return nil, fmt.Errorf("security descriptor: revision %d, want 1", b[0])
	}
	d := &Descriptor{Control: binary.LittleEndian.Uint16(b[2:])}
	if d.Control&ControlSelfRelative == 0 {
		return nil, errors.New("security descriptor: not self-relative")
	}
	var err error
	if d.Owner, err = sidAt(b, binary.LittleEndian.Uint32(b[4:]), "owner"); err != nil {
		return nil, err
	}
	if d.Group, err = sidAt(b, binary.LittleEndian.Uint32(b[8:]), "group"); err != nil {
		return nil, err
	}
	if d.Control&ControlDACLPresent == 0 {
		return d, nil
	}
	d.DACLPresent = true
	off := binary.LittleEndian.Uint32(b[16:])
	if off == 0 {
		d.NullDACL = true
		return d, nil
	}
	if d.DACL, err = parseACL(b, off); err != nil {
		return nil, err
	}
	return d, nil
}

func sidAt(b []byte, off uint32, what string) (string, error) {
	if off == 0 {
		return "", nil
	}
	if off < headerSize || uint64(off) >= uint64(len(b)) {
		return "", fmt.Errorf("security descriptor: %s offset %d outside %d bytes", what, off, len(b))
	}
	sid, _, err := ParseSID(b[off:])
	if err != nil {
		return "", fmt.Errorf("security descriptor: %s: %w", what, err)
	}
	return sid, nil
}

// parseACL reads the ACL at off (MS-DTYP 2.4.5).
func parseACL(b []byte, off uint32) ([]ACE, error) {
	if off < headerSize || uint64(off)+8 > uint64(len(b)) {
		return nil, fmt.Errorf("security descriptor: DACL offset %d outside %d bytes", off, len(b))
	}
	acl := b[off:]
	if rev := acl[0]; rev != 2 && rev != 4 {
		return nil, fmt.Errorf("security descriptor: DACL revision %d, want 2 or 4", rev)
	}
	size := int(binary.LittleEndian.Uint16(acl[2:]))
	count := int(binary.LittleEndian.Uint16(acl[4:]))
	if size < 8 || size > len(acl) {
		return nil, fmt.Errorf("security descriptor: DACL size %d outside %d bytes", size, len(acl))
	}
	acl = acl[:size]
	aces := make([]ACE, 0, min(count, size/8))
	pos := 8
	for i := range count {
		if pos+4 > len(acl) {
			return nil, fmt.Errorf("security descriptor: DACL ACE %d beyond the ACL's %d bytes", i, size)
		}
		aceSize := int(binary.LittleEndian.Uint16(acl[pos+2:]))
		if aceSize < 4 || pos+aceSize > len(acl) {
			return nil, fmt.Errorf("security descriptor: DACL ACE %d: size %d beyond the ACL's %d bytes", i, aceSize, size)
		}
		ace, err := parseACE(acl[pos : pos+aceSize])
		if err != nil {
			return nil, fmt.Errorf("security descriptor: DACL ACE %d: %w", i, err)
		}
		aces = append(aces, ace)
		pos += aceSize
	}
	return aces, nil
}

// parseACE reads one ACE (MS-DTYP 2.4.4). Types without a mask-then-SID
// layout this package knows keep an empty SID.
func parseACE(b []byte) (ACE, error) {
	a := ACE{Type: b[0], Flags: b[1]}
	body := b[4:]
	switch a.Type {
	case AccessAllowed, AccessDenied, AccessAllowedCallback, AccessDeniedCallback:
		// ACCESS_*_ACE and ACCESS_*_CALLBACK_ACE: Mask, Sid, [ApplicationData].
	case AccessAllowedObject, AccessDeniedObject, AccessAllowedCallbackObject, AccessDeniedCallbackObject:
		// ACCESS_*_OBJECT_ACE: Mask, Flags, [ObjectType], [InheritedObjectType], Sid.
		if len(body) < 8 {
			return a, fmt.Errorf("object ACE of %d bytes", len(b))
		}
		flags := binary.LittleEndian.Uint32(body[4:])
		skip := 8
		if flags&1 != 0 { // ACE_OBJECT_TYPE_PRESENT
			skip += 16
		}
		if flags&2 != 0 { // ACE_INHERITED_OBJECT_TYPE_PRESENT
			skip += 16
		}
		if len(body) < skip {
			return a, fmt.Errorf("object ACE of %d bytes, its flags need %d", len(b), 4+skip)
		}
		a.Mask = binary.LittleEndian.Uint32(body)
		sid, _, err := ParseSID(body[skip:])
		if err != nil {
			return a, err
		}
		a.SID = sid
		return a, nil
	default:
		return a, nil // audit and other ACE types: no trustee the audit needs
	}
	if len(body) < 4 {
		return a, fmt.Errorf("ACE of %d bytes", len(b))
	}
	a.Mask = binary.LittleEndian.Uint32(body)
	sid, _, err := ParseSID(body[4:])
	if err != nil {
		return a, err
	}
	a.SID = sid
	return a, nil
}

// ParseSID reads a binary SID (MS-DTYP 2.4.2.2) from the start of b and
// returns its string form (2.4.2.1) and its length in bytes.
func ParseSID(b []byte) (string, int, error) {
	if len(b) < 8 {
		return "", 0, fmt.Errorf("SID: %d bytes, want at least 8", len(b))
	}
	if b[0] != 1 {
		return "", 0, fmt.Errorf("SID: revision %d, want 1", b[0])
	}
	n := int(b[1])
	if n > 15 {
		return "", 0, fmt.Errorf("SID: %d sub-authorities, at most 15", n)
	}
	size := 8 + 4*n
	if len(b) < size {
		return "", 0, fmt.Errorf("SID: %d sub-authorities need %d bytes, have %d", n, size, len(b))
	}
	var auth uint64
	for _, c := range b[2:8] {
		auth = auth<<8 | uint64(c)
	}
	var s strings.Builder
	s.WriteString("S-1-")
	if auth >= 1<<32 {
		fmt.Fprintf(&s, "0x%012X", auth)
	} else {
		s.WriteString(strconv.FormatUint(auth, 10))
	}
	for i := range n {
		s.WriteByte('-')
		s.WriteString(strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[8+4*i:])), 10))
	}
	return s.String(), size, nil
}

// EncodeSID is the inverse of ParseSID.
func EncodeSID(sid string) ([]byte, error) {
	parts := strings.Split(sid, "-")
	if len(parts) < 3 || !strings.EqualFold(parts[0], "S") || parts[1] != "1" {
		return nil, fmt.Errorf("SID %q: want S-1-<authority>[-<sub-authority>...]", sid)
	}
	subs := parts[3:]
	if len(subs) > 15 {
		return nil, fmt.Errorf("SID %q: %d sub-authorities, at most 15", sid, len(subs))
	}
	auth, err := strconv.ParseUint(parts[2], 0, 48)
	if err != nil {
		return nil, fmt.Errorf("SID %q: authority: %w", sid, err)
	}
	out := make([]byte, 8+4*len(subs))
	out[0], out[1] = 1, byte(len(subs))
	for i := 7; i >= 2; i-- {
		out[i] = byte(auth)
		auth >>= 8
	}
	for i, p := range subs {
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("SID %q: sub-authority %d: %w", sid, i+1, err)
		}
		binary.LittleEndian.PutUint32(out[8+4*i:], uint32(v))
	}
	return out, nil
}

// AllowDescriptor builds the self-relative descriptor that AD tools write to
// msDS-AllowedToActOnBehalfOfOtherIdentity: owner owner (e.g. S-1-5-32-544,
// BUILTIN\Administrators) and a DACL with one ACCESS_ALLOWED ACE of mask for
// each SID, in order.
func AllowDescriptor(owner string, mask uint32, sids ...string) ([]byte, error) {
	ownerBytes, err := EncodeSID(owner)
	if err != nil {
		return nil, err
	}
	acl := make([]byte, 8)
	for _, s := range sids {
		sid, err := EncodeSID(s)
		if err != nil {
			return nil, err
		}
		ace := make([]byte, 8, 8+len(sid))
		ace[0] = AccessAllowed
		binary.LittleEndian.PutUint16(ace[2:], uint16(8+len(sid)))
		binary.LittleEndian.PutUint32(ace[4:], mask)
		acl = append(acl, append(ace, sid...)...)
	}
	if len(acl) > 0xFFFF {
		return nil, errors.New("security descriptor: DACL over 64 KiB")
	}
	acl[0] = 2 // ACL_REVISION
	binary.LittleEndian.PutUint16(acl[2:], uint16(len(acl)))
	binary.LittleEndian.PutUint16(acl[4:], uint16(len(sids)))
	sd := make([]byte, headerSize)
	sd[0] = 1
	binary.LittleEndian.PutUint16(sd[2:], ControlSelfRelative|ControlDACLPresent)
	binary.LittleEndian.PutUint32(sd[4:], headerSize)                          // owner
	binary.LittleEndian.PutUint32(sd[16:], uint32(headerSize+len(ownerBytes))) // DACL
	return append(append(sd, ownerBytes...), acl...), nil
}
