package inventory

import (
	"reflect"
	"slices"
)

// UpdatePrivileges is ApplyPrivileges that also returns the ascending
// positions of the objects whose Privilege or PrivilegeUnknown it changed:
// a poll names them in its snapshot's Change, since a group membership
// change gives an account a new value without its entry being read. An
// object whose privilege changes is replaced by a changed copy (the
// objects are shared with the snapshot before). When owned, objects is a
// fresh slice of the caller's and the copies are set in it; otherwise it
// is not modified, and copied only when something changes.
func UpdatePrivileges(objects []*Object, m Membership, owned bool) ([]*Object, []int32) {
	return updatePrivileges(objects, m, owned, nil, true)
}

// UpdatePrivilegesAt is UpdatePrivileges for the objects at positions
// (ascending) only: the caller knows every other object's privilege is
// already m's (its DN, domain and primary group are those m was applied
// to, see SameMembership). It costs O(len(positions)) plus m's index.
func UpdatePrivilegesAt(objects []*Object, m Membership, owned bool, positions []int32) ([]*Object, []int32) {
	return updatePrivileges(objects, m, owned, positions, false)
}

func updatePrivileges(objects []*Object, m Membership, owned bool, positions []int32, all bool) ([]*Object, []int32) {
	ix := m.index()
	out := objects
	var changed []int32
	set := func(i int) {
		o := objects[i]
		p, unknown := ix.privilegeOf(o)
		if equalPrivilege(o.Privilege, p) && o.PrivilegeUnknown == unknown {
			return
		}
		if !owned && len(changed) == 0 {
			out = slices.Clone(objects)
		}
		c := *o
		c.Privilege, c.PrivilegeUnknown = p, unknown
		out[i] = &c
		changed = append(changed, int32(i))
	}
	if all {
		for i := range objects {
			set(i)
		}
	} else {
		for _, i := range positions {
			set(int(i))
		}
	}
	return out, changed
}

// SameMembership reports whether a and b make the same accounts
// privileged because they are the same graph, read in the same order.
func SameMembership(a, b Membership) bool {
	return reflect.DeepEqual(a, b)
}
