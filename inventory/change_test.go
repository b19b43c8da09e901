package inventory

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// randomChange makes a base of n objects and a snapshot from it that drops
// and adds objects at random, with the positions a poll would record.
func randomChange(r *rand.Rand, n int) (base, snap *Snapshot, removed, added []int32) {
	base = &Snapshot{}
	for i := range n {
		base.Objects = append(base.Objects, new(Object{GUID: testGUID(i)}))
	}
	snap = &Snapshot{}
	for i := range base.Objects {
		for r.IntN(5) == 0 { // new objects before this one
			added = append(added, int32(len(snap.Objects)))
			snap.Objects = append(snap.Objects, new(Object{GUID: testGUID(1<<32 + len(snap.Objects))}))
		}
		if r.IntN(4) == 0 {
			removed = append(removed, int32(i))
			continue
		}
		snap.Objects = append(snap.Objects, base.Objects[i])
	}
	if r.IntN(2) == 0 {
		added = append(added, int32(len(snap.Objects)))
		snap.Objects = append(snap.Objects, new(Object{GUID: testGUID(1 << 40)}))
	}
	return base, snap, removed, added
}

// TestChangePositionsMatchReference maps every position both ways and
// compares with the positions found by looking the objects up.
func TestChangePositionsMatchReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 500 {
		base, snap, removed, added := randomChange(r, r.IntN(40))
		if err := snap.SetChange(base, removed, added); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		c := snap.ChangeFrom(base)
		if c == nil {
			t.Fatalf("round %d: ChangeFrom(base) = nil", round)
		}
		at := map[GUID]int32{}
		for j := range snap.Objects {
			at[snap.Objects[j].GUID] = int32(j)
		}
		for i := range base.Objects {
			want, ok := at[base.Objects[i].GUID]
			if !ok || slices.Contains(removed, int32(i)) {
				want = -1
			}
			if got := c.NewPosition(int32(i)); got != want {
				t.Fatalf("round %d: NewPosition(%d) = %d, want %d (removed %v, added %v)", round, i, got, want, removed, added)
			}
			if want >= 0 {
				if got := c.OldPosition(want); got != int32(i) {
					t.Fatalf("round %d: OldPosition(%d) = %d, want %d", round, want, got, i)
				}
			}
		}
		for _, j := range added {
			if got := c.OldPosition(j); got != -1 {
				t.Fatalf("round %d: OldPosition(added %d) = %d, want -1", round, j, got)
			}
		}
	}
}

// TestChangeFromNamesItsBase: a change describes one base and one list of
// objects; another base, or a copy of the snapshot with other objects,
// gets none.
func TestChangeFromNamesItsBase(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	base, snap, removed, added := randomChange(r, 30)
	if err := snap.SetChange(base, removed, added); err != nil {
		t.Fatal(err)
	}
	same := *base // the same objects: still the base
	otherBase := &Snapshot{Objects: slices.Clone(base.Objects)}
	copied := *snap
	copied.Objects = slices.Clone(snap.Objects)
	shared := *snap
	for _, tc := range []struct {
		name       string
		snap, base *Snapshot
		want       bool
	}{
		{"its base", snap, base, true},
		{"a copy of the base sharing its objects", snap, &same, true},
		{"a copy of the snapshot sharing its objects", &shared, base, true},
		{"another base with equal objects", snap, otherBase, false},
		{"a copy of the snapshot with other objects", &copied, base, false},
		{"no base", snap, nil, false},
		{"a snapshot without a change", base, base, false},
	} {
		if got := tc.snap.ChangeFrom(tc.base) != nil; got != tc.want {
			t.Errorf("%s: ChangeFrom gave a change %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestSetChangeRefusesBadPositions: positions a consumer would misread are
// refused, and leave no change behind.
func TestSetChangeRefusesBadPositions(t *testing.T) {
	base := &Snapshot{Objects: Pointers(make([]Object, 4))}
	for _, tc := range []struct {
		name           string
		n              int
		removed, added []int32
	}{
		{"counts do not add up", 4, []int32{1}, nil},
		{"removed out of range", 4, []int32{4}, []int32{0}},
		{"added out of range", 4, []int32{0}, []int32{4}},
		{"removed not ascending", 4, []int32{2, 1}, []int32{0, 1}},
		{"added repeated", 4, []int32{1, 2}, []int32{1, 1}},
		{"negative", 4, []int32{-1}, []int32{0}},
	} {
		snap := &Snapshot{Objects: Pointers(make([]Object, tc.n))}
		if err := snap.SetChange(base, tc.removed, tc.added); err == nil {
			t.Errorf("%s: SetChange accepted it", tc.name)
		}
		if snap.ChangeFrom(base) != nil {
			t.Errorf("%s: a refused change was kept", tc.name)
		}
	}
}

func TestMergePositions(t *testing.T) {
	for _, tc := range []struct{ a, b, want []int32 }{
		{nil, nil, []int32{}},
		{[]int32{1, 4}, nil, []int32{1, 4}},
		{nil, []int32{0, 2}, []int32{0, 2}},
		{[]int32{1, 4, 9}, []int32{0, 2, 5, 10}, []int32{0, 1, 2, 4, 5, 9, 10}},
	} {
		if got := MergePositions(tc.a, tc.b); !slices.Equal(got, tc.want) {
			t.Errorf("MergePositions(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
