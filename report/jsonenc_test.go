package report

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/audit"
)

// encodingJSON is the reference: what encoding/json writes for v indented
// by two spaces with depth levels of prefix (SetEscapeHTML(false)).
func encodingJSON(t testing.TB, v any, depth int) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent(strings.Repeat("  ", depth), "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func indentEncoded(t testing.TB, v any, depth int) string {
	t.Helper()
	enc, err := indentEncoderFor(reflect.TypeOf(v))
	if err != nil {
		t.Fatalf("%T: %v", v, err)
	}
	return string(enc(nil, reflect.ValueOf(v), depth))
}

// hostileStrings are strings encoding/json escapes or replaces.
var hostileStrings = []string{
	"", "plain", `quote " and backslash \`, "<script>&amp;</script>", "line\u2028sep\u2029para",
	"\x00\x01\x07\b\t\n\v\f\r\x1b\x1f\x7f", "invalid \xff\xfe utf-8 \xc3", "truncated \xe2\x80",
	"caf\u00e9 \U0001F600 \u200b\u202e", "\ufffd literal", "HTTP/web01.corp.example.test:443",
	"CN=O'Brien\\, Pat,OU=Service Accounts,DC=corp,DC=example,DC=test",
}

// randomHostile builds a string from pieces of the hostile ones and random
// bytes.
func randomHostile(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(6) {
		if r.IntN(3) == 0 {
			b.WriteByte(byte(r.IntN(256)))
		} else {
			b.WriteString(hostileStrings[r.IntN(len(hostileStrings))])
		}
	}
	return b.String()
}

func randomStrings(r *rand.Rand, nilOK bool) []string {
	n := r.IntN(4)
	if n == 0 && nilOK && r.IntN(2) == 0 {
		return nil
	}
	s := make([]string, n)
	for i := range s {
		s[i] = randomHostile(r)
	}
	return s
}

// TestIndentEncoderMatchesEncodingJSON: the findings encoder writes exactly
// encoding/json's indented bytes for generated findings full of hostile
// strings, nil and empty lists, at every depth the reports use.
func TestIndentEncoderMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	for i := range 3000 {
		f := audit.Finding{
			Rule: randomHostile(r), Severity: audit.Severity(randomHostile(r)), SPN: randomHostile(r),
			Accounts: randomStrings(r, true), Message: randomHostile(r),
			Remediation: randomStrings(r, true), References: randomStrings(r, true),
		}
		depth := i % 4
		if got, want := indentEncoded(t, &f, depth), encodingJSON(t, &f, depth); got != want {
			t.Fatalf("finding %d differs:\n got %s\nwant %s", i, got, want)
		}
	}
	for _, s := range hostileStrings {
		if got, want := indentEncoded(t, s, 0), encodingJSON(t, s, 0); got != want {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	}
}

// TestIndentEncoderFieldKinds covers every kind the encoder compiles and
// those it leaves to encoding/json, so a field added to audit.Finding (a
// time, a pointer, a count) keeps the output encoding/json's.
func TestIndentEncoderFieldKinds(t *testing.T) {
	type inner struct {
		A string `json:"a"`
		B []int  `json:"b,omitempty"`
	}
	type empty struct{}
	type kinds struct {
		S       string `json:"s"`
		SO      string `json:"so,omitempty"`
		Untag   string
		skipped string
		Dash    string            `json:"-"`
		Bool    bool              `json:"bool"`
		BoolO   bool              `json:"bool_o,omitempty"`
		Int     int               `json:"int"`
		I8      int8              `json:"i8"`
		Uint    uint64            `json:"uint"`
		Float   float64           `json:"float"`
		FloatO  float64           `json:"float_o,omitempty"`
		Time    time.Time         `json:"time"`
		TimeP   *time.Time        `json:"time_p,omitempty"`
		TimePN  *time.Time        `json:"time_pn"`
		Ptr     *inner            `json:"ptr"`
		PtrNil  *inner            `json:"ptr_nil"`
		Inner   inner             `json:"inner"`
		Empty   empty             `json:"empty"`
		Slice   []inner           `json:"slice"`
		SliceN  []inner           `json:"slice_n"`
		SliceE  []inner           `json:"slice_e"`
		SliceO  []string          `json:"slice_o,omitempty"`
		Bytes   []byte            `json:"bytes"`
		Map     map[string]string `json:"map"`
		MapN    map[string]int    `json:"map_n"`
		Any     any               `json:"any"`
		AnyO    any               `json:"any_o,omitempty"`
		Array   [2]string         `json:"array"`
		Sev     audit.Severity    `json:"sev"`
		Nested  [][]string        `json:"nested"`
		Dur     time.Duration     `json:"dur"`
		RawJSON json.RawMessage   `json:"raw"`
		// omitzero, as issue 12's first_seen and changed_at might use it.
		TimeZ  time.Time     `json:"time_z,omitzero"`
		TimePZ *time.Time    `json:"time_pz,omitzero"`
		IntZ   int           `json:"int_z,omitzero"`
		InnerZ inner         `json:"inner_z,omitzero"`
		SliceZ []string      `json:"slice_z,omitzero"`
		BothZ  []string      `json:"both_z,omitempty,omitzero"`
		PtrZ   *zeroByMethod `json:"ptr_z,omitzero"`
		ValZ   zeroByMethod  `json:"val_z,omitzero"`
	}
	now := time.Date(2026, 11, 27, 5, 0, 0, 123, time.UTC)
	values := []kinds{
		{},
		{TimeZ: now, TimePZ: &time.Time{}, IntZ: 1, InnerZ: inner{A: "z"}, SliceZ: []string{}, BothZ: []string{},
			PtrZ: &zeroByMethod{N: 1}, ValZ: zeroByMethod{N: 2}},
		{PtrZ: &zeroByMethod{N: 3}, ValZ: zeroByMethod{N: 3}, SliceZ: []string{"s"}, BothZ: []string{"b"}},
		{S: "x\u2028", SO: "<&>", Untag: "u", skipped: "no", Dash: "no", Bool: true, BoolO: true, Int: -3, I8: 7, Uint: 1 << 63,
			Float: 1e21, FloatO: 0.1, Time: now, TimeP: &now, Ptr: &inner{A: "p", B: []int{1, 2}}, Inner: inner{A: "i"},
			Slice: []inner{{A: "1"}, {B: []int{3}}}, SliceE: []inner{}, SliceO: []string{"o"}, Bytes: []byte("\x00bin"),
			Map: map[string]string{"z": "1", "a": "<2>"}, MapN: map[string]int{}, Any: map[string]any{"k": []any{1, "v"}},
			AnyO: 2.5, Array: [2]string{"a", "b"}, Sev: audit.SeverityHigh, Nested: [][]string{{}, {"n"}, nil},
			Dur: time.Second, RawJSON: json.RawMessage(`{"raw":[1, 2]}`)},
	}
	for i, v := range values {
		for depth := range 3 {
			if got, want := indentEncoded(t, &v, depth), encodingJSON(t, &v, depth); got != want {
				t.Errorf("value %d at depth %d differs:\n got %s\nwant %s", i, depth, got, want)
			}
		}
	}
}

// TestIndentEncoderRefusesWhatItCannotCopy: struct shapes whose
// encoding/json rules it does not reproduce make the caller fall back to
// encoding/json instead of writing something else.
func TestIndentEncoderRefusesWhatItCannotCopy(t *testing.T) {
	type base struct{ A string }
	type embedded struct{ base }
	type stringOpt struct {
		N int `json:"n,string"`
	}
	type recursive struct {
		Next *recursive `json:"next"`
	}
	for _, v := range []any{embedded{}, stringOpt{}, recursive{}} {
		if _, err := indentEncoderFor(reflect.TypeOf(v)); err == nil {
			t.Errorf("%T: compiled, want a fallback", v)
		}
	}
}

// FuzzIndentEncoderString: any string in any field of a finding is written
// as encoding/json writes it.
func FuzzIndentEncoderString(f *testing.F) {
	for _, s := range hostileStrings {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		fd := audit.Finding{Rule: a, Severity: audit.Severity(b), SPN: b, Accounts: []string{a, b}, Message: a + b,
			Remediation: []string{b}, References: []string{}}
		if got, want := indentEncoded(t, &fd, 2), encodingJSON(t, &fd, 2); got != want {
			t.Fatalf("differs:\n got %s\nwant %s", got, want)
		}
	})
}

// TestStreamingReportsEncodingErrors: a value encoding/json refuses (NaN)
// is an error from the writer, as before, not a panic or a partial element.
func TestStreamingReportsEncodingErrors(t *testing.T) {
	type withFloat struct {
		F float64 `json:"f"`
	}
	head := map[string]any{"items": []int{}}
	var buf bytes.Buffer
	err := writeJSONStreaming(&buf, head, "items", 1, 2, func(i int) any { return withFloat{F: []float64{1, math.NaN()}[i]} })
	if err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Fatalf("err = %v, want encoding/json's NaN error", err)
	}
}

// TestPlainASCII8 checks the eight-byte test against the byte-by-byte one
// for every byte value at every position, and on random words.
func TestPlainASCII8(t *testing.T) {
	plain := func(b byte) bool { return b >= 0x20 && b < 0x80 && b != '"' && b != '\\' }
	check := func(w string) {
		want := true
		for i := range 8 {
			want = want && plain(w[i])
		}
		if got := plainASCII8(load8(w)); got != want {
			t.Fatalf("plainASCII8(%q) = %v, want %v", w, got, want)
		}
	}
	for pos := range 8 {
		for b := range 256 {
			for _, fill := range []byte{'a', ' ', 0x7f, '!', '#', '[', ']'} {
				w := []byte(strings.Repeat(string(fill), 8))
				w[pos] = byte(b)
				check(string(w))
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		var w [8]byte
		for i := range w {
			w[i] = byte(r.IntN(256))
			if r.IntN(2) == 0 {
				w[i] = byte(0x20 + r.IntN(0x60))
			}
		}
		check(string(w[:]))
	}
}

// BenchmarkIndentEncoderFinding is one kerberoastable-account finding, the
// flood's commonest.
func BenchmarkIndentEncoderFinding(b *testing.B) {
	f := &audit.Finding{Rule: audit.RuleKerberoastableAccount, Severity: audit.SeverityCritical,
		Accounts:    []string{"CN=svc-flood-000123,OU=Flood,DC=corp,DC=example,DC=test"},
		Message:     `CORP\svc-flood-000123 is a user account with 4 SPN(s) (HTTP/gone-000123.corp.example.test, MSSQLSvc/gone-000123.corp.example.test:1433 and 2 more): any domain user can request a ticket encrypted with its password and crack it offline, and its password was never set (pwdLastSet=0).`,
		Remediation: []string{"# Best: run the service as a group managed service account", "Set-ADAccountPassword -Identity 'CN=svc-flood-000123,OU=Flood,DC=corp,DC=example,DC=test' -Reset"},
		References:  []string{"https://www.microsoft.com/en-us/security/blog/2024/10/11/microsofts-guidance-to-help-mitigate-kerberoasting/"}}
	enc, err := indentEncoderFor(reflect.TypeOf(f))
	if err != nil {
		b.Fatal(err)
	}
	var buf []byte
	for b.Loop() {
		buf = enc(buf[:0], reflect.ValueOf(f), 2)
	}
	b.SetBytes(int64(len(buf)))
}

// zeroByMethod is zero when its IsZero method says so (N == 3), not when
// its value is zero: omitzero must ask the method.
type zeroByMethod struct {
	N int `json:"n"`
}

func (z *zeroByMethod) IsZero() bool { return z.N == 3 }
