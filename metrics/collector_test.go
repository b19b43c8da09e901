package metrics

import (
	"bytes"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/internal/golden"
	"github.com/spnaudit/spnaudit/internal/promtooltest"
	"github.com/spnaudit/spnaudit/inventory"
)

// scenarios are Store histories whose exposition is pinned in testdata/.
var scenarios = []struct {
	golden string
	run    func(s *Store, c *clock)
}{
	{"no_scan.prom", func(s *Store, c *clock) {}},
	{"farm.prom", func(s *Store, c *clock) {
		s.SetLDAPUp("ldap://dc1.corp.example.test", true)
		s.SetLDAPUp("ldap://dc2.corp.example.test", false)
		s.SetTGTExpiry(c.Now().Add(10 * time.Hour))
		succeed(s, farmResult(inventory.FullScan, c.Now()))
		c.Advance(15 * time.Second)
		succeed(s, farmResult(inventory.IncrementalScan, c.Now()))
	}},
	// A failure after a success keeps the last good snapshot's series.
	{"failed_after_success.prom", func(s *Store, c *clock) {
		s.SetLDAPUp("ldap://dc1.corp.example.test", true)
		succeed(s, farmResult(inventory.FullScan, c.Now()))
		c.Advance(15 * time.Second)
		s.SetLDAPUp("ldap://dc1.corp.example.test", false)
		s.ScanFailed(inventory.IncrementalScan, "search", errSearch)
		s.ScanFailed(inventory.IncrementalScan, "no-such-stage", errSearch)
	}},
}

func exposition(t *testing.T, s *Store) []byte {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(newCollector(s))
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestCollectorGolden(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.golden, func(t *testing.T) {
			c := newClock()
			s := newTestStore(c, 1000)
			sc.run(s, c)
			golden.Compare(t, filepath.Join("testdata", sc.golden), exposition(t, s))

			problems, err := testutil.CollectAndLint(newCollector(s))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range problems {
				t.Errorf("promlint: %s: %s", p.Metric, p.Text)
			}
		})
	}
}

func TestGoldenPassesPromtoolCheckMetrics(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.golden, func(t *testing.T) {
			c := newClock()
			s := newTestStore(c, 1000)
			sc.run(s, c)
			if out, err := promtooltest.Run(t, exposition(t, s), "check", "metrics"); err != nil {
				t.Errorf("promtool check metrics: %v\n%s", err, out)
			}
		})
	}
}

// The check must be able to fail: a counter without _total is rejected.
func TestPromtoolCheckMetricsRejectsBadExposition(t *testing.T) {
	bad := "# HELP spnaudit_scans Scans.\n# TYPE spnaudit_scans counter\nspnaudit_scans 1\n"
	if out, err := promtooltest.Run(t, []byte(bad), "check", "metrics"); err == nil {
		t.Errorf("promtool check metrics accepted a counter without _total:\n%s", out)
	}
}

func TestRegistryGathersWithRuntimeCollectors(t *testing.T) {
	c := newClock()
	s := newTestStore(c, 1000)
	succeed(s, farmResult(inventory.FullScan, c.Now()))
	families, err := NewRegistry(s).Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range families {
		names[f.GetName()] = true
	}
	want := []string{"spnaudit_findings", "spnaudit_build_info", "go_goroutines"}
	if runtime.GOOS == "linux" { // the process collector needs procfs
		want = append(want, "process_start_time_seconds")
	}
	for _, name := range want {
		if !names[name] {
			t.Errorf("registry lacks %s", name)
		}
	}
}

// gather returns name{labels} -> value for the collector's current output.
func gather(t *testing.T, s *Store) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(newCollector(s))
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			out[seriesKey(f.GetName(), m)] = value(f.GetType(), m)
		}
	}
	return out
}

func seriesKey(name string, m *dto.Metric) string {
	var labels []string
	for _, l := range m.GetLabel() {
		labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	return name + "{" + strings.Join(labels, ",") + "}"
}

func value(t dto.MetricType, m *dto.Metric) float64 {
	if t == dto.MetricType_COUNTER {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

func TestFindingSeriesCap(t *testing.T) {
	findings := []audit.Finding{
		{Rule: "weak-encryption", Severity: audit.SeverityLow, Accounts: []string{dnPool}},
		{Rule: "duplicate-spn", Severity: audit.SeverityCritical, SPN: "HOST/dc1", Accounts: []string{dnPool, dnLegacy}},
		{Rule: "ghost-spn", Severity: audit.SeverityHigh, SPN: "HTTP/gone", Accounts: []string{dnLegacy}},
		{Rule: "uniqueness-check-disabled", Severity: audit.SeverityInfo},
		// The same label set twice must yield one series, not a scrape error.
		{Rule: "ghost-spn", Severity: audit.SeverityHigh, SPN: "HTTP/gone", Accounts: []string{dnLegacy}},
		// Invalid UTF-8 as stored must not break the scrape.
		{Rule: "malformed-spn", Severity: audit.SeverityMedium, SPN: "HTTP/bad\xffhost", Accounts: []string{dnPool}},
	}
	info := func(rule, sev, spn, account string) string {
		return fmt.Sprintf("spnaudit_finding_info{account=%q,rule=%q,severity=%q,spn=%q}", account, rule, sev, spn)
	}
	all := []string{
		info("duplicate-spn", "critical", "HOST/dc1", `CORP\svc-iis`),
		info("duplicate-spn", "critical", "HOST/dc1", `CORP\svc-legacy`),
		info("ghost-spn", "high", "HTTP/gone", `CORP\svc-legacy`),
		info("malformed-spn", "medium", "HTTP/bad\uFFFDhost", `CORP\svc-iis`),
		info("weak-encryption", "low", "", `CORP\svc-iis`),
		info("uniqueness-check-disabled", "info", "", ""),
	}
	tests := []struct {
		name      string
		max       int
		want      []string // kept series, most severe first
		oneOf     []string // and exactly one of these
		truncated float64
	}{
		{"under the cap", 10, all, nil, 0},
		{"exactly the cap", len(all), all, nil, 0},
		{"capped keeps the most severe", 3, all[:3], nil, 1},
		// Which of the duplicate's two series is kept depends on the
		// per-process hash (seriesOrder), not on the account's name.
		{"cap of one", 1, nil, all[:2], 1},
		{"zero exports none", 0, nil, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			s := newTestStore(c, tt.max)
			res := farmResult(inventory.FullScan, c.Now())
			res.Findings = findings
			succeed(s, res)
			got := gather(t, s)
			n := 0
			for k := range got {
				if strings.HasPrefix(k, "spnaudit_finding_info{") {
					n++
				}
			}
			if want := len(tt.want) + min(len(tt.oneOf), 1); n != want {
				t.Errorf("%d finding_info series, want %d", n, want)
			}
			for _, k := range tt.want {
				if got[k] != 1 {
					t.Errorf("missing %s", k)
				}
			}
			if kept := 0.0; tt.oneOf != nil {
				for _, k := range tt.oneOf {
					kept += got[k]
				}
				if kept != 1 {
					t.Errorf("kept %v of %v, want exactly one", kept, tt.oneOf)
				}
			}
			if v := got["spnaudit_finding_series_truncated{}"]; v != tt.truncated {
				t.Errorf("truncated = %v, want %v", v, tt.truncated)
			}
			// Counts are never capped: 6 findings, the duplicate included.
			total := 0.0
			for k, v := range got {
				if strings.HasPrefix(k, "spnaudit_findings{") {
					total += v
				}
			}
			if total != float64(len(findings)) {
				t.Errorf("spnaudit_findings sum to %v, want %d", total, len(findings))
			}
		})
	}
}

func TestFindingsCountsUnknownRule(t *testing.T) {
	c := newClock()
	s := newTestStore(c, 1000)
	res := farmResult(inventory.FullScan, c.Now())
	res.Findings = []audit.Finding{{Rule: "rule-from-the-future", Severity: audit.SeverityLow}}
	succeed(s, res)
	got := gather(t, s)
	if v := got[`spnaudit_findings{rule="rule-from-the-future",severity="low"}`]; v != 1 {
		t.Errorf("unknown rule counted %v, want 1", v)
	}
	if v, ok := got[`spnaudit_findings{rule="farm-drift",severity="critical"}`]; !ok || v != 0 {
		t.Errorf("known rule not pre-initialised to 0: %v, %v", v, ok)
	}
}

// counterNames are the collector's counters.
var counterNames = []string{"spnaudit_scans_total", "spnaudit_scan_failures_total"}

func counters(t *testing.T, s *Store) map[string]float64 {
	out := map[string]float64{}
	for k, v := range gather(t, s) {
		for _, name := range counterNames {
			if strings.HasPrefix(k, name+"{") {
				out[k] = v
			}
		}
	}
	return out
}

func TestCountersMonotonicAcrossSwaps(t *testing.T) {
	c := newClock()
	s := newTestStore(c, 1000)
	steps := []func(){
		func() { succeed(s, farmResult(inventory.FullScan, c.Now())) },
		func() { s.ScanFailed(inventory.IncrementalScan, "search", errSearch) },
		func() { s.SetLDAPUp("ldap://dc1.corp.example.test", false) },
		func() { succeed(s, farmResult(inventory.IncrementalScan, c.Now())) },
		func() { s.SetTGTExpiry(c.Now().Add(time.Hour)) },
		func() { s.ScanFailed(inventory.FullScan, "bind", errSearch) },
		func() { succeed(s, farmResult(inventory.FullScan, c.Now())) },
	}
	prev := counters(t, s)
	for i, step := range steps {
		step()
		c.Advance(time.Second)
		cur := counters(t, s)
		for k, v := range prev {
			if cur[k] < v {
				t.Errorf("step %d: %s went from %v to %v", i, k, v, cur[k])
			}
		}
		prev = cur
	}
	want := map[string]float64{
		`spnaudit_scans_total{mode="full"}`:                               3,
		`spnaudit_scans_total{mode="incremental"}`:                        2,
		`spnaudit_scan_failures_total{mode="incremental",stage="search"}`: 1,
		`spnaudit_scan_failures_total{mode="full",stage="bind"}`:          1,
		`spnaudit_scan_failures_total{mode="full",stage="search"}`:        0,
	}
	for k, v := range want {
		if prev[k] != v {
			t.Errorf("%s = %v, want %v", k, prev[k], v)
		}
	}
}

// Scrapes run while the daemon swaps states; under -race this proves Collect
// only reads published, immutable state, and each scrape sees non-decreasing
// counters.
func TestConcurrentScrapesAndSwaps(t *testing.T) {
	c := newClock()
	s := newTestStore(c, 1000)
	reg := NewRegistry(s)
	const swaps = 200
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range swaps {
			if i%3 == 0 {
				s.ScanFailed(inventory.IncrementalScan, "search", errSearch)
			} else {
				succeed(s, farmResult(inventory.IncrementalScan, c.Now()))
			}
			s.SetLDAPUp("ldap://dc1.corp.example.test", i%2 == 0)
		}
	})
	for range 2 {
		wg.Go(func() {
			last := 0.0
			for range swaps / 4 {
				families, err := reg.Gather()
				if err != nil {
					t.Error(err)
					return
				}
				for _, f := range families {
					if f.GetName() != "spnaudit_scans_total" {
						continue
					}
					sum := 0.0
					for _, m := range f.GetMetric() {
						sum += m.GetCounter().GetValue()
					}
					if sum < last {
						t.Errorf("scans_total went back from %v to %v", last, sum)
					}
					last = sum
				}
			}
		})
	}
	wg.Wait()
	if got := gather(t, s)[`spnaudit_scans_total{mode="incremental"}`]; got != swaps {
		t.Errorf("scans_total = %v, want %d", got, swaps)
	}
}

func BenchmarkCollectCappedFindings(b *testing.B) {
	c := newClock()
	s := newTestStore(c, 1000)
	res := farmResult(inventory.FullScan, c.Now())
	res.Findings = nil
	for i := range 5000 {
		res.Findings = append(res.Findings, audit.Finding{
			Rule: "weak-encryption", Severity: audit.SeverityMedium,
			SPN: fmt.Sprintf("HTTP/web%d.corp.example.test", i), Accounts: []string{dnPool},
		})
	}
	succeed(s, res)
	benchGather(b, s)
}

// benchGather times gathering s's series, what a /metrics scrape collects.
func benchGather(b *testing.B, s *Store) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(newCollector(s))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestNoFindingsIsNeverTruncated(t *testing.T) {
	c := newClock()
	s := newTestStore(c, 0)
	res := farmResult(inventory.FullScan, c.Now())
	res.Findings = nil
	succeed(s, res)
	if v, ok := gather(t, s)["spnaudit_finding_series_truncated{}"]; !ok || v != 0 {
		t.Errorf("truncated = %v (present %v), want 0", v, ok)
	}
}

// TestFindingSeriesCapResistsFloods: whoever may write SPNs can flood the
// directory with findings. The series the paging alerts (DuplicateSPN,
// SPNHostAliasConflict) read must survive metrics.max_finding_series, and
// neither the text of the flood's SPNs nor its accounts' names may decide
// which findings are kept.
func TestFindingSeriesCapResistsFloods(t *testing.T) {
	const (
		dnAttacker  = "CN=aaa-attacker,OU=Users,DC=corp,DC=example,DC=test"
		dnAttacker2 = "CN=aaa-attacker2,OU=Users,DC=corp,DC=example,DC=test"
	)
	flood := func(n int, f func(i int) audit.Finding) []audit.Finding {
		out := make([]audit.Finding, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	realDuplicate := audit.Finding{Rule: "duplicate-spn", Severity: audit.SeverityHigh, SPN: "HTTP/web.corp.example.test", Accounts: []string{dnPool, dnLegacy}}
	realConflict := audit.Finding{Rule: "host-alias-conflict", Severity: audit.SeverityMedium, SPN: "HTTP/svexpgg311", Accounts: []string{dnPool, dnNode11}}
	tests := []struct {
		name     string
		max      int
		findings []audit.Finding
		want     []audit.Finding // every series of these is kept
	}{
		{
			// Ghost SPNs on an account trusted for delegation are high: today's
			// order (severity, then rule id) put them all before the medium
			// host-alias conflict, which the cap then dropped.
			name: "5000 high ghost SPNs", max: 1000,
			findings: append(flood(5000, func(i int) audit.Finding {
				return audit.Finding{Rule: "ghost-spn", Severity: audit.SeverityHigh, SPN: fmt.Sprintf("HTTP/gone%04d", i), Accounts: []string{dnAttacker}}
			}), realDuplicate, realConflict),
			want: []audit.Finding{realDuplicate, realConflict},
		},
		{
			// Duplicates between two accounts of the attacker, named to sort
			// before any real SPN: an order by SPN kept only these.
			name: "2000 duplicates that sort first", max: 100,
			findings: append(flood(2000, func(i int) audit.Finding {
				return audit.Finding{Rule: "duplicate-spn", Severity: audit.SeverityHigh, SPN: fmt.Sprintf("AAAA/%04d", i), Accounts: []string{dnAttacker, dnAttacker2}}
			}), realDuplicate),
			want: []audit.Finding{realDuplicate},
		},
		{
			name: "2000 critical kerberoastable accounts", max: 10,
			findings: append(flood(2000, func(i int) audit.Finding {
				return audit.Finding{Rule: "kerberoastable-account", Severity: audit.SeverityCritical, Accounts: []string{fmt.Sprintf("CN=aaa%04d,DC=corp,DC=example,DC=test", i)}}
			}), realConflict),
			want: []audit.Finding{realConflict},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			s := newTestStore(c, tt.max)
			res := farmResult(inventory.FullScan, c.Now())
			res.Findings = tt.findings
			succeed(s, res)
			got := gather(t, s)
			n := 0
			for k := range got {
				if strings.HasPrefix(k, "spnaudit_finding_info{") {
					n++
				}
			}
			if n != tt.max || got["spnaudit_finding_series_truncated{}"] != 1 {
				t.Errorf("%d finding_info series, truncated %v; want %d, 1", n, got["spnaudit_finding_series_truncated{}"], tt.max)
			}
			names := s.load().snapshot.accountNames.names()
			for _, f := range tt.want {
				for _, dn := range f.Accounts {
					k := fmt.Sprintf("spnaudit_finding_info{account=%q,rule=%q,severity=%q,spn=%q}", names[dn], f.Rule, f.Severity, f.SPN)
					if got[k] != 1 {
						t.Errorf("the cap dropped %s", k)
					}
				}
			}
		})
	}
}
