package web

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/metrics"
	history "github.com/spnaudit/spnaudit/state"
)

// TestChangesAPI: /api/v1/changes pages a real journal newest first,
// filters by SPN, rejects bad parameters with 400, and leaves the other
// routes to the handler it wraps; spnaudit_spn_changes_total counts the
// SPN changes by op.
func TestChangesAPI(t *testing.T) {
	counter := metrics.NewSPNChanges()
	store, err := history.Open(history.Options{Dir: t.TempDir(), Logger: slog.New(slog.DiscardHandler), OnChange: counter.Observe})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	t0 := time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC)
	acct := func(spns ...string) inventory.Object {
		return inventory.Object{GUID: inventory.MustParseGUID("00000000-0000-0000-0000-00000000000a"), DN: "CN=svc,DC=example,DC=test", SAMAccountName: "svc", SPNs: spns}
	}
	for i, spns := range [][]string{{"HTTP/a"}, {"HTTP/a", "HTTP/b"}, {"HTTP/a", "HTTP/b", "HTTP/c"}, {"HTTP/c"}} {
		snap := &inventory.Snapshot{Started: t0.Add(time.Duration(i) * time.Minute), Objects: []*inventory.Object{new(acct(spns...))}}
		if _, err := store.Record(snap, nil, history.Poll{Mode: "incremental"}); err != nil {
			t.Fatal(err)
		}
	}
	inner := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("inner")) })
	h := WithChanges(inner, store, slog.New(slog.DiscardHandler))
	get := func(url string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
		return rec.Code, rec.Body.String()
	}
	page := func(url string) ChangesPage {
		t.Helper()
		code, body := get(url)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", url, code, body)
		}
		var p ChangesPage
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		return p
	}
	ops := func(p ChangesPage) string {
		var s []string
		for _, c := range p.Changes {
			s = append(s, c.Op+" "+c.SPN)
		}
		return strings.Join(s, ", ")
	}
	p1 := page("/api/v1/changes?limit=2")
	if got := ops(p1); got != "remove HTTP/b, remove HTTP/a" || p1.Next == 0 {
		t.Errorf("page 1: %q next %d", got, p1.Next)
	}
	p2 := page("/api/v1/changes?limit=2&before=" + jsonNumber(p1.Next))
	if got := ops(p2); got != "add HTTP/c, add HTTP/b" || p2.Next != 0 {
		t.Errorf("page 2: %q next %d", got, p2.Next)
	}
	if got := ops(page("/api/v1/changes?spn=http/B")); got != "remove HTTP/b, add HTTP/b" {
		t.Errorf("spn=http/B: %q", got)
	}
	if got := ops(page("/api/v1/changes?since=2026-11-24T14:03:00Z")); got != "remove HTTP/b, remove HTTP/a" {
		t.Errorf("since: %q", got)
	}
	for _, bad := range []string{"limit=0", "limit=5000", "since=yesterday", "before=x"} {
		if code, body := get("/api/v1/changes?" + bad); code != http.StatusBadRequest || strings.Count(body, "\n") != 1 {
			t.Errorf("%s: %d %q, want 400 and one line", bad, code, body)
		}
	}
	if code, body := get("/metrics"); code != 200 || body != "inner" {
		t.Errorf("other routes: %d %q", code, body)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(counter)
	want := `# HELP spnaudit_spn_changes_total SPN values added to or removed from accounts, as seen between scans and journaled in state.dir, by op (add, remove).
# TYPE spnaudit_spn_changes_total counter
spnaudit_spn_changes_total{op="add"} 2
spnaudit_spn_changes_total{op="remove"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func jsonNumber(n uint64) string { b, _ := json.Marshal(n); return string(b) }
