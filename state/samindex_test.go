package state

import (
	"fmt"
	"math/rand/v2"
	"slices"
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

// TestSAMOfMatchesLowerCaseMap: the store's lookup for new findings'
// records (binary search of a snapshot in the scanner's order with ASCII
// DNs, the DN index otherwise) answers what a map from every object's
// lower-case DN to its sAMAccountName (last wins) answers, along random
// changes that keep the order or break it.
func TestSAMOfMatchesLowerCaseMap(t *testing.T) {
	ascii := []string{"svc", "SVC", "Svc_", "web", "WEB", "kelvink"}
	other := []string{"Ünal", "ÜNAL", "İsmail", "ismail", "Kelvin\u212a"}
	r := rand.New(rand.NewPCG(5, 6))
	n := 0
	object := func(names []string) *inventory.Object {
		n++
		num := r.IntN(60)
		return &inventory.Object{DN: fmt.Sprintf("CN=%s%d,OU=Apps,DC=example,DC=test", names[r.IntN(len(names))], num),
			GUID: testGUID(fmt.Sprint(n)), SAMAccountName: fmt.Sprintf("sam%d", n)}
	}
	less := func(a, b *inventory.Object) int {
		if c := inventory.CompareFold(a.DN, b.DN); c != 0 {
			return c
		}
		return a.GUID.Compare(b.GUID)
	}
	s := &Store{}
	searched, indexed := 0, 0
	var snap *inventory.Snapshot
	for poll := range 200 {
		sorted := poll%50 < 40
		names := ascii
		if poll%50 >= 30 {
			names = append(slices.Clone(ascii), other...)
		}
		next := &inventory.Snapshot{}
		if snap == nil || poll%50 == 0 {
			for range 80 {
				next.Objects = append(next.Objects, object(names))
			}
			if sorted {
				slices.SortStableFunc(next.Objects, less)
			}
		} else {
			var removed []int32
			isNew := map[*inventory.Object]bool{}
			for i, o := range snap.Objects {
				if r.IntN(10) == 0 {
					removed = append(removed, int32(i))
					continue
				}
				next.Objects = append(next.Objects, o)
				if r.IntN(10) == 0 {
					o := object(names)
					isNew[o] = true
					next.Objects = append(next.Objects, o)
				}
			}
			if sorted {
				slices.SortStableFunc(next.Objects, less)
			}
			var added []int32
			for i, o := range next.Objects {
				if isNew[o] {
					added = append(added, int32(i))
				}
			}
			if err := next.SetChange(snap, removed, added); err != nil {
				t.Fatal(err)
			}
		}
		s.followSAMs(next)
		want := map[string]string{}
		for _, o := range next.Objects {
			want[strings.ToLower(o.DN)] = o.SAMAccountName
		}
		if s.searchable(next) {
			searched++
		} else {
			indexed++
		}
		for _, o := range next.Objects {
			for _, dn := range []string{o.DN, strings.ToLower(o.DN), strings.ToUpper(o.DN), o.DN + "x", "CN=nobody," + o.DN,
				strings.ReplaceAll(o.DN, "k", "\u212a")} {
				if got := s.samOf(next, dn); got != want[strings.ToLower(dn)] {
					t.Fatalf("poll %d (searchable %v): %q -> %q, want %q", poll, s.searchable(next), dn, got, want[strings.ToLower(dn)])
				}
			}
		}
		snap = next
	}
	if searched < 50 || indexed < 50 {
		t.Fatalf("searched %d snapshots, indexed %d: the test misses a path", searched, indexed)
	}
}
