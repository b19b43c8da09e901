package metrics

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/inventory"
)

// TestSnapshotObjectsPerNamingContext: spnaudit_snapshot_objects has one
// series per naming context the last good snapshot read, 0 for one that
// holds no object, so a naming context read short or empty is visible
// (SPNAuditSnapshotObjectsDropped) instead of silently missing.
func TestSnapshotObjectsPerNamingContext(t *testing.T) {
	const root, child = "DC=corp,DC=example,DC=test", "DC=child,DC=corp,DC=example,DC=test"
	snapshot := func(rootObjects, childObjects int) *inventory.Snapshot {
		s := &inventory.Snapshot{NamingContexts: []string{root, child}, Duration: time.Second}
		for i := range rootObjects {
			s.Objects = append(s.Objects, new(inventory.Object{DN: fmt.Sprintf("CN=r%d,CN=Users,%s", i, root), Kind: inventory.KindUser, SPNs: []string{"HTTP/r"}}))
		}
		for i := range childObjects {
			s.Objects = append(s.Objects, new(inventory.Object{DN: fmt.Sprintf("CN=c%d,CN=Users,%s", i, child), Kind: inventory.KindUser, SPNs: []string{"HTTP/c"}}))
		}
		return s
	}
	series := func(s *Store) string {
		var out []string
		for line := range strings.Lines(string(exposition(t, s))) {
			if strings.HasPrefix(line, "spnaudit_snapshot_objects{") {
				out = append(out, strings.TrimSpace(line))
			}
		}
		return strings.Join(out, "\n")
	}
	c := newClock()
	s := newTestStore(c, 10)
	if got := series(s); got != "" {
		t.Fatalf("before any scan: %s, want no series", got)
	}
	succeed(s, scanResult{Mode: inventory.FullScan, Snapshot: snapshot(3, 2)})
	want := `spnaudit_snapshot_objects{naming_context="` + child + `"} 2` + "\n" +
		`spnaudit_snapshot_objects{naming_context="` + root + `"} 3`
	if got := series(s); got != want {
		t.Fatalf("after a full scan:\n%s\nwant\n%s", got, want)
	}
	// The child domain comes back empty: its series says 0.
	succeed(s, scanResult{Mode: inventory.IncrementalScan, Snapshot: snapshot(3, 0)})
	want = `spnaudit_snapshot_objects{naming_context="` + child + `"} 0` + "\n" +
		`spnaudit_snapshot_objects{naming_context="` + root + `"} 3`
	if got := series(s); got != want {
		t.Fatalf("after the child domain emptied:\n%s\nwant\n%s", got, want)
	}
	// A failed scan keeps the last good snapshot's counts.
	s.ScanFailed(inventory.IncrementalScan, "referral", errSearch)
	if got := series(s); got != want {
		t.Fatalf("after a failed scan:\n%s\nwant\n%s", got, want)
	}
}
