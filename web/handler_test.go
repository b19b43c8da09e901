package web

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/metrics"
)

func serve(t testing.TB, h http.Handler, method, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	res := rec.Result()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

func newTestHandler(s *metrics.Store) http.Handler {
	return NewHandler(s, metrics.NewRegistry(s), slog.New(slog.DiscardHandler))
}

func TestRoutes(t *testing.T) {
	noScan := func(s *metrics.Store, c *clock) {}
	failedFirst := func(s *metrics.Store, c *clock) { s.ScanFailed(inventory.FullScan, "bind", errSearch) }
	scanned := func(s *metrics.Store, c *clock) {
		succeed(s, farmResult(inventory.FullScan, c.Now()))
		c.Advance(42 * time.Second)
	}
	tests := []struct {
		name        string
		setup       func(*metrics.Store, *clock)
		method      string
		path        string
		status      int
		contentType string
		contains    []string
		absent      []string
	}{
		{"healthy before any scan", noScan, "GET", "/-/healthy", 200, "text/plain", []string{"Healthy"}, nil},
		{"not ready before any scan", noScan, "GET", "/-/ready", 503, "text/plain", []string{"Not ready"}, nil},
		{"not ready after a failed first scan", failedFirst, "GET", "/-/ready", 503, "text/plain", nil, nil},
		{"ready after a successful scan", scanned, "GET", "/-/ready", 200, "text/plain", []string{"Ready."}, nil},
		{"ready stays after a later failure", func(s *metrics.Store, c *clock) {
			scanned(s, c)
			s.ScanFailed(inventory.IncrementalScan, "search", errSearch)
		}, "GET", "/-/ready", 200, "text/plain", nil, nil},
		{"metrics before any scan", noScan, "GET", "/metrics", 200, "text/plain",
			[]string{"spnaudit_scan_success 0", "spnaudit_build_info{", "go_goroutines"},
			[]string{"spnaudit_findings{", "spnaudit_scan_last_success_timestamp_seconds"}},
		{"metrics after a scan", scanned, "GET", "/metrics", 200, "text/plain",
			[]string{"spnaudit_scan_success 1", `spnaudit_findings{rule="duplicate-spn",severity="high"} 1`}, nil},
		{"findings before any scan", noScan, "GET", "/api/v1/findings", 503, "application/json",
			[]string{`"error"`}, nil},
		{"findings after a scan", scanned, "GET", "/api/v1/findings", 200, "application/json",
			[]string{`"snapshot_age_seconds": 42`, `"rule": "duplicate-spn"`}, nil},
		{"landing before any scan", noScan, "GET", "/", 200, "text/html",
			[]string{"no scan finished yet", `href="/metrics"`, `href="/api/v1/findings"`},
			[]string{`<h2 id="findings">`, "<script"}},
		{"landing after a failed first scan", failedFirst, "GET", "/", 200, "text/html",
			[]string{"failed", "stage bind", "connection reset by peer"}, []string{`<h2 id="findings">`}},
		{"landing after a scan", scanned, "GET", "/", 200, "text/html",
			[]string{"succeeded", "42s ago", `<h2 id="findings">Findings (4, 2 suppressed`, `id="rule-duplicate-spn"`,
				"HTTP/svnlb301.corp.example.test", `CORP\svc-legacy`, dnLegacy,
				`<pre>setspn -D HTTP/svnlb301.corp.example.test CORP\svc-legacy</pre>`},
			[]string{"<script"}},
		{"HEAD works like GET", scanned, "HEAD", "/-/ready", 200, "text/plain", nil, nil},
		{"unknown path", scanned, "GET", "/nope", 404, "", nil, nil},
		{"POST is not allowed", scanned, "POST", "/metrics", 405, "", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			s := newTestStore(c, 1000)
			tt.setup(s, c)
			res, body := serve(t, newTestHandler(s), tt.method, tt.path)
			if res.StatusCode != tt.status {
				t.Errorf("status %d, want %d; body:\n%s", res.StatusCode, tt.status, body)
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.contentType) {
				t.Errorf("Content-Type %q, want %q", ct, tt.contentType)
			}
			for _, want := range tt.contains {
				if !strings.Contains(body, want) {
					t.Errorf("body lacks %q:\n%s", want, body)
				}
			}
			for _, unwanted := range tt.absent {
				if strings.Contains(body, unwanted) {
					t.Errorf("body has %q", unwanted)
				}
			}
		})
	}
}

// Groups come most severe first, in the document's order.
func TestLandingGroupsOrderedBySeverity(t *testing.T) {
	c := newClock()
	s := newTestStore(c, 1000)
	succeed(s, farmResult(inventory.FullScan, c.Now()))
	_, body := serve(t, newTestHandler(s), "GET", "/")
	order := []string{`id="rule-duplicate-spn"`, `id="rule-ghost-spn"`, `id="rule-host-alias-conflict"`, `id="rule-kerberoastable-account"`}
	last := -1
	for _, id := range order {
		i := strings.Index(body, id)
		if i <= last {
			t.Errorf("%s at %d, expected after %d", id, i, last)
		}
		last = i
	}
}

// SPNs are stored as written, so a hostile one must render as text.
func TestLandingEscapesHostileStrings(t *testing.T) {
	hostile := []string{
		`HTTP/"><script>alert(1)</script>`,
		`HTTP/x</pre><img src=x onerror=alert(2)>`,
		`HTTP/'onmouseover='alert(3)`,
	}
	c := newClock()
	s := newTestStore(c, 1000)
	res := farmResult(inventory.FullScan, c.Now())
	res.Findings = nil
	for _, spn := range hostile {
		res.Findings = append(res.Findings, audit.Finding{
			Rule: "malformed-spn", Severity: audit.SeverityMedium, SPN: spn,
			Accounts:    []string{`CN=<b>evil</b>,DC=corp,DC=example,DC=test`},
			Message:     "SPN " + spn + " is malformed.",
			Remediation: []string{`setspn -D "` + spn + `" CORP\svc`},
			References:  []string{"javascript:alert(4)"},
		})
	}
	succeed(s, res)
	s.ScanFailed(inventory.IncrementalScan, "search", errorString(`<script>alert(5)</script>`))
	resp, body := serve(t, newTestHandler(s), "GET", "/")
	for _, bad := range []string{"<script", "<img", "<b>evil", "onmouseover='", `href="javascript:`} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains unescaped %q", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(2)&gt;", "&lt;b&gt;evil&lt;/b&gt;"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks escaped %q", want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q does not forbid scripts", csp)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

func TestFindingsAPIDocument(t *testing.T) {
	c := newClock()
	s := newTestStore(c, 1000)
	started := c.Now()
	succeed(s, farmResult(inventory.FullScan, started))
	c.Advance(90 * time.Second)
	_, body := serve(t, newTestHandler(s), "GET", "/api/v1/findings")
	var doc struct {
		Scan struct {
			Started         time.Time `json:"started"`
			DurationSeconds float64   `json:"duration_seconds"`
			Objects, SPNs   int
			Domains         []string `json:"domains"`
		} `json:"scan"`
		Findings           []audit.Finding `json:"findings"`
		Suppressed         int             `json:"suppressed"`
		SnapshotAgeSeconds float64         `json:"snapshot_age_seconds"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	if !doc.Scan.Started.Equal(started) || doc.Scan.DurationSeconds != 1.5 || doc.Scan.Objects != 6 ||
		doc.Scan.SPNs != 17 || len(doc.Scan.Domains) != 1 {
		t.Errorf("scan summary %+v", doc.Scan)
	}
	if doc.SnapshotAgeSeconds != 90 || doc.Suppressed != 2 || len(doc.Findings) != 4 {
		t.Errorf("age %v, suppressed %d, %d findings", doc.SnapshotAgeSeconds, doc.Suppressed, len(doc.Findings))
	}
}
