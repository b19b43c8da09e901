package ldapscan

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/inventory"
)

// benchDirectory returns n sorted objects like a domain's (two or three
// SPNs each, a few in Domain Admins) and the membership that makes those
// privileged, for the merge's benchmarks.
func benchDirectory(n int) ([]*inventory.Object, inventory.Membership) {
	rng := rand.New(rand.NewPCG(1, 2))
	const domain, nc = "corp.example.test", "DC=corp,DC=example,DC=test"
	objs := make([]*inventory.Object, n)
	var admins []string
	for i := range objs {
		name := fmt.Sprintf("host%07d", i*10)
		objs[i] = &inventory.Object{
			GUID: benchGUID(rng), DN: "CN=" + name + ",OU=Servers," + nc, Domain: domain, SAMAccountName: name + "$",
			Kind: inventory.KindComputer, USNChanged: int64(i + 1), PrimaryGroupID: 515,
			SPNs: []string{"HOST/" + name, "HOST/" + name + "." + domain, "RestrictedKrbHost/" + name},
		}
		if i%2000 == 0 { // admins of their own OU, as tier-0 accounts are
			objs[i].DN = fmt.Sprintf("CN=adm%07d,OU=Tier0,%s", i, nc)
			admins = append(admins, objs[i].DN)
		}
	}
	sortObjects(objs)
	m := inventory.Membership{
		Groups: []inventory.Group{
			{DN: "CN=Domain Admins,CN=Users," + nc, SID: fakeDomainSID + "-512", Domain: domain, Members: admins},
			{DN: "CN=Administrators,CN=Builtin," + nc, SID: "S-1-5-32-544", Domain: domain, Members: []string{"CN=Domain Admins,CN=Users," + nc}},
		},
		DomainSIDs: map[string]string{domain: fakeDomainSID},
	}
	inventory.SetPrivileges(objs, m)
	return objs, m
}

func benchGUID(rng *rand.Rand) inventory.GUID {
	var g inventory.GUID
	binary.LittleEndian.PutUint64(g[:8], rng.Uint64())
	binary.LittleEndian.PutUint64(g[8:], rng.Uint64())
	return g
}

// testGUID is a made-up GUID ordered as n.
func testGUID(n int) inventory.GUID {
	var g inventory.GUID
	binary.BigEndian.PutUint64(g[8:], uint64(n))
	return g
}

// benchChanges is what a poll that changed k objects of prev read: 60%
// modified in place (one more SPN), 20% new, 10% deleted, 10% renamed,
// spread over the directory.
func benchChanges(prev []*inventory.Object, k int) *changeSet {
	rng := rand.New(rand.NewPCG(3, uint64(k)))
	c := newChangeSet()
	for i := range k {
		o := *prev[(i*len(prev)/k+7)%len(prev)] // a copy: prev stays as it was
		switch r := i % 10; {
		case r < 6:
			o.SPNs = append(o.SPNs[:len(o.SPNs):len(o.SPNs)], fmt.Sprintf("HTTP/changed%d", i))
			o.USNChanged += int64(len(prev))
		case r < 8:
			o = inventory.Object{GUID: benchGUID(rng), DN: fmt.Sprintf("CN=new%07d,OU=Servers,DC=corp,DC=example,DC=test", rng.IntN(10*len(prev))),
				Domain: o.Domain, Kind: o.Kind, SPNs: []string{fmt.Sprintf("HOST/new%d", i)}}
		case r < 9:
			c.touched[objectKey(&o)] = struct{}{} // deleted: a tombstone
			continue
		default:
			o.DN = fmt.Sprintf("CN=renamed%07d,OU=Servers,DC=corp,DC=example,DC=test", i)
		}
		o.Privilege = nil // as read: set by the privilege step
		c.touched[objectKey(&o)] = struct{}{}
		c.updated = append(c.updated, &o)
	}
	return c
}

// cpuLoop runs f as a benchmark's loop and reports the process's CPU time
// per iteration (cpu-ns/op) beside the wall time: the machine is shared,
// and the collector's work on the other cores is the merge's too.
func cpuLoop(b *testing.B, f func()) {
	start := processCPU()
	n := 0
	for b.Loop() {
		f()
		n++
	}
	b.ReportMetric(float64(processCPU()-start)/float64(max(n, 1)), "cpu-ns/op")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
