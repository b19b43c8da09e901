package state

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

// TestSAMIndexMatchesLowerCaseMap: the hashed DN index answers what a map
// from every object's lower-case DN to its sAMAccountName (last wins)
// answers, for the objects' DNs in any case, for DNs of no object, with
// non-ASCII DNs and DNs that differ only in case, built afresh and after
// following random changes.
func TestSAMIndexMatchesLowerCaseMap(t *testing.T) {
	names := []string{"svc", "SVC", "Ünal", "ÜNAL", "İsmail", "ismail", "Kelvin\u212a", "kelvink", "straße", "STRASSE"}
	r := rand.New(rand.NewPCG(3, 4))
	n := 0
	object := func() inventory.Object {
		n++
		name := names[r.IntN(len(names))]
		num := r.IntN(400) // DNs repeat now and then, in another case
		return inventory.Object{DN: fmt.Sprintf("CN=%s%d,OU=Apps,DC=example,DC=test", name, num), SAMAccountName: fmt.Sprintf("sam%d", n)}
	}
	variants := func(dn string) []string {
		return []string{dn, strings.ToLower(dn), strings.ToUpper(dn), dn + "x", "CN=nobody," + dn}
	}
	// check asks for the DNs of snap's objects and of those before (gone
	// ones included).
	check := func(ix *samIndex, snap, before *inventory.Snapshot, when string) {
		t.Helper()
		want := map[string]string{}
		for _, o := range snap.Objects {
			want[strings.ToLower(o.DN)] = o.SAMAccountName
		}
		for _, o := range append(before.Objects, snap.Objects...) {
			for _, dn := range variants(o.DN) {
				if got := ix.lookup(dn); got != want[strings.ToLower(dn)] {
					t.Fatalf("%s: %q -> %q, want %q", when, dn, got, want[strings.ToLower(dn)])
				}
			}
		}
	}
	var objs []*inventory.Object
	for range 100 {
		objs = append(objs, new(object()))
	}
	snap := &inventory.Snapshot{Objects: objs}
	ix := newSAMIndex(snap)
	check(ix, snap, snap, "built")
	followed, plain := 0, 0
	for poll := range 300 {
		next := &inventory.Snapshot{}
		var removed, added []int32
		for i, o := range snap.Objects {
			switch r.IntN(30) {
			case 0:
				removed = append(removed, int32(i))
			case 1:
				removed = append(removed, int32(i))
				added = append(added, int32(len(next.Objects)))
				next.Objects = append(next.Objects, new(object()))
			default:
				next.Objects = append(next.Objects, o)
			}
		}
		if err := next.SetChange(snap, removed, added); err != nil {
			t.Fatal(err)
		}
		if ix.follow(next) {
			followed++
		} else {
			ix = newSAMIndex(next)
		}
		if ix.byHash == nil {
			plain++
		}
		check(ix, next, snap, fmt.Sprintf("poll %d", poll))
		snap = next
	}
	if followed < 10 || plain < 10 {
		t.Fatalf("followed %d changes, answered from the plain map %d times: the test misses a path", followed, plain)
	}
}
