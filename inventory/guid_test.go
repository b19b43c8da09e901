package inventory

import (
	"encoding/binary"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// testGUID is a made-up GUID ordered as n.
func testGUID(n int) GUID {
	var g GUID
	binary.BigEndian.PutUint64(g[8:], uint64(n))
	return g
}

// TestGUIDFromBytes: the wire form's first three fields are little-endian
// (MS-DTYP 2.3.4.2 GUID: Data1, Data2, Data3); the text is as ldp and
// PowerShell show an objectGUID.
func TestGUIDFromBytes(t *testing.T) {
	wire := []byte{0x3d, 0x2c, 0x1b, 0x0a, 0x5f, 0x4e, 0x6b, 0x4a, 0x9c, 0x8d, 0x7e, 0x6f, 0x5a, 0x4b, 0x3c, 0x2d}
	g, err := GUIDFromBytes(wire)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := g.String(), "0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	for _, n := range []int{0, 15, 17} {
		if _, err := GUIDFromBytes(make([]byte, n)); err == nil || !strings.Contains(err.Error(), "want 16 bytes") {
			t.Errorf("GUIDFromBytes(%d bytes) error = %v, want 'want 16 bytes'", n, err)
		}
	}
}

func TestParseGUID(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d", want: "0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d"},
		{in: "0A1B2C3D-4E5F-4A6B-9C8D-7E6F5A4B3C2D", want: "0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d"},
		{in: "", want: "00000000-0000-0000-0000-000000000000"},
		{in: "0a1b2c3d4e5f4a6b9c8d7e6f5a4b3c2d", err: "want 36 characters"},
		{in: "{0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d}", err: "want 36 characters"},
		{in: "0a1b2c3d-4e5f-4a6b-9c8d_7e6f5a4b3c2d", err: "want '-' at character 24"},
		{in: "0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2g", err: `"2g" at character 35 is not a hex digit`},
		{in: "0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c\u00e9", err: "at character 35 is not a hex digit"}, // 36 bytes
		{in: "guid-01", err: "is not a GUID"},
	} {
		g, err := ParseGUID(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseGUID(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			if !g.IsZero() {
				t.Errorf("ParseGUID(%q) = %v with an error, want the zero GUID", tc.in, g)
			}
			continue
		}
		if err != nil || g.String() != tc.want {
			t.Errorf("ParseGUID(%q) = %q, %v, want %q", tc.in, g.String(), err, tc.want)
		}
	}
}

// TestGUIDOrderIsTextOrder: Compare orders as the texts did when GUIDs
// were strings (the snapshot's order: DN, then GUID), and == is text
// equality; text round-trips.
func TestGUIDOrderIsTextOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 16))
	random := func() GUID {
		var g GUID
		for i := range g {
			if r.IntN(3) > 0 { // shared bytes, so that later ones decide
				g[i] = byte(r.IntN(256))
			}
		}
		return g
	}
	for range 20000 {
		a, b := random(), random()
		if got, want := a.Compare(b), strings.Compare(a.String(), b.String()); got != want {
			t.Fatalf("%v.Compare(%v) = %d, text order %d", a, b, got, want)
		}
		p, err := ParseGUID(a.String())
		if err != nil || p != a {
			t.Fatalf("ParseGUID(%q) = %v, %v", a.String(), p, err)
		}
	}
}

// TestGUIDJSON: the JSON text is the canonical form, a zero GUID is
// omitted (omitzero), and a malformed one fails the decode.
func TestGUIDJSON(t *testing.T) {
	type doc struct {
		G GUID `json:"guid,omitzero"`
	}
	g := MustParseGUID("0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d")
	for _, tc := range []struct {
		in   doc
		want string
	}{
		{doc{g}, `{"guid":"0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d"}`},
		{doc{}, `{}`},
	} {
		b, err := json.Marshal(tc.in)
		if err != nil || string(b) != tc.want {
			t.Errorf("Marshal(%v) = %s, %v, want %s", tc.in, b, err, tc.want)
		}
		var back doc
		if err := json.Unmarshal(b, &back); err != nil || back != tc.in {
			t.Errorf("Unmarshal(%s) = %v, %v, want %v", b, back, err, tc.in)
		}
	}
	var d doc
	if err := json.Unmarshal([]byte(`{"guid":"guid-01"}`), &d); err == nil || !strings.Contains(err.Error(), `objectGUID "guid-01" is not a GUID`) {
		t.Errorf("Unmarshal of a malformed GUID: error %v", err)
	}
}
