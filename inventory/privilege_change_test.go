package inventory

import (
	"reflect"
	"slices"
	"testing"
)

// TestUpdatePrivileges: UpdatePrivileges sets what ApplyPrivileges sets and
// names the positions it changed; owned or not, and UpdatePrivilegesAt on
// the positions given only.
func TestUpdatePrivileges(t *testing.T) {
	m := Membership{Groups: baseGroups(grp(groupDN("Domain Admins"), rid(testSID, 512), userDN("b"), userDN("d"))),
		DomainSIDs: map[string]string{testDomain: testSID}}
	objects := func() []*Object {
		var objs []*Object
		for _, cn := range []string{"a", "b", "c", "d"} {
			objs = append(objs, new(Object{DN: userDN(cn), Domain: testDomain, SPNs: []string{"HTTP/" + cn}}))
		}
		objs[3].Privilege = ApplyPrivileges(objs[3:], m)[0].Privilege // already set: unchanged
		return objs
	}
	want := ApplyPrivileges(objects(), m)
	for _, tc := range []struct {
		name        string
		owned       bool
		at          []int32 // nil: every object
		wantChanged []int32
	}{
		{"not owned", false, nil, []int32{1}},
		{"owned", true, nil, []int32{1}},
		{"at positions", false, []int32{0, 1, 3}, []int32{1}},
		{"at positions without the changed one", true, []int32{0, 2}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := objects()
			frozen := slices.Clone(in)
			var got []*Object
			var changed []int32
			if tc.at == nil {
				got, changed = UpdatePrivileges(in, m, tc.owned)
			} else {
				got, changed = UpdatePrivilegesAt(in, m, tc.owned, tc.at)
			}
			if !slices.Equal(changed, tc.wantChanged) {
				t.Fatalf("changed %v, want %v", changed, tc.wantChanged)
			}
			if tc.wantChanged != nil && !reflect.DeepEqual(got, want) {
				t.Fatalf("got %+v, want ApplyPrivileges's %+v", got, want)
			}
			if tc.wantChanged == nil && &got[0] != &in[0] {
				t.Fatal("nothing changed, yet the objects were copied")
			}
			if copied := &got[0] != &in[0]; copied == tc.owned && tc.wantChanged != nil {
				t.Fatalf("owned %v, copied %v", tc.owned, copied)
			}
			if !tc.owned && !reflect.DeepEqual(in, frozen) {
				t.Fatal("objects not owned were modified")
			}
		})
	}
}
