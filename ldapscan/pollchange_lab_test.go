package ldapscan

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/internal/labtest"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/lab"
)

// TestLabPollChangePositions changes objects of its own OUs on the lab DC
// between polls (an SPN added to an account, an account created, then
// deleted) and checks each poll's change (inventory.Change): exact and
// minimal over the whole snapshot (checkChange; other tests may change the
// lab meanwhile), and naming exactly the scenario's objects that changed.
func TestLabPollChangePositions(t *testing.T) {
	kept := &lab.Scenario{Name: "ldapscan-change", OU: "LdapscanChange",
		Users: []lab.User{
			{Name: "chg_a", SPNs: []string{"HTTP/chg-a.corp.example.test"}},
			{Name: "chg_b", SPNs: []string{"HTTP/chg-b.corp.example.test"}},
		}}
	added := &lab.Scenario{Name: "ldapscan-change-added", OU: "LdapscanChangeAdded",
		Users: []lab.User{{Name: "chg_new", SPNs: []string{"HTTP/chg-new.corp.example.test"}}}}
	l := labtest.Scenario(t, kept)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	reset := func() error { return l.Locked(func() error { return l.Reset(ctx, added) }) }
	if err := reset(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reset() })
	scanner := labScanner(t, l, lab.LDAPURL(), SASLSeal, false)
	prev, err := scanner.Scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ours := func(dn string) bool {
		dn = strings.ToLower(dn)
		return strings.HasSuffix(dn, ","+strings.ToLower(kept.OUDN())) || strings.HasSuffix(dn, ","+strings.ToLower(added.OUDN()))
	}
	chgA, chgNew := strings.ToLower(kept.AccountDN("chg_a")), strings.ToLower(added.AccountDN("chg_new"))
	steps := []struct {
		name                   string
		change                 func() error
		wantRemoved, wantAdded []string // the scenarios' objects, lower-case DNs
	}{
		{"nothing", func() error { return nil }, nil, nil},
		{"SPN added", func() error { return l.AddSPN(ctx, kept.AccountDN("chg_a"), "HTTP/chg-a2.corp.example.test") },
			[]string{chgA}, []string{chgA}},
		{"object created", func() error { return l.Locked(func() error { return l.Apply(ctx, added) }) }, nil, []string{chgNew}},
		{"object deleted", reset, []string{chgNew}, nil},
	}
	for _, step := range steps {
		var before inventory.Membership
		if scanner.memo != nil {
			before = scanner.memo.membership
		}
		res := pollAfter(ctx, t, scanner, prev, step.name, step.change)
		checkChange(t, prev.Snapshot, res.Snapshot)
		c := res.Snapshot.ChangeFrom(prev.Snapshot)
		var removed, addedDNs []string
		for _, r := range c.Removed {
			if dn := prev.Snapshot.Objects[r].DN; ours(dn) {
				removed = append(removed, strings.ToLower(dn))
			}
		}
		for _, a := range c.Added {
			if dn := res.Snapshot.Objects[a].DN; ours(dn) {
				addedDNs = append(addedDNs, strings.ToLower(dn))
			}
		}
		if !slices.Equal(removed, step.wantRemoved) || !slices.Equal(addedDNs, step.wantAdded) {
			t.Fatalf("%s: the change removed %q and added %q of the scenario's objects; want %q and %q",
				step.name, removed, addedDNs, step.wantRemoved, step.wantAdded)
		}
		// Informational: whether the DC gave the membership as before (the
		// privilege step then sets only the objects read).
		t.Logf("%s: poll fetched %d; change: %d removed, %d added of %d objects; membership as before: %v", step.name, res.Stats.Entries,
			len(c.Removed), len(c.Added), len(res.Snapshot.Objects), inventory.SameMembership(before, scanner.memo.membership))
		prev = res
	}
}
