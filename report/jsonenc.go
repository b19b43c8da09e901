package report

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// An indentEncoder appends a value as encoding/json (SetEscapeHTML(false))
// followed by json.Indent with an indent of two spaces would write it, the
// value starting at nesting depth (its inner lines are indented depth+1
// levels). It writes the indented form directly: marshalling through
// reflection and then re-indenting each finding in a second pass was a fifth
// of a flood scan's CPU (issue 9).
//
// Encoders are compiled once per type from the struct's fields, in order,
// with their json tags, so a field added to audit.Finding (or a SARIF result)
// is encoded without touching this file: strings, booleans, integers, slices,
// pointers and structs directly, anything else (a time.Time, a float, a map,
// a type with its own MarshalJSON or MarshalText) through encoding/json.
// TestIndentEncoderMatchesEncodingJSON and FuzzIndentEncoderString hold it
// to encoding/json's bytes.
type indentEncoder func(dst []byte, v reflect.Value, depth int) []byte

var indentEncoders sync.Map // reflect.Type -> indentEncoder, or error

// errUnsupported makes a type fall back to encoding/json as a whole: struct
// shapes whose encoding/json rules this encoder does not reproduce.
var errUnsupported = errors.New("report: type not supported by the indent encoder")

// indentEncoderFor returns the encoder of type t, or an error when t (or a
// type inside it) has a shape it does not handle exactly.
func indentEncoderFor(t reflect.Type) (indentEncoder, error) {
	if e, ok := indentEncoders.Load(t); ok {
		if err, isErr := e.(error); isErr {
			return nil, err
		}
		return e.(indentEncoder), nil
	}
	enc, err := compileIndentEncoder(t, map[reflect.Type]bool{})
	if err != nil {
		indentEncoders.Store(t, err)
		return nil, err
	}
	indentEncoders.Store(t, enc)
	return enc, nil
}

var (
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

func compileIndentEncoder(t reflect.Type, compiling map[reflect.Type]bool) (indentEncoder, error) {
	if t.Implements(jsonMarshalerType) || t.Implements(textMarshalerType) ||
		reflect.PointerTo(t).Implements(jsonMarshalerType) || reflect.PointerTo(t).Implements(textMarshalerType) {
		return fallbackEncoder, nil
	}
	if compiling[t] {
		return nil, errUnsupported // a recursive type
	}
	compiling[t] = true
	defer delete(compiling, t)
	switch t.Kind() {
	case reflect.String:
		return func(dst []byte, v reflect.Value, _ int) []byte { return appendJSONString(dst, v.String()) }, nil
	case reflect.Bool:
		return func(dst []byte, v reflect.Value, _ int) []byte { return strconv.AppendBool(dst, v.Bool()) }, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(dst []byte, v reflect.Value, _ int) []byte { return strconv.AppendInt(dst, v.Int(), 10) }, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return func(dst []byte, v reflect.Value, _ int) []byte { return strconv.AppendUint(dst, v.Uint(), 10) }, nil
	case reflect.Pointer:
		elem, err := compileIndentEncoder(t.Elem(), compiling)
		if err != nil {
			return nil, err
		}
		return func(dst []byte, v reflect.Value, depth int) []byte {
			if v.IsNil() {
				return append(dst, "null"...)
			}
			return elem(dst, v.Elem(), depth)
		}, nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return fallbackEncoder, nil // []byte is base64
		}
		elem, err := compileIndentEncoder(t.Elem(), compiling)
		if err != nil {
			return nil, err
		}
		return func(dst []byte, v reflect.Value, depth int) []byte {
			if v.IsNil() {
				return append(dst, "null"...)
			}
			n := v.Len()
			if n == 0 {
				return append(dst, "[]"...)
			}
			dst = append(dst, '[')
			for i := range n {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = appendNewline(dst, depth+1)
				dst = elem(dst, v.Index(i), depth+1)
			}
			dst = appendNewline(dst, depth)
			return append(dst, ']')
		}, nil
	case reflect.Struct:
		return compileStructEncoder(t, compiling)
	}
	return fallbackEncoder, nil
}

type fieldEncoder struct {
	index     int
	key       []byte // `"name": `
	omitEmpty bool
	isZero    func(reflect.Value) bool // omitzero; nil without it
	enc       indentEncoder
}

func compileStructEncoder(t reflect.Type, compiling map[reflect.Type]bool) (indentEncoder, error) {
	var fields []fieldEncoder
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			return nil, errUnsupported // embedding promotes fields: encoding/json's rules
		}
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		omitEmpty := false
		var isZero func(reflect.Value) bool
		for opt := range strings.SplitSeq(opts, ",") {
			switch opt {
			case "":
			case "omitempty":
				omitEmpty = true
			case "omitzero":
				isZero = zeroTest(sf.Type)
			default:
				return nil, errUnsupported // ",string", ...
			}
		}
		if name == "" {
			name = sf.Name
		} else if !plainJSONName(name) {
			return nil, errUnsupported
		}
		enc, err := compileIndentEncoder(sf.Type, compiling)
		if err != nil {
			return nil, err
		}
		key := append(appendJSONString(nil, name), ':', ' ')
		fields = append(fields, fieldEncoder{index: i, key: key, omitEmpty: omitEmpty, isZero: isZero, enc: enc})
	}
	return func(dst []byte, v reflect.Value, depth int) []byte {
		dst = append(dst, '{')
		n := 0
		for i := range fields {
			f := &fields[i]
			fv := v.Field(f.index)
			if f.omitEmpty && isEmptyJSONValue(fv) || f.isZero != nil && f.isZero(fv) {
				continue
			}
			if n > 0 {
				dst = append(dst, ',')
			}
			n++
			dst = appendNewline(dst, depth+1)
			dst = append(dst, f.key...)
			dst = f.enc(dst, fv, depth+1)
		}
		if n > 0 {
			dst = appendNewline(dst, depth)
		}
		return append(dst, '}')
	}, nil
}

// plainJSONName reports whether a tag name is one encoding/json takes as is
// (letters, digits, and punctuation it allows); anything else is left to it.
func plainJSONName(name string) bool {
	for _, c := range name {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.ContainsRune("_-$.", c):
		default:
			return false
		}
	}
	return true
}

type isZeroer interface{ IsZero() bool }

var isZeroerType = reflect.TypeFor[isZeroer]()

// zeroTest is encoding/json's test for omitzero: the type's IsZero method
// when it has one (time.Time), else the zero value.
func zeroTest(t reflect.Type) func(reflect.Value) bool {
	switch {
	case t.Kind() == reflect.Interface && t.Implements(isZeroerType):
		return func(v reflect.Value) bool {
			return v.IsNil() || (v.Elem().Kind() == reflect.Pointer && v.Elem().IsNil()) || v.Interface().(isZeroer).IsZero()
		}
	case t.Kind() == reflect.Pointer && t.Implements(isZeroerType):
		return func(v reflect.Value) bool { return v.IsNil() || v.Interface().(isZeroer).IsZero() }
	case t.Implements(isZeroerType):
		return func(v reflect.Value) bool { return v.Interface().(isZeroer).IsZero() }
	case reflect.PointerTo(t).Implements(isZeroerType):
		return func(v reflect.Value) bool {
			if !v.CanAddr() {
				v2 := reflect.New(v.Type()).Elem()
				v2.Set(v)
				v = v2
			}
			return v.Addr().Interface().(isZeroer).IsZero()
		}
	}
	return reflect.Value.IsZero
}

// isEmptyJSONValue is encoding/json's test for omitempty.
func isEmptyJSONValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

// fallbackEncoder encodes one value with encoding/json and indents it.
func fallbackEncoder(dst []byte, v reflect.Value, depth int) []byte {
	var x any
	if v.CanAddr() {
		x = v.Addr().Interface() // pointer-receiver marshalers, as encoding/json does
	} else {
		x = v.Interface()
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(x); err != nil {
		// Only an unsupported value (a channel, a NaN) fails; encoding/json
		// would have failed the whole document the same way.
		panic(jsonEncodeError{err})
	}
	return appendIndent(dst, buf.Bytes(), strings.Repeat("  ", depth), "  ")
}

// jsonEncodeError carries encoding/json's error out of an encoder.
type jsonEncodeError struct{ err error }

func appendNewline(dst []byte, depth int) []byte {
	dst = append(dst, '\n')
	for range depth {
		dst = append(dst, ' ', ' ')
	}
	return dst
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plainASCII8 reports whether each of the eight bytes of x is ASCII, at
// least 0x20, and neither '"' nor '\\': bytes JSON copies as they are.
func plainASCII8(x uint64) bool {
	// hasLess(x, n) and hasZero(x ^ c*ones) from "Bit Twiddling Hacks":
	// exact for bytes below 0x80, which the highs test already excludes.
	below := (x - ones*0x20) &^ x
	quote := x ^ ones*'"'
	backslash := x ^ ones*'\\'
	return (x|below|((quote-ones)&^quote)|((backslash-ones)&^backslash))&highs == 0
}

// noHTML8 reports whether none of the eight ASCII bytes of x is '<', '>'
// or '&', which encoding/json escapes with HTML escaping on.
func noHTML8(x uint64) bool {
	lt, gt, amp := x^ones*'<', x^ones*'>', x^ones*'&'
	return ((lt-ones)&^lt|(gt-ones)&^gt|(amp-ones)&^amp)&highs == 0
}

// load8 reads the first eight bytes of s, little-endian (the compiler
// makes it one load).
func load8(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted as encoding/json quotes strings with
// HTML escaping off: '"' and '\\' escaped, control characters as \b \f \n
// \r \t or \u00XX, invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func appendJSONString(dst []byte, s string) []byte { return appendQuoted(dst, s, false) }

// appendJSONStringHTML appends s quoted as encoding/json quotes strings with
// HTML escaping on (json.Marshal, a default json.Encoder): as
// appendJSONString, and '<', '>' and '&' as \u003c, \u003e and \u0026.
func appendJSONStringHTML(dst []byte, s string) []byte { return appendQuoted(dst, s, true) }

func appendQuoted(dst []byte, s string, html bool) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Skip eight plain bytes at a time: most of a report is ASCII text
		// without quotes or backslashes.
		for i+8 <= len(s) && plainASCII8(load8(s[i:i+8])) && (!html || noHTML8(load8(s[i:i+8]))) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && (!html || b != '<' && b != '>' && b != '&') {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
