package report

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/spnaudit/spnaudit/inventory"
)

// nastyStrings are strings encoding/json escapes, or that look like it must:
// quotes, backslashes, control characters, HTML's <>&, U+2028/2029, invalid
// UTF-8, U+FFFD itself, multi-byte runes, and runs of plain bytes around
// them so that the eight-byte fast path meets them at every offset.
var nastyStrings = []string{
	"", "plain", "CN=SRV000001,OU=Servers,DC=corp,DC=example,DC=test",
	`quote"back\slash`, "\x00\x01\x07\b\t\n\v\f\r\x1b\x1f\x7f",
	"<script>alert(1)</script>&amp;", "a\u2028b\u2029c", "\xff\xfe\xc3(invalid", "\ufffd",
	"é日本語ÄÖÜ", "HTTP/web01.corp.example.test:443&x", "0123456&", "01234567<", "012345678>",
	"\xed\xa0\x80surrogate", "\xf4\x90\x80\x80too big", "tab\there", "\u212a\u0130\u017f",
}

// inventoryFiller fills every field of a value by reflection, so that a
// field added to inventory.Object, or to a type inside it, is filled (and
// so written by encoding/json) without touching this test.
type inventoryFiller struct {
	t   *testing.T
	r   *rand.Rand
	all bool // every field non-zero, every pointer and slice set
}

func (f *inventoryFiller) str() string {
	if f.r.IntN(3) > 0 {
		s := nastyStrings[f.r.IntN(len(nastyStrings))]
		if f.all && s == "" {
			s = "x"
		}
		return s
	}
	// Random bytes from an alphabet of the awkward ones.
	const alphabet = "aZ09/:.-_$\"\\<>&\x00\x1f\x7f\xc3\xa9\xe2\x80\xa8\xa9\xff"
	b := make([]byte, 1+f.r.IntN(24))
	for i := range b {
		b[i] = alphabet[f.r.IntN(len(alphabet))]
	}
	return string(b)
}

func (f *inventoryFiller) time() time.Time {
	if !f.all && f.r.IntN(4) == 0 {
		return time.Time{}
	}
	zones := []*time.Location{time.UTC, time.FixedZone("", 0), time.FixedZone("CEST", 2*3600),
		time.FixedZone("", -(23*3600 + 59*60)), time.FixedZone("", 5*3600+30*60+17)}
	nsec := []int{0, 1, 500_000_000, 123_456_789, 999_999_999}
	return time.Date(f.r.IntN(10000), time.Month(1+f.r.IntN(12)), 1+f.r.IntN(28), f.r.IntN(24), f.r.IntN(60), f.r.IntN(60),
		nsec[f.r.IntN(len(nsec))], zones[f.r.IntN(len(zones))])
}

func (f *inventoryFiller) fill(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(f.str())
	case reflect.Bool:
		v.SetBool(f.all || f.r.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		for {
			n := []int64{0, 1, -1, 512, 0x7fffffff, math.MinInt64, math.MaxInt64, f.r.Int64()}[f.r.IntN(8)]
			if !v.OverflowInt(n) && (n != 0 || !f.all) {
				v.SetInt(n)
				return
			}
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		for {
			n := []uint64{0, 1, 24, 0x80000, math.MaxUint32, math.MaxUint64, f.r.Uint64()}[f.r.IntN(7)]
			if !v.OverflowUint(n) && (n != 0 || !f.all) {
				v.SetUint(n)
				return
			}
		}
	case reflect.Pointer:
		if depth > 3 || !f.all && f.r.IntN(3) == 0 {
			return // nil
		}
		p := reflect.New(v.Type().Elem())
		f.fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		n := 1 + f.r.IntN(3)
		if !f.all {
			switch f.r.IntN(4) {
			case 0:
				return // nil
			case 1:
				n = 0 // empty, not nil
			}
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			f.fill(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Array: // an inventory.GUID
		if !f.all && f.r.IntN(3) == 0 {
			return // zero
		}
		for i := range v.Len() {
			f.fill(v.Index(i), depth)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(f.time()))
			return
		}
		for i := range v.NumField() {
			if !v.Type().Field(i).IsExported() {
				f.t.Fatalf("%s.%s is unexported: say here how the inventory encoder must treat it", v.Type(), v.Type().Field(i).Name)
			}
			f.fill(v.Field(i), depth)
		}
	default:
		// A map, a float, an interface...: encoding/json has rules of its
		// own for them that appendInventoryObject does not follow yet.
		f.t.Fatalf("a field of type %s in inventory.Object: teach appendInventoryObject and this filler to write it", v.Type())
	}
}

// marshalInventoryObject is what the inventory always wrote for one object:
// json.MarshalIndent, nil SPNs as [].
func marshalInventoryObject(o inventory.Object) ([]byte, error) {
	o.SPNs = nonNil(o.SPNs)
	b, err := json.MarshalIndent(o, "", "  ")
	// Object's MarshalJSON (its JSON order apart from its layout) wraps
	// the error of a field in one of its own: the inventory's is the
	// field's, as when Object had no MarshalJSON.
	if me := (*json.MarshalerError)(nil); errors.As(err, &me) && me.Type == reflect.TypeFor[inventory.Object]() {
		err = me.Unwrap()
	}
	return b, err
}

// TestInventoryEncoderFollowsEveryField: for objects whose every field (and
// every field of the types inside them) is filled by reflection with random
// values — escaped strings, nil and empty slices, nil pointers, zero and
// far-off times in several zones, extreme integers — the hand-written
// encoder writes json.MarshalIndent's bytes. A field added to
// inventory.Object, Principal, Privilege or AdditionalNames that the
// encoder does not write fails it (the "all" objects set every field).
func TestInventoryEncoderFollowsEveryField(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 2026))
	for i := range 3000 {
		f := &inventoryFiller{t: t, r: r, all: i%3 == 0}
		var o inventory.Object
		f.fill(reflect.ValueOf(&o).Elem(), 0)
		want, err := marshalInventoryObject(o)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendInventoryObject(nil, &o, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("object %d (all fields set: %v):\n%s", i, f.all, firstDifference(got, want))
		}
	}
}

// TestInventoryEncoderEveryFieldSet checks the test above: an object filled
// in "all" mode writes every json key of every struct type in it, so no
// field escapes the comparison by staying empty.
func TestInventoryEncoderEveryFieldSet(t *testing.T) {
	f := &inventoryFiller{t: t, r: rand.New(rand.NewPCG(1, 2)), all: true}
	var o inventory.Object
	f.fill(reflect.ValueOf(&o).Elem(), 0)
	out, err := appendInventoryObject(nil, &o, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(rt reflect.Type) {
		for rt.Kind() == reflect.Pointer || rt.Kind() == reflect.Slice || rt.Kind() == reflect.Array {
			rt = rt.Elem()
		}
		if rt.Kind() != reflect.Struct || rt == reflect.TypeFor[time.Time]() || seen[rt] {
			return
		}
		seen[rt] = true
		for i := range rt.NumField() {
			name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			// "-": Object.Delegation, whose fields are written as the object's.
			if name != "-" && !bytes.Contains(out, []byte(`"`+name+`": `)) {
				t.Errorf("%s.%s (%q) is not written by an object with every field set", rt, rt.Field(i).Name, name)
			}
			walk(rt.Field(i).Type)
		}
	}
	walk(reflect.TypeFor[inventory.Object]())
}

// TestInventoryEncoderTimes: the times time.Time.MarshalJSON refuses fail
// the encoder with encoding/json's error, as they failed the inventory.
func TestInventoryEncoderTimes(t *testing.T) {
	for _, tc := range []struct {
		name string
		t    time.Time
	}{
		{"zero", time.Time{}},
		{"year 9999", time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		{"year 10000", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"year -1", time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"offset 24h", time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600))},
		{"offset -24h", time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("", -24*3600))},
		{"offset 23:59", time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("", 23*3600+59*60))},
		{"local", time.Date(2024, 6, 1, 12, 0, 0, 0, time.Local)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, o := range []inventory.Object{{PwdLastSet: tc.t}, {SPNChanged: tc.t}} {
				want, wantErr := marshalInventoryObject(o)
				got, err := appendInventoryObject(nil, &o, 0)
				if (err != nil) != (wantErr != nil) || err != nil && err.Error() != wantErr.Error() {
					t.Fatalf("error %v, want %v", err, wantErr)
				}
				if err == nil && !bytes.Equal(got, want) {
					t.Fatalf("%s", firstDifference(got, want))
				}
			}
		})
	}
}

// FuzzInventoryJSON: any strings, in every string field of an object and
// its nested types, are escaped as encoding/json escapes them (HTML
// escaping on), and appendJSONStringHTML alone is json.Marshal of a string.
func FuzzInventoryJSON(f *testing.F) {
	for _, s := range nastyStrings {
		f.Add(s, "x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		want, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONStringHTML(nil, a); !bytes.Equal(got, want) {
			t.Fatalf("appendJSONStringHTML(%q) = %s, want %s", a, got, want)
		}
		creator := inventory.Principal{SID: b, DN: a, CreatorSID: a}
		var guid inventory.GUID
		copy(guid[:], a)
		o := inventory.Object{GUID: guid, DN: b, Domain: a, SAMAccountName: b, Kind: inventory.Kind(a), DNSHostName: b,
			Additional: &inventory.AdditionalNames{DNSHostNames: []string{a, b}, SAMAccountNames: []string{b}},
			SPNs:       []string{a, b, a + b},
			Privilege:  &inventory.Privilege{Group: a, SID: b, Chain: []string{b, a}},
			ObjectSID:  a, SPNChangedBy: b,
			Delegation: &inventory.Delegation{AllowedToDelegateTo: []string{a},
				AllowedToActOnBehalf: []inventory.Principal{{SID: a, DN: b, Domain: a, SAMAccountName: b, WellKnown: a,
					Kind: inventory.Kind(b), CreatorSID: a, Creator: &creator}}},
		}
		want, err = marshalInventoryObject(o)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendInventoryObject(nil, &o, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%q, %q:\n%s", a, b, firstDifference(got, want))
		}
	})
}

// TestCompareLower: compareLower orders as strings.Compare of the
// lower-cased strings, on ASCII, the runes whose lower case is ASCII
// (Kelvin sign, dotted I), and invalid UTF-8.
func TestCompareLower(t *testing.T) {
	words := append([]string{"SRV000001$", "srv000001$", "svc_sql", "SVC_SQL", "SVEXPGG310$", "svc-a", "\u212a", "k", "K",
		"\u0130", "i", "\xff", "\ufffd", "é", "É", "ab", "a",
		// Common ASCII prefixes of eight bytes and more (the fast path).
		"SRV00000", "SRV00000k", "SRV00000\u212a", "SRV00000K", "SRV00000\xff", "SRV000001234567", "SRV0000012345678x",
		"SRV0000012345678X", "SRV0000012345678\u00e9", "SRV0000012345678\u00c9", "srv0000012345678"}, nastyStrings...)
	for _, a := range words {
		for _, b := range words {
			if got, want := compareLower(a, b), strings.Compare(strings.ToLower(a), strings.ToLower(b)); got != want {
				t.Errorf("compareLower(%q, %q) = %d, want %d", a, b, got, want)
			}
		}
	}
}

func FuzzCompareLower(f *testing.F) {
	f.Add("SRV000001$", "svc_sql00001")
	f.Add("\u212a", "k")
	f.Add("\xff", "\ufffd")
	f.Add("SRV0000012345678\u00e9", "SRV0000012345678\u00c9")
	f.Fuzz(func(t *testing.T, a, b string) {
		if got, want := compareLower(a, b), strings.Compare(strings.ToLower(a), strings.ToLower(b)); got != want {
			t.Fatalf("compareLower(%q, %q) = %d, want %d", a, b, got, want)
		}
	})
}

// firstDifference shows where got and want part.
func firstDifference(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(0, i-120)
	for from > 0 && !utf8.RuneStart(got[from]) {
		from--
	}
	return fmt.Sprintf("differs at byte %d\ngot:  %q\nwant: %q", i, got[from:min(len(got), i+60)], want[from:min(len(want), i+60)])
}

// TestInventoryJSONRandomObjects: the whole inventory of reflection-filled
// random objects (awkward account names included) is json.MarshalIndent of
// the objects sorted as the inventory always sorted them, by domain, then
// strings.ToLower of the account name, then DN.
func TestInventoryJSONRandomObjects(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 9))
	snap := &inventory.Snapshot{}
	for i := range 2000 {
		f := &inventoryFiller{t: t, r: r, all: i%5 == 0}
		var o inventory.Object
		f.fill(reflect.ValueOf(&o).Elem(), 0)
		o.Domain = []string{"corp.example.test", "emea.corp.example.test", "Corp.example.test"}[r.IntN(3)]
		snap.Objects = append(snap.Objects, new(o))
	}
	var got bytes.Buffer
	if err := writeInventoryJSON(&got, snap); err != nil {
		t.Fatal(err)
	}
	objs := make([]inventory.Object, len(snap.Objects))
	for i, o := range snap.Objects {
		objs[i] = *o
	}
	slices.SortFunc(objs, func(a, b inventory.Object) int {
		return cmp.Or(strings.Compare(a.Domain, b.Domain),
			strings.Compare(strings.ToLower(a.SAMAccountName), strings.ToLower(b.SAMAccountName)),
			strings.Compare(a.DN, b.DN))
	})
	for i := range objs {
		objs[i].SPNs = nonNil(objs[i].SPNs)
	}
	want, err := json.MarshalIndent(objs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("%s", firstDifference(got.Bytes(), want))
	}
}
