package ldapscan

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/spnaudit/spnaudit/internal/gen"
	"github.com/spnaudit/spnaudit/inventory"
)

// ldifDiffInputs are the exports the fast reader is compared on with the
// reference (the reader before issue 9, ldif_reference_test.go): the golden
// exports, the fuzz corpus, generated exports and edge cases of the record
// separation.
func ldifDiffInputs(t *testing.T) map[string][]byte {
	t.Helper()
	in := map[string][]byte{}
	files, _ := filepath.Glob("testdata/ldif/*.ldif")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		in[f] = b
	}
	corpus, _ := filepath.Glob("testdata/fuzz/FuzzReadLDIF/*")
	for _, f := range corpus {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, lit, ok := strings.Cut(string(b), "[]byte(")
		if !ok {
			t.Fatalf("%s: not a fuzz corpus file", f)
		}
		v, err := strconv.Unquote(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(lit), ")")))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		in[f] = []byte(v)
	}
	for name, write := range map[string]func(io.Writer) (gen.Stats, error){
		"realistic": func(w io.Writer) (gen.Stats, error) { return gen.WriteRealistic(w, 300, 40, 5) },
		"flood":     func(w io.Writer) (gen.Stats, error) { return gen.WriteFlood(w, 200) },
		"directory": func(w io.Writer) (gen.Stats, error) { return gen.WriteDirectory(w, 300) },
	} {
		var buf bytes.Buffer
		if _, err := write(&buf); err != nil {
			t.Fatal(err)
		}
		in["gen/"+name] = buf.Bytes()
		// The same export with CRLF line ends and every line folded.
		crlf := bytes.ReplaceAll(buf.Bytes(), []byte("\n"), []byte("\r\n"))
		in["gen/"+name+"/crlf"] = crlf
		var folded bytes.Buffer
		for l := range bytes.Lines(buf.Bytes()) {
			if len(l) > 12 && l[0] != '#' {
				folded.Write(l[:10])
				folded.WriteString("\n ")
				l = l[10:]
			}
			folded.Write(l)
		}
		in["gen/"+name+"/folded"] = folded.Bytes()
	}
	for i, s := range []string{
		"", "\n", "\r\n\r\n", "# c\n continued\n\ndn: CN=a,DC=x\nservicePrincipalName: HTTP/a\n",
		"\n\n# only\n\nversion: 1\n\ndn: CN=a,DC=x\nservicePrincipalName: HTTP/a\n\nversion: 1\ndn: CN=b,DC=x\n",
		"version: 1\ndn: CN=a,DC=x\nservicePrincipalName: HTTP/a\n\r\r\ndn: CN=b,DC=x\nservicePrincipalName: HTTP/b\n\r\r\r\ndn: CN=c,DC=x\n",
		"dn: CN=a,DC=x\nservicePrincipalName: HTTP/a\nmemberOf: CN=Domain Admins,CN=Users,DC=x\n\ndn: CN=Domain Admins,CN=Users,DC=x\nobjectClass: group\nobjectSid:: AQUAAAAAAAUVAAAAAQAAAAIAAAADAAAAAAIAAA==\n",
		"dn: CN=g,DC=x\nobjectClass: group\nobjectSid:: AAEC\n\ndn: CN=a,DC=x\nservicePrincipalName: HTTP/a\n",
		"dn: CN=a,DC=x\nfoo: 1\nfoo;range=0-*: 2\nservicePrincipalName: HTTP/a\n",
		"dn: CN=a,DC=x\nSERVICEPRINCIPALNAME: HTTP/a\nsAMAccountName:: YQ==\nobjectClass: top\nobjectClass: Computer\n",
		"dn: CN=a,DC=x\nservice\u017frincipalName: HTTP/a\nver\u017fion: 1\n\nver\u017fion: 1\n",
		"dn: CN=a,DC=x\nchangetype: Modify\nservicePrincipalName: HTTP/a\n\ndn: CN=b,DC=x\nchangetype: ADD\nservicePrincipalName: HTTP/b\n",
		// Objects out of order, in order, and with equal keys (DN in any
		// case, no GUID): the reader skips the sort only for a strictly
		// increasing order.
		"dn: CN=b,DC=x\nservicePrincipalName: HTTP/b\n\ndn: CN=a,DC=x\nservicePrincipalName: HTTP/a\n\ndn: CN=c,DC=x\nservicePrincipalName: HTTP/c\n",
		"dn: CN=a,DC=x\nservicePrincipalName: HTTP/a\n\ndn: CN=b,DC=x\nservicePrincipalName: HTTP/b\n\ndn: CN=c,DC=x\nservicePrincipalName: HTTP/c\n",
		"dn: CN=a,DC=x\nservicePrincipalName: HTTP/1\n\ndn: cn=A,dc=X\nservicePrincipalName: HTTP/2\n\ndn: CN=a,DC=x\nservicePrincipalName: HTTP/3\n",
		"dn: CN=a,DC=x\nobjectGUID:: AAAAAAAAAAAAAAAAAAAAAQ==\nservicePrincipalName: HTTP/1\n\ndn: CN=a,DC=x\nobjectGUID:: AAAAAAAAAAAAAAAAAAAAAA==\nservicePrincipalName: HTTP/2\n",
		// A warning, then an attribute with options: the entry is read
		// again from its first line, the warning given once.
		"dn: CN=a,DC=x\nmemberOf:< file:///m\nfoo:< file:///f\nsAMAccountName: a\nmember;range=0-0: CN=b,DC=x\nservicePrincipalName: HTTP/a\n\ndn: CN=c,DC=x\ndescription:< file:///d\nmember;range=0-*: CN=d,DC=x\nservicePrincipalName: HTTP/c\n",
		"dn: CN=c,DC=x\nservicePrincipalName;range=0-0: HTTP/c\ndescription:< file:///d\n",
		"dn: CN=a,DC=x\nservicePrincipalName: HTTP/a\nmsDS-AllowedToDelegateTo: cifs/b\nfoo;range=0-*: 1\nservicePrincipalName: HTTP/b\n",
		"dn: CN=a,DC=x\nobjectGUID:: AAAA\nx;range=0-*: 1\nservicePrincipalName: HTTP/a\n",
		// The previous entry's i-th name, tried first (chunkParser.attr):
		// a position a URL line left unfilled, then a line with no name;
		// the same name followed by more of a name, a blank, options.
		"dn: CN=a,DC=x\nfoo:< file:///f\nservicePrincipalName: HTTP/a\n\ndn: CN=b,DC=x\n: HTTP/b\nservicePrincipalName: HTTP/b\n",
		"dn: CN=a,DC=x\nfoo:< file:///f\nservicePrincipalName: HTTP/a\n\ndn: CN=b,DC=x\nfoo: 1\nservicePrincipalName: HTTP/b\n",
		"dn: CN=a,DC=x\nservicePrincipalName: HTTP/a\n\ndn: CN=b,DC=x\nservicePrincipalNameX: HTTP/b\nservicePrincipalName: HTTP/b\n",
		"dn: CN=a,DC=x\nservicePrincipalName: HTTP/a\n\ndn: CN=b,DC=x\nservicePrincipalName : HTTP/b\n",
		"dn: CN=a,DC=x\nservicePrincipalName: HTTP/a\n\ndn: CN=b,DC=x\nservicePrincipalName;range=0-*: HTTP/b\n",
		"dn: CN=a,DC=x\nservicePrincipalName: HTTP/a\n\ndn: CN=b,DC=x\nservicePrincipalName:: SFRUUC9i\nservicePrincipalName:< file:///s\n",
	} {
		in[fmt.Sprintf("case%d", i)] = []byte(s)
	}
	return in
}

// readBoth reads data with the fast reader and the reference, through
// reader wrappers that cut the input differently.
func compareWithReference(t *testing.T, name string, data []byte) {
	t.Helper()
	wrap := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"read error": func(r io.Reader) io.Reader {
			return io.MultiReader(io.LimitReader(r, int64(len(data)/2)), iotest.ErrReader(fmt.Errorf("disk gone")))
		},
	}
	for wname, w := range wrap {
		want, wantErr := refReadLDIF(w(bytes.NewReader(data)), "x")
		got, gotErr := ReadLDIF(w(bytes.NewReader(data)), "x")
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("%s (%s): error %v, reference %v", name, wname, gotErr, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s (%s): result differs from the reference:\n got %+v\nwant %+v", name, wname, got, want)
		}
	}
	// A regular file, as spnaudit opens it: the objects are reserved from
	// its size (sizeHint), an estimate that later chunks may exceed.
	path := filepath.Join(t.TempDir(), "export.ldif")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want, wantErr := refReadLDIF(bytes.NewReader(data), "x")
	got, gotErr := ReadLDIF(f, "x")
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Fatalf("%s (file): error %v, reference %v", name, gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s (file): result differs from the reference:\n got %+v\nwant %+v", name, got, want)
	}
}

// TestLDIFWhileTouching: the chunks that come while the reservation is
// being touched wait in pending and are copied in export order once it is
// done, as from a file read in many chunks: the result is the reference's,
// however long the touch takes.
func TestLDIFWhileTouching(t *testing.T) {
	defer func(n int, f func([]inventory.Object)) { ldifChunkSize, touchReserved = n, f }(ldifChunkSize, touchReserved)
	inputs := ldifDiffInputs(t)
	for _, delay := range []time.Duration{0, 30 * time.Millisecond} {
		touchReserved = func(o []inventory.Object) {
			time.Sleep(delay)
			touch(o)
		}
		for _, size := range []int{4096, 200} {
			ldifChunkSize = size
			for _, name := range []string{"gen/realistic", "gen/flood", "gen/directory", "gen/realistic/folded"} {
				compareWithReference(t, fmt.Sprintf("%s, chunks of %d, touch after %v", name, size, delay), inputs[name])
			}
		}
	}
}

// TestReserveObjects: the reservation from the first chunks covers the
// objects so far and extrapolates them over the export.
func TestReserveObjects(t *testing.T) {
	for _, c := range []struct {
		need, read int
		size       int64
		min, max   int
	}{
		{need: 7000, read: 4 << 20, size: 150 << 20, min: 7000 * 150 / 4, max: 7000 * 150 / 4 * 11 / 10},
		{need: 10, read: 100, size: 100, min: 10, max: 10},                 // all read
		{need: 10, read: 200, size: 100, min: 10, max: 10},                 // the file grew
		{need: 8000, read: 1 << 20, size: 1<<20 + 1, min: 9000, max: 9000}, // at least an eighth more
		{need: 5, read: 0, size: 100, min: 5, max: 5},
		// dense first chunk (50 bytes an object): bounded by minObjectBytes
		{need: 20000, read: 1 << 20, size: 1 << 30, min: 20000 + (1<<30-1<<20)/minObjectBytes, max: 20000 + (1<<30-1<<20)/minObjectBytes},
	} {
		if got := reserveObjects(c.need, c.read, c.size); got < c.min || got > c.max {
			t.Errorf("reserveObjects(%d, %d, %d) = %d, want %d to %d", c.need, c.read, c.size, got, c.min, c.max)
		}
	}
}

// TestLDIFMatchesReference: on every input and every chunk size, from a
// chunk per few bytes to the default, the parallel reader gives what the
// line-by-line reader before issue 9 gave: objects, warnings, errors and
// their line numbers.
func TestLDIFMatchesReference(t *testing.T) {
	defer func(n int) { ldifChunkSize = n }(ldifChunkSize)
	inputs := ldifDiffInputs(t)
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range inputs {
			if !yield(k) {
				return
			}
		}
	})
	for _, size := range []int{4 << 20, 4096, 200, 17, 1} {
		ldifChunkSize = size
		for _, name := range names {
			if size < 200 && len(inputs[name]) > 64<<10 {
				continue
			}
			compareWithReference(t, fmt.Sprintf("%s, chunks of %d", name, size), inputs[name])
		}
	}
}

// FuzzLDIFMatchesReference runs the comparison on arbitrary exports, in
// chunks of 16 bytes so that every input is cut in many places.
func FuzzLDIFMatchesReference(f *testing.F) {
	files, _ := filepath.Glob("testdata/ldif/*.ldif")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("version: 1\ndn: CN=a,DC=x\nservicePrincipalName: HTTP/a\n\n \r\r\ndn: CN=b,DC=x\n"))
	defer func(n int) { ldifChunkSize = n }(ldifChunkSize)
	ldifChunkSize = 16
	f.Fuzz(func(t *testing.T, data []byte) {
		want, wantErr := refReadLDIF(bytes.NewReader(data), "x")
		got, gotErr := ReadLDIF(bytes.NewReader(data), "x")
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
			t.Fatalf("differs from the reference: error %v, reference %v\n got %+v\nwant %+v", gotErr, wantErr, got, want)
		}
	})
}

// TestFormatGUID holds the hand-written hex to fmt's.
func TestFormatGUID(t *testing.T) {
	b := []byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	got, err := formatGUID(b)
	want := fmt.Sprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])
	if err != nil || got != want {
		t.Fatalf("formatGUID = %q, %v; want %q", got, err, want)
	}
}

// TestLDIFAttributesCoverReads: the LDIF reader keeps only ldifAttributes,
// so every attribute name the package asks a record for (values, first,
// strings, has, intAttr, int32Attr) must be among them, or the LDIF path
// would silently read it as absent.
func TestLDIFAttributesCoverReads(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	var calls []*ast.CallExpr
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.ValueSpec:
					for i, id := range n.Names {
						if i < len(n.Values) {
							if lit, ok := n.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
								consts[id.Name], _ = strconv.Unquote(lit.Value)
							}
						}
					}
				case *ast.CallExpr:
					calls = append(calls, n)
				}
				return true
			})
		}
	}
	kept := map[string]bool{}
	for _, a := range ldifAttributes() {
		kept[strings.ToLower(a)] = true
	}
	checked := 0
	for _, c := range calls {
		var arg ast.Expr
		switch fn := c.Fun.(type) {
		case *ast.SelectorExpr:
			if id, ok := fn.X.(*ast.Ident); ok && (id.Name == "r" || id.Name == "rec") &&
				slices.Contains([]string{"values", "first", "strings", "has"}, fn.Sel.Name) && len(c.Args) > 0 {
				arg = c.Args[0]
			}
		case *ast.Ident:
			if (fn.Name == "intAttr" || fn.Name == "int32Attr") && len(c.Args) > 1 {
				arg = c.Args[1]
			}
			// The indexes object.go reads by (objectAttrIDs).
			if fn.Name == "knownID" && len(c.Args) > 0 {
				arg = c.Args[0]
			}
		}
		var name string
		switch a := arg.(type) {
		case *ast.BasicLit:
			name, _ = strconv.Unquote(a.Value)
		case *ast.Ident:
			name = consts[a.Name]
			if a.Name == "name" || a.Name == "key" {
				continue // the helpers' own parameter
			}
		default:
			continue
		}
		checked++
		if !kept[strings.ToLower(name)] {
			t.Errorf("%s: reads attribute %q, which the LDIF reader does not keep: add it to ldifAttributes", fset.Position(c.Pos()), name)
		}
	}
	if checked < 20 {
		t.Fatalf("only %d reads found: the check no longer sees the code", checked)
	}
}

// repeatReader gives n bytes of rec over and over, counting what it gave.
type repeatReader struct {
	rec  []byte
	n    int64
	read int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.read >= r.n {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && r.read < r.n {
		c := copy(p[k:], r.rec[r.read%int64(len(r.rec)):])
		k += c
		r.read += int64(c)
	}
	return k, nil
}

// TestLDIFStopsReadingAtError: an error in the first record stops the
// reading soon after, not at the end of a large export.
func TestLDIFStopsReadingAtError(t *testing.T) {
	rest := &repeatReader{rec: []byte("dn: CN=a,DC=x\nservicePrincipalName: HTTP/a\n\n"), n: 1 << 30}
	_, err := ReadLDIF(io.MultiReader(strings.NewReader("dn: CN=bad,DC=x\nno colon\n\n"), rest), "x")
	if err == nil || !strings.Contains(err.Error(), "ldif line 2") {
		t.Fatalf("error %v, want one at line 2", err)
	}
	if rest.read > 64<<20 {
		t.Fatalf("read %d MiB after the error", rest.read>>20)
	}
}

// TestKnownAttrID: the slot table answers as the map does, for every name.
func TestKnownAttrID(t *testing.T) {
	inTable := 0
	for name, want := range knownAttrIDs {
		if id, ok := knownAttrID(name); !ok || id != want {
			t.Errorf("knownAttrID(%q) = %d, %v; want %d", name, id, ok, want)
		}
		if knownAttrSlots[attrSlot(name)].name == name {
			inTable++
		}
	}
	for _, name := range []string{"", "x", "description", "servicePrincipalNamf", "SERVICEPRINCIPALNAME"} {
		if _, ok := knownAttrID(name); ok != (knownAttrIDs[name] != 0 || name == knownAttrs[0]) {
			t.Errorf("knownAttrID(%q) = %v", name, ok)
		}
	}
	if spelt := len(ldifAttributes()); inTable < spelt*3/4 {
		t.Errorf("only %d of %d names in the slot table", inTable, spelt)
	}
	t.Logf("%d of %d names in the slot table", inTable, len(ldifAttributes()))
}

// TestLDIFLongLineMatchesReference: a line of 64 MiB or more stops the
// reading with bufio.ErrTooLong at its line, after the records before it,
// as bufio.Scanner did; one just shorter is read.
func TestLDIFLongLineMatchesReference(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 64 MiB lines")
	}
	head := "dn: CN=a,DC=x\nservicePrincipalName: HTTP/a\n\ndn: CN=b,DC=x\nservicePrincipalName: HTTP/b\ndescription: "
	for _, n := range []int{maxLDIFLine - len("description: ") - 2, maxLDIFLine - len("description: ") - 1, maxLDIFLine - len("description: "), maxLDIFLine + 10} {
		for _, end := range []string{"\n", "\n\ndn: CN=c,DC=x\nservicePrincipalName: HTTP/c\n", ""} {
			data := []byte(head + strings.Repeat("x", n) + end)
			want, wantErr := refReadLDIF(bytes.NewReader(data), "x")
			got, gotErr := ReadLDIF(bytes.NewReader(data), "x")
			if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
				t.Fatalf("line of %d bytes, then %q: error %v, reference %v", n+len("description: "), end, gotErr, wantErr)
			}
			t.Logf("line of %d bytes: %v", n+len("description: "), gotErr)
		}
	}
}
