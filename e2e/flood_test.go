package e2e

import (
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/metrics"
	"github.com/spnaudit/spnaudit/web"
)

// floodGhosts is how many ghost SPNs the flood writes: five times the default
// metrics.max_finding_series.
const (
	floodGhosts      = 5000
	floodMaxSeries   = 1000 // config.Default's metrics.max_finding_series
	floodDomain      = "corp.example.test"
	floodDuplicate   = "HTTP/intranet." + floodDomain
	floodAliasTarget = "HTTP/web1." + floodDomain
)

// floodSnapshot is a directory where an account trusted for delegation holds
// floodGhosts SPNs naming hosts that do not exist (high ghost-spn findings,
// which sort before the medium host-alias conflict by severity), next to one
// real duplicate SPN and one real host-alias conflict.
func floodSnapshot() *inventory.Snapshot {
	dn := func(cn string) string { return "CN=" + cn + ",OU=Flood,DC=corp,DC=example,DC=test" }
	user := func(sam string, spns ...string) inventory.Object {
		return inventory.Object{DN: dn(sam), Domain: floodDomain, SAMAccountName: sam, Kind: inventory.KindUser,
			UserAccountControl: 0x200, PwdLastSet: time.Now().Add(-time.Hour), SPNs: spns}
	}
	ghosts := make([]string, floodGhosts)
	for i := range ghosts {
		ghosts[i] = fmt.Sprintf("HTTP/aaaa-gone%04d.%s", i, floodDomain)
	}
	flooder := user("aaa-flooder", ghosts...)
	flooder.UserAccountControl |= inventory.UACTrustedForDelegation
	web1 := inventory.Object{DN: dn("WEB1"), Domain: floodDomain, SAMAccountName: "WEB1$", Kind: inventory.KindComputer,
		UserAccountControl: inventory.UACWorkstationTrustAccount, DNSHostName: "web1." + floodDomain,
		SPNs: []string{"HOST/WEB1", "HOST/web1." + floodDomain}}
	return &inventory.Snapshot{
		Directory: inventory.Directory{ForestDNS: floodDomain, Domains: []string{floodDomain},
			NetBIOSDomains: map[string]string{floodDomain: "CORP"}, DNSNames: []string{"intranet." + floodDomain}},
		Objects: []*inventory.Object{
			new(flooder),
			new(user("svc-intranet", floodDuplicate)),
			new(user("svc-legacy", floodDuplicate)),
			new(user("svc-web", floodAliasTarget)),
			new(web1),
		},
		Server:  "dc1." + floodDomain,
		Started: time.Now(),
	}
}

// TestAlertsSurviveFindingFlood: 5,000 ghost SPNs written by whoever may
// write SPNs fill metrics.max_finding_series five times over, yet real
// Prometheus, evaluating the shipped alert rules, still fires DuplicateSPN and
// SPNHostAliasConflict with their spn labels (metrics keeps the paging rules'
// series first), and SPNAuditFindingSeriesTruncated says the rest is capped.
// Before the paging rules were kept first, the flood (high) pushed the host-
// alias conflict (medium) out of spnaudit_finding_info and its alert never
// fired.
func TestAlertsSurviveFindingFlood(t *testing.T) {
	skipShort(t)
	snap := floodSnapshot()
	res := audit.Run(snap, audit.Config{})
	counts := map[string]int{}
	for _, f := range res.Findings {
		counts[f.Rule]++
	}
	if counts[audit.RuleGhostSPN] < floodGhosts || counts[audit.RuleDuplicateSPN] != 1 || counts[audit.RuleHostAliasConflict] != 1 {
		t.Fatalf("the audit found %v; want %d ghost SPNs, 1 duplicate and 1 host-alias conflict", counts, floodGhosts)
	}

	store := metrics.NewStore(metrics.Options{Rules: audit.RuleIDs, Stages: []string{"search"}, MaxFindingSeries: floodMaxSeries})
	store.ScanSucceeded(inventory.FullScan, snap, res)
	srv := httptest.NewServer(web.NewHandler(store, metrics.NewRegistry(store), slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	stack := startAlertStack(t, strings.TrimPrefix(srv.URL, "http://"))

	if n := stack.query(t, `spnaudit_finding_series_truncated == 1`); n != 1 {
		t.Fatalf("spnaudit_finding_series_truncated: %d series at 1, want 1 (the flood must overflow the cap)", n)
	}
	if n := stack.query(t, `spnaudit_finding_info`); n != floodMaxSeries {
		t.Errorf("Prometheus holds %d spnaudit_finding_info series, want the cap, %d", n, floodMaxSeries)
	}
	for _, c := range []struct{ alert, spn string }{
		{"DuplicateSPN", floodDuplicate},
		{"SPNHostAliasConflict", floodAliasTarget},
		{"SPNAuditFindingSeriesTruncated", ""},
	} {
		waited := waitUntil(t, alertWait, c.alert+" for "+c.spn+" firing at the webhook", func() bool {
			return len(stack.webhook.received(c.alert, c.spn, "firing")) > 0
		})
		t.Logf("%s %s: firing after %v", c.alert, c.spn, waited.Round(time.Millisecond))
	}
}
