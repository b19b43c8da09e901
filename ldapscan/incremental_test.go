package ldapscan

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

func pollOK(t testing.TB, sc *Scanner, prev *Result) *Result {
	t.Helper()
	res, err := sc.Poll(context.Background(), prev)
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	return res
}

// comparable strips what legitimately differs between a poll and a full
// scan of the same directory: timing and the scan mode.
func sameInventory(t testing.TB, got, want *inventory.Snapshot) {
	t.Helper()
	g, w := exportedOf(*got), exportedOf(*want)
	g.Started, g.Duration, w.Duration = w.Started, 0, 0
	if !reflect.DeepEqual(g, w) {
		gj, _ := json.MarshalIndent(g, "", " ")
		wj, _ := json.MarshalIndent(w, "", " ")
		t.Fatalf("poll result differs from a full scan:\n got %s\nwant %s", gj, wj)
	}
}

// exportedOf is s without its unexported fields (the change a poll
// records, which a full scan has not).
func exportedOf(s inventory.Snapshot) inventory.Snapshot {
	var out inventory.Snapshot
	src, dst := reflect.ValueOf(s), reflect.ValueOf(&out).Elem()
	for i := range dst.NumField() {
		if dst.Field(i).CanSet() {
			dst.Field(i).Set(src.Field(i))
		}
	}
	return out
}

func spnsOf(snap *inventory.Snapshot) map[string][]string {
	out := map[string][]string{}
	for _, o := range snap.Objects {
		out[o.SAMAccountName] = o.SPNs
	}
	return out
}

func TestPollAppliesChanges(t *testing.T) {
	tests := []struct {
		name        string
		change      func(s pollSetup)
		wantFetched int // with readable tombstones
		deletions   int // tombstones among them, not fetched when hidden
		wantRemoved int
		// unexplained: some USN of the window belongs to no visible object,
		// so with hidden tombstones the poll must list GUIDs.
		unexplained bool
		wantSPNs    map[string][]string
	}{
		{"no change", func(pollSetup) {}, 0, 0, 0, false,
			map[string][]string{"keep": {"HTTP/keep"}, "edit": {"HTTP/edit"}, "strip": {"HTTP/strip"}, "gone": {"HTTP/gone"}}},
		{"SPN added to an account without SPNs", func(s pollSetup) {
			s.fa.modify(s.plain, func(a map[string][]string) { a["servicePrincipalName"] = []string{"HTTP/new"} })
		}, 1, 0, 0, false, map[string][]string{"keep": {"HTTP/keep"}, "edit": {"HTTP/edit"}, "strip": {"HTTP/strip"}, "gone": {"HTTP/gone"}, "plain": {"HTTP/new"}}},
		{"new account", func(s pollSetup) { s.fa.account("fresh", "computer", "HOST/fresh") }, 1, 0, 0, false,
			map[string][]string{"keep": {"HTTP/keep"}, "edit": {"HTTP/edit"}, "strip": {"HTTP/strip"}, "gone": {"HTTP/gone"}, "fresh": {"HOST/fresh"}}},
		{"SPN modified", func(s pollSetup) {
			s.fa.modify(s.edit, func(a map[string][]string) {
				a["servicePrincipalName"] = []string{"HTTP/edit", "HTTP/edit.corp.example.test"}
			})
		}, 1, 0, 0, false, map[string][]string{"keep": {"HTTP/keep"}, "edit": {"HTTP/edit", "HTTP/edit.corp.example.test"}, "strip": {"HTTP/strip"}, "gone": {"HTTP/gone"}}},
		{"last SPN removed", func(s pollSetup) {
			s.fa.modify(s.strip, func(a map[string][]string) { delete(a, "servicePrincipalName") })
		}, 1, 0, 1, false, map[string][]string{"keep": {"HTTP/keep"}, "edit": {"HTTP/edit"}, "gone": {"HTTP/gone"}}},
		{"object deleted", func(s pollSetup) { s.fa.remove(s.gone) }, 1, 1, 1, true,
			map[string][]string{"keep": {"HTTP/keep"}, "edit": {"HTTP/edit"}, "strip": {"HTTP/strip"}}},
		{"unrelated change elsewhere", func(s pollSetup) {
			s.fa.modify(s.plain, func(a map[string][]string) { a["description"] = []string{"touched"} })
		}, 1, 0, 0, false, map[string][]string{"keep": {"HTTP/keep"}, "edit": {"HTTP/edit"}, "strip": {"HTTP/strip"}, "gone": {"HTTP/gone"}}},
		{"changed twice", func(s pollSetup) {
			s.fa.modify(s.edit, func(a map[string][]string) { a["servicePrincipalName"] = []string{"HTTP/edit1"} })
			s.fa.modify(s.edit, func(a map[string][]string) { a["servicePrincipalName"] = []string{"HTTP/edit2"} })
		}, 1, 0, 0, true, map[string][]string{"keep": {"HTTP/keep"}, "edit": {"HTTP/edit2"}, "strip": {"HTTP/strip"}, "gone": {"HTTP/gone"}}},
		{"write in the configuration partition", func(s pollSetup) {
			s.fa.put("CN=NewSite,CN=Partitions,"+s.fa.configNC, map[string][]string{"objectClass": {"site"}})
		}, 0, 0, 0, false, map[string][]string{"keep": {"HTTP/keep"}, "edit": {"HTTP/edit"}, "strip": {"HTTP/strip"}, "gone": {"HTTP/gone"}}},
		{"everything at once", func(s pollSetup) {
			s.fa.modify(s.edit, func(a map[string][]string) { a["servicePrincipalName"] = []string{"HTTP/edited"} })
			s.fa.modify(s.strip, func(a map[string][]string) { delete(a, "servicePrincipalName") })
			s.fa.remove(s.gone)
			s.fa.account("fresh", "user", "HTTP/fresh")
		}, 4, 1, 2, true, map[string][]string{"keep": {"HTTP/keep"}, "edit": {"HTTP/edited"}, "fresh": {"HTTP/fresh"}}},
	}
	for _, tc := range tests {
		for _, hidden := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/tombstones hidden=%v", tc.name, hidden), func(t *testing.T) {
				fetched := tc.wantFetched
				if hidden {
					fetched -= tc.deletions
				}
				pollAppliesChange(t, hidden, tc.change, fetched, tc.wantRemoved, hidden && tc.unexplained, tc.wantSPNs)
			})
		}
	}
}

type pollSetup struct {
	fa                      *fakeAD
	keep, edit, strip, gone string
	plain                   string // an account without SPNs
}

func pollAppliesChange(t *testing.T, hideTombstones bool, change func(pollSetup), wantFetched, wantRemoved int, wantListing bool, wantSPNs map[string][]string) {
	fa := newFakeAD()
	fa.hideTombstones = hideTombstones
	s := pollSetup{fa: fa,
		keep: fa.account("keep", "user", "HTTP/keep"), edit: fa.account("edit", "user", "HTTP/edit"),
		strip: fa.account("strip", "user", "HTTP/strip"), gone: fa.account("gone", "user", "HTTP/gone"),
		plain: fa.account("plain", "user"),
	}
	for i := range 250 { // several pages of unchanged objects
		fa.account(fmt.Sprintf("bulk%03d", i), "computer", fmt.Sprintf("HOST/bulk%03d", i))
	}
	sc := newTestScanner(t, []string{"ldap://" + fa.serve(t, nil, false)}, nil)
	full := scanOK(t, sc)
	frozen, _ := json.Marshal(full.Snapshot)

	change(s)
	res := pollOK(t, sc, full)

	if res.Stats.Mode != inventory.IncrementalScan {
		t.Fatalf("mode = %s (%s), want incremental", res.Stats.Mode, res.Stats.FullReason)
	}
	if full.Watermark.TombstonesReadable == hideTombstones {
		t.Fatalf("tombstones readable = %v with hidden = %v", full.Watermark.TombstonesReadable, hideTombstones)
	}
	if res.Stats.Entries != wantFetched || res.Stats.Removed != wantRemoved {
		t.Errorf("fetched %d removed %d, want %d and %d", res.Stats.Entries, res.Stats.Removed, wantFetched, wantRemoved)
	}
	if listed := res.Stats.Listed; wantListing != (listed > 0) {
		t.Errorf("listed %d GUIDs, want a listing: %v", listed, wantListing)
	}
	got := spnsOf(res.Snapshot)
	for i := range 250 {
		delete(got, fmt.Sprintf("bulk%03d", i))
	}
	if !reflect.DeepEqual(got, wantSPNs) {
		t.Errorf("SPNs after poll = %v, want %v", got, wantSPNs)
	}
	if after, _ := json.Marshal(full.Snapshot); string(after) != string(frozen) {
		t.Fatal("the poll modified the previous snapshot")
	}
	if res.Watermark.USN != fa.usn {
		t.Errorf("watermark USN = %d, want %d", res.Watermark.USN, fa.usn)
	}
	sameInventory(t, res.Snapshot, scanOK(t, sc).Snapshot)
}

func TestPollChainsWatermarks(t *testing.T) {
	fa := newFakeAD()
	a := fa.account("a", "user", "HTTP/a")
	sc := newTestScanner(t, []string{"ldap://" + fa.serve(t, nil, false)}, nil)
	res := scanOK(t, sc)
	for i := range 3 {
		fa.modify(a, func(attrs map[string][]string) { attrs["servicePrincipalName"] = []string{fmt.Sprintf("HTTP/a%d", i)} })
		res = pollOK(t, sc, res)
		if res.Stats.Entries != 1 || !slices.Equal(spnsOf(res.Snapshot)["a"], []string{fmt.Sprintf("HTTP/a%d", i)}) {
			t.Fatalf("poll %d: fetched %d, SPNs %v", i, res.Stats.Entries, spnsOf(res.Snapshot)["a"])
		}
	}
	if res = pollOK(t, sc, res); res.Stats.Entries != 0 {
		t.Fatalf("quiet poll fetched %d objects", res.Stats.Entries)
	}
}

func TestPollFallsBackToFullScan(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(fa *fakeAD, prev *Result) *Result
	}{
		{"no previous result", func(*fakeAD, *Result) *Result { return nil }},
		{"database restored (invocationId changed)", func(fa *fakeAD, prev *Result) *Result {
			fa.modify(fa.dsService, func(a map[string][]string) { a["invocationId"] = []string{string(randomGUID())} })
			return prev
		}},
		{"USN went backwards", func(fa *fakeAD, prev *Result) *Result {
			p := *prev
			p.Watermark.USN = fa.usn + 1000
			return &p
		}},
		{"another DC answers", func(fa *fakeAD, prev *Result) *Result {
			p := *prev
			p.Watermark.Server = "ldap://dc2.corp.example.test"
			return &p
		}},
		{"naming contexts changed", func(fa *fakeAD, prev *Result) *Result {
			fa.addDomain("child.corp.example.test", "CHILD", "DC=child,"+fakeDomainNC)
			return prev
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fa := newFakeAD()
			fa.account("a", "user", "HTTP/a")
			gc := newFakeAD()
			gc.domainNC = "DC=child," + fakeDomainNC
			gc.put(gc.domainNC, map[string][]string{"objectClass": {"domain"}})
			gcAddr := gc.serve(t, nil, false)
			sc := newTestScanner(t, []string{"ldap://" + fa.serve(t, nil, false)}, nil)
			sc.globalCatalog = func(endpoint) endpoint { ep, _ := parseEndpoint("ldap://" + gcAddr); return ep }
			prev := tc.break_(fa, scanOK(t, sc))
			res := pollOK(t, sc, prev)
			if res.Stats.Mode != inventory.FullScan || res.Stats.FullReason == "" {
				t.Fatalf("mode %s reason %q, want a full scan with a reason", res.Stats.Mode, res.Stats.FullReason)
			}
			if len(res.Snapshot.Objects) != 1 {
				t.Fatalf("objects = %d, want 1", len(res.Snapshot.Objects))
			}
		})
	}
}

// TestEmptyListingNeverDeletes: a poll that must list the objects' GUIDs to
// find deletions (tombstones not readable, a USN unexplained) and gets an
// empty listing where the last scan held objects does not mark them
// deleted: it runs a full scan, which reads the objects themselves.
func TestEmptyListingNeverDeletes(t *testing.T) {
	fa := newFakeAD()
	fa.hideTombstones = true
	for i := range 5 {
		fa.account(fmt.Sprintf("svc%d", i), "user", fmt.Sprintf("HTTP/app%d", i))
	}
	gone := fa.account("gone", "user", "HTTP/gone")
	sc := newTestScanner(t, []string{"ldap://" + fa.serve(t, nil, false)}, nil)
	prev := scanOK(t, sc)
	if prev.Watermark.TombstonesReadable || len(prev.Snapshot.Objects) != 6 {
		t.Fatalf("setup: tombstones readable %v, objects %d", prev.Watermark.TombstonesReadable, len(prev.Snapshot.Objects))
	}
	fa.remove(gone) // an unexplained USN: the poll must list GUIDs
	fa.mu.Lock()
	fa.emptyListing = true
	fa.mu.Unlock()

	res := pollOK(t, sc, prev)
	if res.Stats.Mode != inventory.FullScan || !strings.Contains(res.Stats.FullReason, "returned none") {
		t.Fatalf("mode %s reason %q, want a full scan because the listing was empty", res.Stats.Mode, res.Stats.FullReason)
	}
	if len(res.Snapshot.Objects) != 5 {
		t.Fatalf("objects after the poll = %d, want 5 (one deleted, none lost to the empty listing)", len(res.Snapshot.Objects))
	}
}

// TestShortListingNeverDeletes: a GUID listing that lacks more objects than
// the poll has unexplained USNs (each deletion uses one) lost objects that
// still exist; the poll runs a full scan instead of deleting them. A
// listing short of exactly the deleted objects is trusted.
func TestShortListingNeverDeletes(t *testing.T) {
	for _, tc := range []struct {
		name        string
		deleted     int
		skips       int // objects the listing leaves out besides the deleted ones
		wantFull    bool
		wantObjects int
		wantRemoved int
	}{
		{"exact listing", 2, 0, false, 8, 2},
		{"listing short of 3 live objects", 2, 3, true, 8, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fa := newFakeAD()
			fa.hideTombstones = true
			var dns []string
			for i := range 10 {
				dns = append(dns, fa.account(fmt.Sprintf("svc%d", i), "user", fmt.Sprintf("HTTP/app%d", i)))
			}
			sc := newTestScanner(t, []string{"ldap://" + fa.serve(t, nil, false)}, nil)
			prev := scanOK(t, sc)
			for _, dn := range dns[len(dns)-tc.deleted:] {
				fa.remove(dn)
			}
			fa.mu.Lock()
			fa.listingSkips = tc.skips
			fa.mu.Unlock()

			res := pollOK(t, sc, prev)
			if full := res.Stats.Mode == inventory.FullScan; full != tc.wantFull {
				t.Fatalf("mode %s (%s), want a full scan: %v", res.Stats.Mode, res.Stats.FullReason, tc.wantFull)
			}
			if tc.wantFull && !strings.Contains(res.Stats.FullReason, "GUID listing lacks 5 objects of the last scan but only 2 changes") {
				t.Errorf("reason %q", res.Stats.FullReason)
			}
			if len(res.Snapshot.Objects) != tc.wantObjects || res.Stats.Removed != tc.wantRemoved {
				t.Fatalf("objects %d removed %d, want %d and %d", len(res.Snapshot.Objects), res.Stats.Removed, tc.wantObjects, tc.wantRemoved)
			}
		})
	}
}

// TestPollAfterFailover: the primary goes down between polls; the poll
// reconnects to the second URL and, the DC having changed, scans in full.
func TestPollAfterFailover(t *testing.T) {
	fa := newFakeAD()
	fa.account("a", "user", "HTTP/a")
	p := newProxy(t, fa.serve(t, nil, false))
	second := "ldap://" + fa.serve(t, nil, false)
	primary := "ldap://" + p.addr
	sc := newTestScanner(t, []string{primary, second}, nil)
	res := scanOK(t, sc)
	if res.Stats.Server != primary {
		t.Fatalf("first scan read %s", res.Stats.Server)
	}
	p.refuse()
	res = pollOK(t, sc, res)
	if res.Stats.Mode != inventory.FullScan || res.Stats.Server != second {
		t.Fatalf("after failover: mode %s server %s reason %q", res.Stats.Mode, res.Stats.Server, res.Stats.FullReason)
	}
	if res = pollOK(t, sc, res); res.Stats.Mode != inventory.IncrementalScan || res.Stats.Server != second {
		t.Fatalf("next poll: mode %s server %s", res.Stats.Mode, res.Stats.Server)
	}
}
