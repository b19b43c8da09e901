package web

import (
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/metrics"
)

// largeResult is a scan with many findings, in the audit's order (most
// severe first, then by rule): highs of duplicate-spn and host-alias-conflict,
// then mediums of host-alias-conflict and kerberoastable-account.
func largeResult(c *clock, highs, hostAliasMediums, kerberoastable int) scanResult {
	res := farmResult(inventory.FullScan, c.Now())
	res.Findings = nil
	add := func(rule string, sev audit.Severity, n int) {
		for i := range n {
			spn := fmt.Sprintf("HTTP/%s-%s-%05d", rule, sev, i)
			res.Findings = append(res.Findings, audit.Finding{
				Rule: rule, Severity: sev, SPN: spn, Accounts: []string{dnPool},
				Message: spn + " is a problem.", Remediation: []string{"setspn -D " + spn + ` CORP\svc-iis`},
			})
		}
	}
	add("duplicate-spn", audit.SeverityHigh, 3)
	add("host-alias-conflict", audit.SeverityHigh, highs)
	add("host-alias-conflict", audit.SeverityMedium, hostAliasMediums)
	add("kerberoastable-account", audit.SeverityMedium, kerberoastable)
	return res
}

// TestLandingCapsRowsPerRule: a large directory's findings would make a page
// of many megabytes; each rule shows its most severe rows, says how many more
// there are and where, and every count stays exact.
func TestLandingCapsRowsPerRule(t *testing.T) {
	c := newClock()
	s := newTestStore(c, 1000)
	succeed(s, largeResult(c, 20, 4980, maxRowsPerRule))
	_, body := serve(t, newTestHandler(s), "GET", "/")

	if !strings.Contains(body, `<h2 id="findings">Findings (5053, 2 suppressed`) {
		t.Errorf("total count is not exact:\n%.2000s", body)
	}
	tables := regexp.MustCompile(`(?s)<table class="findings" data-rule="([^"]+)">(.*?)</table>\s*(<p class="more">.*?</p>)?`).FindAllStringSubmatch(body, -1)
	for _, tc := range []struct {
		rule    string
		heading string
		rows    int
		more    string // "" when every row is shown
		first   string // the first row's SPN
	}{
		{"duplicate-spn", "duplicate-spn (3)", 3, "", "HTTP/duplicate-spn-high-00000"},
		{"host-alias-conflict", "host-alias-conflict (5000)", maxRowsPerRule, "4950 more", "HTTP/host-alias-conflict-high-00000"},
		{"kerberoastable-account", "kerberoastable-account (50)", maxRowsPerRule, "", "HTTP/kerberoastable-account-medium-00000"},
	} {
		if !strings.Contains(body, tc.heading+"</h3>") {
			t.Errorf("no heading %q with the exact count", tc.heading)
		}
		var table []string
		for _, m := range tables {
			if m[1] == tc.rule {
				table = m
			}
		}
		if table == nil {
			t.Errorf("no table for %s", tc.rule)
			continue
		}
		if got := strings.Count(table[2], `<tbody class="finding"`); got != tc.rows {
			t.Errorf("%s shows %d rows, want %d", tc.rule, got, tc.rows)
		}
		if i := strings.Index(table[2], `<code class="spn">`); i < 0 || !strings.HasPrefix(table[2][i+len(`<code class="spn">`):], tc.first+"<") {
			t.Errorf("%s does not start with %s", tc.rule, tc.first)
		}
		switch {
		case tc.more == "" && table[3] != "":
			t.Errorf("%s says %q although every row is shown", tc.rule, table[3])
		case tc.more != "" && (!strings.Contains(table[3], tc.more) || !strings.Contains(table[3], `href="/api/v1/findings"`)):
			t.Errorf("%s: after the table %q, want %q and a link to /api/v1/findings", tc.rule, table[3], tc.more)
		}
	}
	// Most severe first: the 20 highs are all shown, before any medium.
	hac := regexp.MustCompile(`HTTP/host-alias-conflict-(high|medium)-\d+<`).FindAllStringSubmatch(body, -1)
	for i, m := range hac {
		if want := map[bool]string{true: "high", false: "medium"}[i < 20]; m[1] != want {
			t.Fatalf("row %d of host-alias-conflict is %s, want %s", i, m[1], want)
		}
	}
	if len(body) > 256<<10 {
		t.Errorf("page is %d bytes for 5,053 findings", len(body))
	}
}

// BenchmarkLandingPage renders the page of a scan with OU=Bulk's number of
// findings (about 45,000: two per bulk account).
func BenchmarkLandingPage(b *testing.B) {
	c := newClock()
	s := newTestStore(c, 1000)
	succeed(s, largeResult(c, 2000, 20000, 23000))
	h := newTestHandler(s)
	var size int
	for b.Loop() {
		_, body := serve(b, h, "GET", "/")
		size = len(body)
	}
	b.ReportMetric(float64(size), "bytes/page")
}

// BenchmarkLandingPageFiltered renders the same page narrowed by an SPN
// filter, grouped by account, and with a farm drawn.
func BenchmarkLandingPageFiltered(b *testing.B) {
	c := newClock()
	s := newTestStore(c, 1000)
	succeed(s, largeResult(c, 2000, 20000, 23000))
	h := NewHandlerWith(s, metrics.NewRegistry(s), slog.New(slog.DiscardHandler), Options{Farms: []audit.Farm{{
		Name: "intranet", VIP: "svnlb301", DNSSuffix: "corp.example.test", Classes: []string{"HTTP"},
		Nodes: []string{"svexpgg310", "svexpgg311", "svexpgg312"}, Account: `CORP\svc-iis`,
	}}})
	for _, q := range []string{"/?spn=medium-0499", "/?view=account", "/?account=svc-iis&severity=medium"} {
		b.Run(q, func(b *testing.B) {
			for b.Loop() {
				serve(b, h, "GET", q)
			}
		})
	}
}
