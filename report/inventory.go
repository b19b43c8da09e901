package report

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spnaudit/spnaudit/inventory"
)

// sortedObjects orders objects by domain, account name (case-insensitive)
// and DN, without copying them.
func sortedObjects(snap *inventory.Snapshot) []*inventory.Object {
	objs := make([]*inventory.Object, len(snap.Objects))
	for i := range snap.Objects {
		objs[i] = &snap.Objects[i]
	}
	slices.SortFunc(objs, func(a, b *inventory.Object) int {
		return cmp.Or(
			strings.Compare(a.Domain, b.Domain),
			strings.Compare(strings.ToLower(a.SAMAccountName), strings.ToLower(b.SAMAccountName)),
			strings.Compare(a.DN, b.DN),
		)
	})
	return objs
}

// writeInventoryJSON streams a JSON array of objects, one encoding at a time,
// so a forest of 250,000 accounts is never held twice in memory.
func writeInventoryJSON(w io.Writer, snap *inventory.Snapshot) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("[")
	var indented []byte
	for i, o := range sortedObjects(snap) {
		if i > 0 {
			bw.WriteString(",")
		}
		obj := *o
		obj.SPNs = nonNil(obj.SPNs)
		// json.MarshalIndent's output, indented in one pass (appendIndent).
		b, err := json.Marshal(obj)
		if err != nil {
			return err
		}
		indented = appendIndent(indented[:0], b, "  ", "  ")
		bw.WriteString("\n  ")
		bw.Write(indented)
	}
	if len(snap.Objects) > 0 {
		bw.WriteString("\n")
	}
	bw.WriteString("]\n")
	return bw.Flush()
}

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
