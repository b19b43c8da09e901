package ldapscan

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

// checkChange checks that cur says exactly how it was made from prev
// (inventory.Change): the change exists, prev without Removed and with
// Added is cur, and it is minimal and correct: every object not added is
// its base object, field for field and sharing its slices and pointers,
// and no object added is a copy of the one it replaced.
func checkChange(t testing.TB, prev, cur *inventory.Snapshot) {
	t.Helper()
	c := cur.ChangeFrom(prev)
	if c == nil {
		t.Fatal("the poll's snapshot carries no change from the previous one")
	}
	if len(prev.Objects)-len(c.Removed)+len(c.Added) != len(cur.Objects) {
		t.Fatalf("change: %d objects - %d removed + %d added != %d", len(prev.Objects), len(c.Removed), len(c.Added), len(cur.Objects))
	}
	// Rebuild cur: the kept objects of prev fill, in order, the positions
	// not added.
	next := 0
	for old := range prev.Objects {
		if _, gone := slices.BinarySearch(c.Removed, int32(old)); gone {
			if c.NewPosition(int32(old)) != -1 {
				t.Fatalf("removed object %d has a new position", old)
			}
			continue
		}
		for {
			if _, in := slices.BinarySearch(c.Added, int32(next)); !in {
				break
			}
			next++
		}
		if got := c.NewPosition(int32(old)); got != int32(next) {
			t.Fatalf("NewPosition(%d) = %d, want %d", old, got, next)
		}
		if got := c.OldPosition(int32(next)); got != int32(old) {
			t.Fatalf("OldPosition(%d) = %d, want %d", next, got, old)
		}
		p, o := prev.Objects[old], cur.Objects[next]
		if !reflect.DeepEqual(*p, *o) {
			t.Fatalf("object %s (base %d, now %d) changed but is not in the change:\nbase %+v\nnow  %+v", o.DN, old, next, *p, *o)
		}
		if !sameBacking(p, o) {
			t.Fatalf("object %s (base %d, now %d) is equal but does not share the base's slices", o.DN, old, next)
		}
		if p != o {
			t.Fatalf("object %s (base %d, now %d) is kept but copied: the snapshots should share it", o.DN, old, next)
		}
		next++
	}
	for ; next < len(cur.Objects); next++ {
		if _, in := slices.BinarySearch(c.Added, int32(next)); !in {
			t.Fatalf("position %d is neither kept nor added", next)
		}
	}
	// Minimal: an added object is not the object it replaced.
	replaced := map[objectID]*inventory.Object{}
	for _, r := range c.Removed {
		replaced[objectKey(prev.Objects[r])] = prev.Objects[r]
	}
	for _, a := range c.Added {
		o := cur.Objects[a]
		if old, ok := replaced[objectKey(o)]; ok && reflect.DeepEqual(*old, *o) {
			t.Fatalf("object %s at %d is in the change but equals its base", o.DN, a)
		}
	}
}

// sameBacking reports whether two objects share their slices and pointers,
// as an object a poll kept shares its base's.
func sameBacking(a, b *inventory.Object) bool {
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	for i := range va.NumField() {
		fa, fb := va.Field(i), vb.Field(i)
		switch fa.Kind() {
		case reflect.Slice:
			if fa.Len() > 0 && fa.Pointer() != fb.Pointer() {
				return false
			}
		case reflect.Pointer, reflect.Map:
			if fa.Pointer() != fb.Pointer() {
				return false
			}
		}
	}
	return true
}

// checkMemo checks that the scanner's memo is that of objects: every
// object's key with its DN, and nothing else.
func checkMemo(t testing.TB, sc *Scanner, objects []*inventory.Object) {
	t.Helper()
	m := sc.memo
	if m == nil || m.n != len(objects) || m.objects != firstObjectOf(objects) || !m.hasMembership {
		t.Fatal("the scanner holds no memo of its last poll's objects")
	}
	if len(m.dns) != len(objects) {
		t.Fatalf("the memo holds %d keys for %d objects", len(m.dns), len(objects))
	}
	for i := range objects {
		if dn, ok := m.dns[objects[i].GUID]; !ok || dn != objects[i].DN {
			t.Fatalf("the memo places %s at %q", objects[i].DN, dn)
		}
	}
}

// renameEntry moves an entry to a new DN, keeping its GUID, as a rename or
// a move does.
func (fa *fakeAD) renameEntry(from, to string) {
	fa.mu.Lock()
	defer fa.mu.Unlock()
	e := fa.entries[strings.ToLower(from)]
	delete(fa.entries, strings.ToLower(from))
	e.dn = to
	fa.usn++
	e.usn = fa.usn
	fa.entries[strings.ToLower(to)] = e
}

// TestPollChangeDifferential runs random sequences of polls (adds,
// deletions, SPN changes, renames, moves, privilege through group
// membership, nothing) and checks each poll's change against the snapshot
// before it (checkChange), and the poll itself against a full scan.
func TestPollChangeDifferential(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) { pollChangeDifferential(t, seed, seed%2 == 1) })
	}
}

func pollChangeDifferential(t *testing.T, seed uint64, hideTombstones bool) {
	rng := rand.New(rand.NewPCG(seed, 9))
	fa := newFakeAD()
	fa.hideTombstones = hideTombstones
	const tier0 = "CN=Tier0 Ops,CN=Users," + fakeDomainNC
	fa.put("OU=Moved,"+fakeDomainNC, map[string][]string{"objectClass": {"top", "organizationalUnit"}})
	fa.put(tier0, map[string][]string{"objectClass": {"top", "group"}, "objectSid": {string(mustSID(fakeDomainSID + "-1105"))}})
	fa.modify(fakeAdministrators, func(a map[string][]string) { a["member"] = append(a["member"], tier0) })
	var live []string // DNs of the accounts
	made := 0
	newAccount := func(spn bool) {
		made++
		cn := fmt.Sprintf("acct%03d", made)
		if spn {
			live = append(live, fa.account(cn, "user", "HTTP/"+cn))
		} else {
			live = append(live, fa.account(cn, "user"))
		}
	}
	for range 60 {
		newAccount(rng.IntN(5) > 0)
	}
	url := "ldap://" + fa.serve(t, nil, false)
	sc := newTestScanner(t, []string{url}, nil)
	oracle := newTestScanner(t, []string{url}, nil)
	prev := scanOK(t, sc)
	pick := func() int { return rng.IntN(len(live)) }
	for round := range 40 {
		var did []string
		for range rng.IntN(6) {
			switch op := rng.IntN(9); {
			case op == 0:
				newAccount(rng.IntN(4) > 0)
				did = append(did, "add")
			case op == 1 && len(live) > 10:
				i := pick()
				fa.remove(live[i])
				live = slices.Delete(live, i, i+1)
				did = append(did, "delete")
			case op == 2:
				dn := live[pick()]
				fa.modify(dn, func(a map[string][]string) {
					a["servicePrincipalName"] = append(slices.Clone(a["servicePrincipalName"]), fmt.Sprintf("HOST/r%d-%d", round, rng.IntN(1000)))
				})
				did = append(did, "add SPN")
			case op == 3:
				fa.modify(live[pick()], func(a map[string][]string) { delete(a, "servicePrincipalName") })
				did = append(did, "strip SPNs")
			case op == 4:
				i := pick()
				rdn, _, _ := strings.Cut(live[i], ",")
				to := fmt.Sprintf("CN=ren%d-%d,CN=Users,%s", round, rng.IntN(1000), fakeDomainNC)
				switch rng.IntN(3) {
				case 0: // moved, same name
					to = rdn + ",OU=Moved," + fakeDomainNC
				case 1: // case only: the same place in the order
					to = strings.ToUpper(rdn) + live[i][len(rdn):]
				}
				if _, taken := fa.entries[strings.ToLower(to)]; taken {
					continue
				}
				fa.renameEntry(live[i], to)
				live[i] = to
				did = append(did, "rename")
			case op == 5 || op == 6:
				// Privilege through membership: no member's entry changes.
				dn := live[pick()]
				fa.modify(tier0, func(a map[string][]string) {
					if slices.Contains(a["member"], dn) {
						a["member"] = slices.DeleteFunc(slices.Clone(a["member"]), func(m string) bool { return m == dn })
					} else {
						a["member"] = append(slices.Clone(a["member"]), dn)
					}
				})
				did = append(did, "membership")
			case op == 7:
				fa.modify(live[pick()], func(a map[string][]string) { a["primaryGroupID"] = []string{"512"} })
				did = append(did, "primary group")
			case op == 8 && round%7 == 3:
				sc.memo = nil // as after a restart: the memo is built anew
				did = append(did, "no memo")
			}
		}
		from := prev
		if round%5 == 4 {
			// The watermark taken before changes that the last poll read:
			// they are read again, as they were.
			lowered := *prev
			lowered.Watermark.USN -= int64(1 + rng.IntN(8))
			from = &lowered
			did = append(did, "read again")
		}
		res := pollOK(t, sc, from)
		if res.Stats.Mode != inventory.IncrementalScan {
			t.Fatalf("round %d (%v): mode %s (%s)", round, did, res.Stats.Mode, res.Stats.FullReason)
		}
		checkChange(t, prev.Snapshot, res.Snapshot)
		if c := res.Snapshot.ChangeFrom(prev.Snapshot); len(c.Removed)+len(c.Added) == 0 && res.Snapshot.Objects[0] != prev.Snapshot.Objects[0] {
			t.Fatalf("round %d (%v): a poll that changed nothing copied the objects", round, did)
		}
		sameInventory(t, res.Snapshot, scanOK(t, oracle).Snapshot)
		checkMemo(t, sc, res.Snapshot.Objects)
		prev = res
	}
}

// TestPollChangeNamesPrivilege: a membership change that makes an account
// privileged, without its entry being read, is in the change, and a poll
// that changed nothing carries an empty change and shares the objects.
func TestPollChangeNamesPrivilege(t *testing.T) {
	fa := newFakeAD()
	svc := fa.account("svc", "user", "HTTP/svc")
	for i := range 20 {
		fa.account(fmt.Sprintf("bulk%02d", i), "user", fmt.Sprintf("HTTP/bulk%02d", i))
	}
	sc := newTestScanner(t, []string{"ldap://" + fa.serve(t, nil, false)}, nil)
	full := scanOK(t, sc)
	same := pollOK(t, sc, full)
	c := same.Snapshot.ChangeFrom(full.Snapshot)
	if c == nil || len(c.Removed) != 0 || len(c.Added) != 0 || same.Snapshot.Objects[0] != full.Snapshot.Objects[0] {
		t.Fatalf("a poll that changed nothing: change %+v, objects shared %v", c, same.Snapshot.Objects[0] == full.Snapshot.Objects[0])
	}
	fa.modify(fakeDomainAdmins, func(a map[string][]string) { a["member"] = []string{svc} })
	res := pollOK(t, sc, same)
	checkChange(t, same.Snapshot, res.Snapshot)
	at := slices.IndexFunc(res.Snapshot.Objects, func(o *inventory.Object) bool { return o.SAMAccountName == "svc" })
	was := slices.IndexFunc(same.Snapshot.Objects, func(o *inventory.Object) bool { return o.SAMAccountName == "svc" })
	if res.Snapshot.Objects[at].SPNs[0] != same.Snapshot.Objects[was].SPNs[0] {
		t.Fatal("svc's entry was read again; the test wants only its group changed")
	}
	c = res.Snapshot.ChangeFrom(same.Snapshot)
	if res.Snapshot.Objects[at].Privilege == nil || !slices.Equal(c.Added, []int32{int32(at)}) || len(c.Removed) != 1 {
		t.Fatalf("svc at %d privileged %v; change removed %v added %v", at, res.Snapshot.Objects[at].Privilege, c.Removed, c.Added)
	}
}

// TestFullScanCarriesNoChange: a poll that falls back to a full scan says
// nothing of how its snapshot relates to the previous one.
func TestFullScanCarriesNoChange(t *testing.T) {
	fa := newFakeAD()
	fa.account("svc", "user", "HTTP/svc")
	sc := newTestScanner(t, []string{"ldap://" + fa.serve(t, nil, false)}, nil)
	full := scanOK(t, sc)
	if full.Snapshot.ChangeFrom(full.Snapshot) != nil {
		t.Fatal("a full scan carries a change")
	}
	noWatermark := *full
	noWatermark.Watermark.USN = 0
	res := pollOK(t, sc, &noWatermark)
	if res.Stats.Mode != inventory.FullScan {
		t.Fatalf("mode %s, want a full scan", res.Stats.Mode)
	}
	if res.Snapshot.ChangeFrom(full.Snapshot) != nil {
		t.Fatal("a poll that fell back to a full scan carries a change")
	}
}

// TestApplyDuplicateKeys: objects that share a key (never seen from AD) are
// all replaced, as the walk replaces them; the memo does not place them.
func TestApplyDuplicateKeys(t *testing.T) {
	prev := []*inventory.Object{{GUID: testGUID(1), DN: "CN=a"}, {GUID: testGUID(1), DN: "CN=b"}, {GUID: testGUID(2), DN: "CN=c"}}
	memo := (&Scanner{}).memoFor(prev)
	if memo.dns != nil {
		t.Fatal("a memo of objects that share a key")
	}
	c := newChangeSet()
	read := inventory.Object{GUID: testGUID(1), DN: "CN=d", SPNs: []string{"HTTP/d"}}
	c.touched[objectKey(&read)] = struct{}{}
	c.updated = append(c.updated, new(read))
	m := c.apply(prev, memo.dns)
	if len(m.objects) != 2 || m.objects[0].DN != "CN=c" || m.objects[1].DN != "CN=d" || !slices.Equal(m.removed, []int32{0, 1}) {
		t.Fatalf("apply = %+v removed %v", m.objects, m.removed)
	}
}

// TestMemoWithoutGUIDs: objects without GUID (an LDIF export's) are keyed
// by DN; the memo, keyed by GUID, is not built for them (nor kept once
// one is added), and apply places their changes by walking prev.
func TestMemoWithoutGUIDs(t *testing.T) {
	prev := []*inventory.Object{{DN: "CN=a", SPNs: []string{"HTTP/a"}}, {GUID: testGUID(2), DN: "CN=c", SPNs: []string{"HTTP/c"}}}
	if memo := (&Scanner{}).memoFor(prev); memo.dns != nil {
		t.Fatalf("a memo of objects one of which has no GUID: %v", memo.dns)
	}
	c := newChangeSet()
	read := inventory.Object{DN: "CN=A", SPNs: []string{"HTTP/a", "HTTP/a2"}} // the same object, its DN's case changed
	c.touched[objectKey(&read)] = struct{}{}
	c.updated = append(c.updated, new(read))
	m := c.apply(prev, nil)
	if len(m.objects) != 2 || m.objects[0].DN != "CN=A" || len(m.objects[0].SPNs) != 2 || !slices.Equal(m.removed, []int32{0}) {
		t.Fatalf("apply = %+v removed %v", m.objects, m.removed)
	}

	// A memo of objects with GUIDs stops at the first object added without.
	withGUIDs := []*inventory.Object{prev[1]}
	memo := (&Scanner{}).memoFor(withGUIDs)
	if len(memo.dns) != 1 {
		t.Fatalf("memo %v, want c's GUID", memo.dns)
	}
	memo.advance(withGUIDs, prev, nil, []int32{0}, inventory.Membership{})
	if memo.dns != nil {
		t.Fatalf("the memo kept after an object without GUID was added: %v", memo.dns)
	}
}
