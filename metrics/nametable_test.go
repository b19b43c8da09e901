package metrics

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// TestNameTableEqualsMap changes a name table as updates do (DNs entering,
// renamed, leaving, entering again) over random sequences and checks that
// every table, including those superseded, gives what a map changed alike
// gives, through get and names; with bases small and large enough that
// both the changes kept beside the base and their compaction happen.
func TestNameTableEqualsMap(t *testing.T) {
	compactions, overlays := 0, 0
	for trial := range 40 {
		rng := rand.New(rand.NewPCG(uint64(trial), 3))
		want := map[string]string{}
		for i := range rng.IntN(3) * 50 {
			want[fmt.Sprintf("CN=a%d", i)] = fmt.Sprintf("CORP\\a%d", i)
		}
		table := newNameTable(maps.Clone(want))
		type kept struct {
			table *nameTable
			want  map[string]string
		}
		var history []kept
		for step := range 60 {
			entering, leaving := map[string]string{}, []string{}
			for range rng.IntN(8) {
				dn := fmt.Sprintf("CN=a%d", rng.IntN(120))
				if _, named := want[dn]; named && rng.IntN(2) == 0 {
					if _, ok := entering[dn]; !ok && !slices.Contains(leaving, dn) {
						leaving = append(leaving, dn)
					}
				} else if !slices.Contains(leaving, dn) {
					entering[dn] = fmt.Sprintf("CORP\\n%d", step) // new, or renamed
				}
			}
			next := table.with(entering, leaving)
			switch {
			case next.over == nil && next != table:
				compactions++
			case next.over != nil:
				overlays++
			}
			want = maps.Clone(want)
			maps.Copy(want, entering)
			for _, dn := range leaving {
				delete(want, dn)
			}
			table = next
			history = append(history, kept{table, want})
			for _, h := range history[max(0, len(history)-3):] {
				checkNameTable(t, h.table, h.want)
			}
		}
	}
	t.Logf("%d compactions, %d tables with changes beside their base", compactions, overlays)
	if compactions == 0 || overlays == 0 {
		t.Errorf("%d compactions, %d tables with changes beside their base: both must be exercised", compactions, overlays)
	}
}

func checkNameTable(t *testing.T, table *nameTable, want map[string]string) {
	t.Helper()
	if got := table.names(); !maps.Equal(got, want) {
		t.Fatalf("names %v, want %v", got, want)
	}
	for i := range 120 {
		dn := fmt.Sprintf("CN=a%d", i)
		name, ok := table.get(dn)
		if wantName, wantOK := want[dn]; name != wantName || ok != wantOK {
			t.Fatalf("get(%q) = %q, %v; want %q, %v", dn, name, ok, wantName, wantOK)
		}
	}
	if len(table.over) > overLimit(len(table.base.pairs)) {
		t.Fatalf("%d changes beside a base of %d: more than %d", len(table.over), len(table.base.pairs), overLimit(len(table.base.pairs)))
	}
}

// TestNameTableNamesConcurrently: web requests read a published view's
// names at once (Status); the first makes the map, all get the same one
// (run with -race).
func TestNameTableNamesConcurrently(t *testing.T) {
	table := newNameTable(map[string]string{"CN=a": "CORP\\a", "CN=b": "CORP\\b"}).with(map[string]string{"CN=c": "CORP\\c"}, []string{"CN=a"})
	want := map[string]string{"CN=b": "CORP\\b", "CN=c": "CORP\\c"}
	var wg sync.WaitGroup
	got := make([]map[string]string, 8)
	for i := range got {
		wg.Go(func() { got[i] = table.names() })
	}
	wg.Wait()
	for i := range got {
		if !maps.Equal(got[i], want) {
			t.Fatalf("names %v, want %v", got[i], want)
		}
		if fmt.Sprintf("%p", got[i]) != fmt.Sprintf("%p", got[0]) {
			t.Fatal("the names were made more than once")
		}
	}
}

// TestNameIndexGet: an index of n DNs (none, one, tables full enough that
// searches wrap round their end) gives each DN's name and no name for DNs
// it does not hold.
func TestNameIndexGet(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 7, 100, 5000} {
		var pairs []namePair
		for i := range n {
			pairs = append(pairs, namePair{fmt.Sprintf("CN=a%d,DC=corp", i), fmt.Sprintf("CORP\\a%d", i)})
		}
		x := newNameIndex(slices.Clone(pairs))
		if free := slices.Index(x.slots, 0); free < 0 {
			t.Fatalf("%d DNs: no free slot", n)
		}
		for _, p := range pairs {
			if name, ok := x.get(p.dn); !ok || name != p.name {
				t.Fatalf("%d DNs: get(%q) = %q, %v; want %q", n, p.dn, name, ok, p.name)
			}
		}
		for i := range n + 10 {
			if name, ok := x.get(fmt.Sprintf("CN=b%d,DC=corp", i)); ok {
				t.Fatalf("%d DNs: get of a DN not held gave %q", n, name)
			}
		}
	}
}
