package secdesc

import (
	"encoding/hex"
	"testing"
)

// FuzzParse checks that no input makes Parse panic or loop, and that every
// SID it returns re-encodes to a SID that parses back the same.
func FuzzParse(f *testing.F) {
	seed, _ := hex.DecodeString(rbcdHex)
	f.Add(seed)
	f.Add(seed[:36])
	f.Add([]byte{})
	two, _ := AllowDescriptor("S-1-5-32-544", 0xF01FF, "S-1-5-21-1-2-3-1104", "S-1-1-0")
	f.Add(two)
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Parse(b)
		if err != nil {
			return
		}
		for _, sid := range append(d.Allowed(), d.Owner, d.Group) {
			if sid == "" {
				continue
			}
			raw, err := EncodeSID(sid)
			if err != nil {
				t.Fatalf("EncodeSID(%q) of a parsed SID: %v", sid, err)
			}
			if back, _, err := ParseSID(raw); err != nil || back != sid {
				t.Fatalf("SID %q round-trips to %q, %v", sid, back, err)
			}
		}
	})
}
