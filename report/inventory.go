package report

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/spnaudit/spnaudit/inventory"
)

// sortedObjects orders objects by domain, account name (case-insensitive)
// and DN, without copying them.
func sortedObjects(snap *inventory.Snapshot) []*inventory.Object {
	objs := make([]*inventory.Object, len(snap.Objects))
	for i := range snap.Objects {
		objs[i] = snap.Objects[i]
	}
	slices.SortFunc(objs, func(a, b *inventory.Object) int {
		return cmp.Or(
			strings.Compare(a.Domain, b.Domain),
			compareLower(a.SAMAccountName, b.SAMAccountName),
			strings.Compare(a.DN, b.DN),
		)
	})
	return objs
}

// compareLower is strings.Compare(strings.ToLower(a), strings.ToLower(b))
// without building either string: the sort made two allocations a
// comparison, more CPU than encoding the inventory (issue 9). Lower-cased
// strings compare byte for byte as their runes do (UTF-8 keeps the order of
// code points), so it compares unicode.ToLower of each rune, an invalid byte
// being U+FFFD as strings.ToLower writes it. FuzzCompareLower holds it to
// the original.
func compareLower(a, b string) int {
	// Skip the common prefix of ASCII bytes eight at a time: account names
	// of a large forest share long prefixes (SRV000123$, SRV000124$).
	i := 0
	for i+8 <= len(a) && i+8 <= len(b) {
		x := load8(a[i : i+8])
		if x != load8(b[i:i+8]) || x&highs != 0 {
			break
		}
		i += 8
	}
	a, b = a[i:], b[i:]
	for a != "" && b != "" {
		ra, na := lowerRune(a)
		rb, nb := lowerRune(b)
		if ra != rb {
			return cmp.Compare(ra, rb)
		}
		a, b = a[na:], b[nb:]
	}
	return cmp.Compare(len(a), len(b))
}

func lowerRune(s string) (rune, int) {
	if c := s[0]; c < utf8.RuneSelf {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		return rune(c), 1
	}
	r, size := utf8.DecodeRuneInString(s)
	return unicode.ToLower(r), size
}

// writeInventoryJSON streams a JSON array of objects, one encoding at a time,
// so a forest of 250,000 accounts is never held twice in memory. The
// objects are encoded in batches on every core and written in order
// (issue 9): the output is byte for byte that of one encoder.
func writeInventoryJSON(w io.Writer, snap *inventory.Snapshot) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("[")
	objs := sortedObjects(snap)
	const batch = 512
	type encoded struct {
		b   []byte
		err error
	}
	workers := runtime.GOMAXPROCS(0)
	futures := make(chan chan encoded, workers+1)
	stop := make(chan struct{})
	go func() {
		defer close(futures)
		for start := 0; start < len(objs); start += batch {
			fut := make(chan encoded, 1)
			select {
			case futures <- fut:
			case <-stop:
				return
			}
			go func(objs []*inventory.Object, first bool) {
				b, err := encodeInventoryObjects(objs, first)
				fut <- encoded{b, err}
			}(objs[start:min(start+batch, len(objs))], start == 0)
		}
	}()
	defer func() {
		close(stop)
		for range futures {
		}
	}()
	for fut := range futures {
		e := <-fut
		if e.err != nil {
			return e.err
		}
		bw.Write(e.b)
		inventoryBuffers.Put(&e.b)
	}
	if len(snap.Objects) > 0 {
		bw.WriteString("\n")
	}
	bw.WriteString("]\n")
	return bw.Flush()
}

// encodeInventoryObjects encodes objects as elements of the inventory
// array, each after its comma (but the first of the array) and newline,
// into a buffer from inventoryBuffers: json.MarshalIndent's bytes, written
// indented by appendInventoryObject.
func encodeInventoryObjects(objs []*inventory.Object, first bool) ([]byte, error) {
	out := (*inventoryBuffers.Get().(*[]byte))[:0]
	var err error
	for i, o := range objs {
		if i > 0 || !first {
			out = append(out, ',')
		}
		out = append(out, "\n  "...)
		if out, err = appendInventoryObject(out, o, 1); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// inventoryBuffers recycles the batches' buffers: fewer allocations, fewer
// collections, each of which scans every object of the inventory.
var inventoryBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512<<10); return &b }}

// writeInventoryTable writes one block per object: account, kind and DN on
// the first line, then its SPNs as stored, indented.
//
//	EXAMPLE\svc-iis  user  CN=svc-iis,OU=Service Accounts,DC=example,DC=test
//	  HTTP/web01
//	  HTTP/web01.example.test
func writeInventoryTable(w io.Writer, snap *inventory.Snapshot, color bool) error {
	bw := bufio.NewWriter(w)
	p := painter(color)
	for _, o := range sortedObjects(snap) {
		name := Sanitize(snap.Directory.AccountName(o))
		kind := string(o.Kind)
		switch {
		case o.IsDC():
			kind += ", DC"
		case !o.Enabled():
			kind += ", disabled"
		}
		head := fmt.Sprintf("%s  %s  ", name, kind)
		dn := wrap(Sanitize(o.DN), max(width-len([]rune(head)), 40), true)
		fmt.Fprintf(bw, "%s  %s  %s\n", p.paint(styleBold, name), p.paint(styleDim, kind), dn[0])
		for _, l := range dn[1:] {
			fmt.Fprintf(bw, "%s%s\n", strings.Repeat(" ", len([]rune(head))), l)
		}
		for _, spn := range o.SPNs {
			for i, l := range wrap(Sanitize(spn), width-4, false) {
				if i == 0 {
					fmt.Fprintf(bw, "  %s\n", l)
				} else {
					fmt.Fprintf(bw, "    %s\n", l)
				}
			}
		}
	}
	fmt.Fprintf(bw, "%s, %s, %s\n", count(len(snap.Objects), "object"), count(snap.SPNCount(), "SPN"), count(len(snap.Directory.Domains), "domain"))
	return bw.Flush()
}
