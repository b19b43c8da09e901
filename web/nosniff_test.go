package web

import (
	"net/http"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

// TestFindingsAPINoSniff: /api/v1/findings carries directory text (SPNs,
// DNs, messages) an attacker may have written; a browser must treat it as
// JSON, never sniff it into HTML or script, before and after the first scan.
func TestFindingsAPINoSniff(t *testing.T) {
	c := newClock()
	s := newTestStore(c, 10)
	h := newTestHandler(s)
	for _, scanned := range []bool{false, true} {
		if scanned {
			succeed(s, farmResult(inventory.FullScan, c.Now()))
		}
		res, _ := serve(t, h, http.MethodGet, "/api/v1/findings")
		if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("after a scan %v: X-Content-Type-Options %q, want nosniff", scanned, got)
		}
	}
}
