package inventory

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
)

// TestSetPrivilegesParallelMatches: on enough objects to share them among
// the cores, SetPrivilegesParallel sets what SetPrivileges sets: chains
// through groups, primary groups, and unknown where the domain's protected
// groups are missing.
func TestSetPrivilegesParallelMatches(t *testing.T) {
	const sid = "S-1-5-21-1-2-3"
	m := Membership{
		Groups: []Group{
			{DN: "CN=Domain Admins,CN=Users,DC=corp,DC=test", SID: sid + "-512", Members: []string{"CN=Ops,DC=corp,DC=test"}},
			{DN: "CN=Administrators,CN=Builtin,DC=corp,DC=test", SID: "S-1-5-32-544"},
			{DN: "CN=Ops,DC=corp,DC=test", SID: sid + "-1200", Members: []string{"CN=u7,DC=corp,DC=test"}},
		},
		DomainSIDs: map[string]string{"corp.test": sid},
	}
	var objects []Object
	for i := range 40000 {
		o := Object{DN: fmt.Sprintf("CN=u%d,DC=corp,DC=test", i), Domain: "corp.test", PrimaryGroupID: 513}
		switch i % 5 {
		case 1:
			o.PrimaryGroupID = 512
		case 2:
			o.Domain, o.DN = "other.test", fmt.Sprintf("CN=u%d,DC=other,DC=test", i)
		case 3:
			o.PrimaryGroupID = 0
		}
		objects = append(objects, o)
	}
	// SetPrivileges sets the objects in place: each run has its own.
	want := Pointers(slices.Clone(objects))
	SetPrivileges(want, m)
	got := Pointers(slices.Clone(objects))
	SetPrivilegesParallel(got, m)
	if !reflect.DeepEqual(got, want) {
		t.Fatal("SetPrivilegesParallel differs from SetPrivileges")
	}
	privileged, unknown := 0, 0
	for _, o := range got {
		if o.Privilege != nil {
			privileged++
		}
		if o.PrivilegeUnknown {
			unknown++
		}
	}
	if privileged == 0 || unknown == 0 {
		t.Fatalf("the test exercises too little: %d privileged, %d unknown", privileged, unknown)
	}
}
