package secdesc

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
)

// rbcdHex is the descriptor Set-ADComputer -PrincipalsAllowedToDelegateToAccount
// writes, as Windows shows it in SDDL: O:BAD:(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;S-1-5-21-1-2-3-1104).
// Built byte by byte from MS-DTYP 2.4.6 (header), 2.4.2.2 (SIDs), 2.4.5 (ACL)
// and 2.4.4.2 (ACCESS_ALLOWED_ACE), independently of AllowDescriptor.
const rbcdHex = "01000480" + // revision 1, sbz1, control SE_DACL_PRESENT|SE_SELF_RELATIVE
	"14000000" + "00000000" + "00000000" + "24000000" + // owner at 20, no group, no SACL, DACL at 36
	"010200000000000520000000" + "20020000" + // owner S-1-5-32-544
	"02002c00" + "01000000" + // ACL revision 2, size 44, 1 ACE
	"00002400" + "ff010f00" + // ACCESS_ALLOWED, flags 0, size 36, mask 0xF01FF
	"010500000000000515000000" + "01000000" + "02000000" + "03000000" + "50040000" // S-1-5-21-1-2-3-1104

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// objectACE builds an ACCESS_*_OBJECT_ACE with both GUIDs present.
func objectACE(t testing.TB, typ uint8, sid string) []byte {
	t.Helper()
	s, err := EncodeSID(sid)
	if err != nil {
		t.Fatal(err)
	}
	ace := make([]byte, 4+4+4+32, 4+4+4+32+len(s))
	ace[0] = typ
	binary.LittleEndian.PutUint16(ace[2:], uint16(cap(ace)))
	binary.LittleEndian.PutUint32(ace[4:], 0x100) // ADS_RIGHT_DS_CONTROL_ACCESS
	binary.LittleEndian.PutUint32(ace[8:], 3)     // both GUIDs present
	return append(ace, s...)
}

// withACEs replaces the DACL of a descriptor built by AllowDescriptor.
func withACEs(t testing.TB, aces ...[]byte) []byte {
	t.Helper()
	sd, err := AllowDescriptor("S-1-5-32-544", 0xF01FF)
	if err != nil {
		t.Fatal(err)
	}
	acl := sd[len(sd)-8:]
	body := bytes.Join(aces, nil)
	binary.LittleEndian.PutUint16(acl[2:], uint16(8+len(body)))
	binary.LittleEndian.PutUint16(acl[4:], uint16(len(aces)))
	return append(sd, body...)
}

func simpleACE(t testing.TB, typ, flags uint8, mask uint32, sid string) []byte {
	t.Helper()
	s, err := EncodeSID(sid)
	if err != nil {
		t.Fatal(err)
	}
	ace := make([]byte, 8, 8+len(s))
	ace[0], ace[1] = typ, flags
	binary.LittleEndian.PutUint16(ace[2:], uint16(8+len(s)))
	binary.LittleEndian.PutUint32(ace[4:], mask)
	return append(ace, s...)
}

func TestParse(t *testing.T) {
	const alice, bob, carol = "S-1-5-21-1-2-3-1104", "S-1-5-21-1-2-3-1105", "S-1-5-21-1-2-3-1106"
	nullDACL := mustHex(t, rbcdHex)[:36]
	binary.LittleEndian.PutUint32(nullDACL[16:], 0)
	noDACL := slices.Clone(nullDACL)
	binary.LittleEndian.PutUint16(noDACL[2:], ControlSelfRelative)
	tests := []struct {
		name     string
		sd       []byte
		owner    string
		allowed  []string
		everyone bool
	}{
		{"Windows RBCD descriptor", mustHex(t, rbcdHex), "S-1-5-32-544", []string{alice}, false},
		{"allow, object allow, repeat", withACEs(t,
			simpleACE(t, AccessAllowed, 0, 0xF01FF, alice),
			objectACE(t, AccessAllowedObject, bob),
			simpleACE(t, AccessAllowed, 0, 1, alice)), "S-1-5-32-544", []string{alice, bob}, false},
		{"explicit deny wins", withACEs(t,
			simpleACE(t, AccessDenied, 0, 0xF01FF, alice),
			simpleACE(t, AccessAllowed, 0, 0xF01FF, alice),
			simpleACE(t, AccessAllowed, 0, 0xF01FF, bob)), "S-1-5-32-544", []string{bob}, false},
		{"inherit-only and zero mask grant nothing", withACEs(t,
			simpleACE(t, AccessAllowed, AceFlagInheritOnly, 0xF01FF, alice),
			simpleACE(t, AccessAllowed, 0, 0, bob),
			simpleACE(t, AccessAllowedCallback, 0, 0xF01FF, carol)), "S-1-5-32-544", []string{carol}, false},
		{"audit ACE skipped", withACEs(t,
			simpleACE(t, 0x02, 0, 0xF01FF, alice)), "S-1-5-32-544", nil, false},
		{"NULL DACL", nullDACL, "S-1-5-32-544", nil, true},
		{"no DACL", noDACL, "S-1-5-32-544", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse(tc.sd)
			if err != nil {
				t.Fatal(err)
			}
			if d.Owner != tc.owner {
				t.Errorf("owner %q, want %q", d.Owner, tc.owner)
			}
			if got := d.Allowed(); !slices.Equal(got, tc.allowed) {
				t.Errorf("Allowed() = %q, want %q", got, tc.allowed)
			}
			if d.OpenToEveryone() != tc.everyone {
				t.Errorf("OpenToEveryone() = %v, want %v", d.OpenToEveryone(), tc.everyone)
			}
		})
	}
}

func TestAllowDescriptorMatchesWindows(t *testing.T) {
	got, err := AllowDescriptor("S-1-5-32-544", 0xF01FF, "S-1-5-21-1-2-3-1104")
	if err != nil {
		t.Fatal(err)
	}
	if want := mustHex(t, rbcdHex); !bytes.Equal(got, want) {
		t.Fatalf("AllowDescriptor =\n%x\nwant\n%x", got, want)
	}
}

func TestParseRejectsMalformed(t *testing.T) {
	good := mustHex(t, rbcdHex)
	mutate := func(f func(b []byte) []byte) []byte { return f(slices.Clone(good)) }
	tests := []struct {
		name, want string
		sd         []byte
	}{
		{"empty", "want at least 20", nil},
		{"revision", "revision 2", mutate(func(b []byte) []byte { b[0] = 2; return b })},
		{"absolute form", "not self-relative", mutate(func(b []byte) []byte { b[3] = 0; return b })},
		{"owner offset past end", "owner offset", mutate(func(b []byte) []byte { b[4] = 0xFF; return b })},
		{"owner offset in header", "owner offset 4", mutate(func(b []byte) []byte { b[4] = 4; return b })},
		{"DACL offset past end", "DACL offset", mutate(func(b []byte) []byte { b[16] = 0xFF; return b })},
		{"DACL size past end", "DACL size", mutate(func(b []byte) []byte { b[38] = 0xFF; return b })},
		{"ACE count past ACL", "ACE 1 beyond", mutate(func(b []byte) []byte { b[40] = 2; return b })},
		{"ACE size past ACL", "size 255", mutate(func(b []byte) []byte { b[46] = 0xFF; return b })},
		{"ACE size below header", "size 2", mutate(func(b []byte) []byte { b[46] = 2; return b })},
		{"SID sub-authorities past ACE", "sub-authorities need", mutate(func(b []byte) []byte { b[53] = 9; return b })},
		{"SID over 15 sub-authorities", "at most 15", mutate(func(b []byte) []byte { b[53] = 16; return b })},
		{"truncated", "DACL size", good[:len(good)-1]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.sd)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestSIDRoundTrip(t *testing.T) {
	for _, sid := range []string{"S-1-1-0", "S-1-5-11", "S-1-5-32-544", "S-1-5-21-3623811015-3361044348-30300820-1013", "S-1-0x112233445566-7"} {
		b, err := EncodeSID(sid)
		if err != nil {
			t.Fatalf("%s: %v", sid, err)
		}
		got, n, err := ParseSID(b)
		if err != nil || got != sid || n != len(b) {
			t.Errorf("ParseSID(EncodeSID(%s)) = %q, %d, %v", sid, got, n, err)
		}
	}
	for _, bad := range []string{"", "S-1", "X-1-5", "S-2-5", "S-1-5-x", "S-1-5-4294967296", "S-1-5" + strings.Repeat("-1", 16)} {
		if _, err := EncodeSID(bad); err == nil {
			t.Errorf("EncodeSID(%q) accepted", bad)
		}
	}
}
