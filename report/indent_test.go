package report

import (
	"bytes"
	"encoding/json"
	"testing"
)

var indentCases = []string{
	`{}`, `[]`, `{"a":[]}`, `{"a":{}}`, `[{},[],""]`, `"x"`, `12.5e3`, `null`, `true`,
	`{"a":"b,c:d{e}[f]","g":["\"q\",","\\","\\\""],"h":{"i":[1,2,{"j":null}]}}`,
	`{"s":"\u2028\u003c\\u0041 tab\t"}`,
	`[ 1 , { "a" : 2 } ]`,
}

// TestAppendIndentMatchesIndent checks the one-pass indenter against
// json.Indent, with and without a prefix.
func TestAppendIndentMatchesIndent(t *testing.T) {
	for _, src := range indentCases {
		for _, prefix := range []string{"", "    "} {
			checkIndent(t, []byte(src), prefix)
		}
	}
}

func checkIndent(t *testing.T, src []byte, prefix string) {
	t.Helper()
	var want bytes.Buffer
	if err := json.Indent(&want, src, prefix, "  "); err != nil {
		t.Fatalf("%q: %v", src, err)
	}
	if got := appendIndent(nil, src, prefix, "  "); string(got) != string(bytes.TrimRight(want.Bytes(), " \t\r\n")) {
		t.Errorf("%q with prefix %q:\n got %s\nwant %s", src, prefix, got, want.Bytes())
	}
}

// FuzzAppendIndent compares the indenter with json.Indent on every valid
// JSON document, compacted as json.Marshal writes it.
func FuzzAppendIndent(f *testing.F) {
	for _, c := range indentCases {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !json.Valid([]byte(s)) {
			return
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, []byte(s)); err != nil {
			t.Fatal(err)
		}
		checkIndent(t, compact.Bytes(), "  ")
	})
}
