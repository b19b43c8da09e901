package metrics

import (
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/report"
)

// TestRepublishedViewEqualsRebuilt checks that a scan whose objects,
// directory and audit are those of the published one (a poll that changed
// nothing, whose audit the daemon reused) reuses the published view with
// the new scan's times, and that the view is exactly what building it
// afresh gives (so /metrics, the API and the page cannot tell); and that
// any other scan rebuilds it (issue 9: rebuilding costs 130 ms at 100,000
// objects, for nothing when nothing changed).
func TestRepublishedViewEqualsRebuilt(t *testing.T) {
	cases := []struct {
		name   string
		change func(next *scanResult)
		reused bool
	}{
		{"same objects and audit, new times", func(*scanResult) {}, true},
		{"full scan of the same", func(n *scanResult) { n.Mode = inventory.FullScan }, true},
		{"objects read again", func(n *scanResult) { n.Snapshot.Objects = slices.Clone(n.Snapshot.Objects) }, false},
		{"one object fewer", func(n *scanResult) { n.Snapshot.Objects = n.Snapshot.Objects[1:] }, false},
		{"audit run again", func(n *scanResult) { n.Result.Findings = slices.Clone(n.Result.Findings) }, false},
		{"one finding fewer", func(n *scanResult) { n.Result.Findings = n.Result.Findings[:len(n.Result.Findings)-1] }, false},
		{"more suppressed", func(n *scanResult) {
			n.Result.Suppressed = append(slices.Clone(n.Result.Suppressed), audit.SuppressedFinding{})
		}, false},
		{"no expired suppression", func(n *scanResult) { n.Result.ExpiredSuppressions = nil }, false},
		{"NetBIOS names changed", func(n *scanResult) {
			n.Snapshot.Directory.NetBIOSDomains = map[string]string{"corp.example.test": "OTHER"}
		}, false},
		{"domains changed", func(n *scanResult) {
			n.Snapshot.Directory.Domains = append(slices.Clone(n.Snapshot.Directory.Domains), "new.example.test")
		}, false},
		{"naming contexts changed", func(n *scanResult) {
			n.Snapshot.NamingContexts = append(slices.Clone(n.Snapshot.NamingContexts), "DC=new,DC=example,DC=test")
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := newClock()
			s := newTestStore(clk, 1000)
			first := farmResult(inventory.IncrementalScan, clk.Now())
			succeed(s, first)
			before := s.load().snapshot

			clk.Advance(time.Minute)
			snap := *first.Snapshot // the poll's new snapshot of the same objects
			snap.Started, snap.Duration = clk.Now(), 3*time.Second
			next := scanResult{Mode: inventory.IncrementalScan, Snapshot: &snap, Result: first.Result}
			c.change(&next)
			succeed(s, next)
			got := s.load().snapshot

			want := newSnapshotView(next.Snapshot, next.Result, clk.Now(), 1000, s.order)
			if err := sameViews(got, want, 1000); err != nil {
				t.Errorf("published view differs from one built afresh: %v", err)
			}
			if got.document.Scan.Started != clk.Now() || got.document.Scan.DurationSeconds != 3 {
				t.Errorf("scan times %v, %vs; want the new scan's", got.document.Scan.Started, got.document.Scan.DurationSeconds)
			}
			// The info series are shared only by a republished view (an
			// updated one, viewupdate.go, may share the account names too).
			shared := len(got.info) > 0 && &got.info[0] == &before.info[0]
			if shared != c.reused {
				t.Errorf("view reused = %v, want %v", shared, c.reused)
			}
			if before.document.Scan.Started == got.document.Scan.Started {
				t.Error("the earlier published document was modified")
			}
			if n := s.load().scans[next.Mode]; n == 0 || (next.Mode == first.Mode && n != 2) {
				t.Errorf("scans counted: %v", maps.Clone(s.load().scans))
			}
		})
	}
}

// TestDocumentOfSharesNormalizedFindings checks that the published document
// is report.NewDocument's, and that it shares the audit's findings only when
// they need no nil list replaced (audit.Run's never do).
func TestDocumentOfSharesNormalizedFindings(t *testing.T) {
	snap := farmSnapshot(newClock().Now())
	normalized := []audit.Finding{{Rule: "r", Accounts: []string{"a"}, Remediation: []string{}, References: []string{}}}
	cases := []struct {
		name     string
		findings []audit.Finding
		shared   bool
	}{
		{"none", nil, false},
		{"normalized", normalized, true},
		{"nil lists", farmFindings(), false},
		{"one nil list", []audit.Finding{normalized[0], {Rule: "r", Accounts: []string{"b"}, References: []string{}}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := audit.Result{Findings: c.findings, Suppressed: make([]audit.SuppressedFinding, 2)}
			got := documentOf(snap, res)
			if want := report.NewDocument(snap, c.findings, 2); !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v, want %+v", got, want)
			}
			if shared := len(c.findings) > 0 && &got.Findings[0] == &c.findings[0]; shared != c.shared {
				t.Errorf("shared = %v, want %v", shared, c.shared)
			}
		})
	}
}
