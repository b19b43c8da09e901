package state

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestLogLines: every journal entry is one JSON log line with the keys
// docs/metrics.md documents; a hostile SPN cannot break the line.
func TestLogLines(t *testing.T) {
	var buf bytes.Buffer
	s := open(t, t.TempDir(), func(o *Options) { o.Logger = slog.New(slog.NewJSONHandler(&buf, nil)) })
	changed := t0.Add(-2 * time.Second)
	a := obj("ga", "svc_a", "HTTP/web")
	record(t, s, snapAt(t0, a, obj("gb", "svc_b")), "full")
	buf.Reset()
	b := obj("gb", "svc_b", "HTTP/web", "HTTP/evil\nlevel=ERROR msg=forged")
	b.SPNChanged, b.SPNChangedBy = changed, "aaaaaaaa-0000-0000-0000-000000000001"
	record(t, s, snapAt(t0.Add(time.Minute), a, b), "incremental")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var spnLines, findingLines int
	for _, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not one JSON object per line: %q", line)
		}
		switch m["msg"] {
		case "spn change":
			spnLines++
			for _, k := range []string{"op", "spn", "account", "sam_account_name", "observed", "originating_time", "originating_dc", "poll", "poll_mode", "seq"} {
				if _, ok := m[k]; !ok {
					t.Errorf("spn change line lacks %s: %s", k, line)
				}
			}
			if m["originating_dc"] != "dc2.example.test" || m["originating_time"] != changed.Format(time.RFC3339) {
				t.Errorf("originating %v on %v", m["originating_time"], m["originating_dc"])
			}
		case "finding change":
			findingLines++
			for _, k := range []string{"op", "rule", "severity", "spn", "accounts", "observed", "poll", "poll_mode", "seq"} {
				if _, ok := m[k]; !ok {
					t.Errorf("finding change line lacks %s: %s", k, line)
				}
			}
		}
	}
	if spnLines != 2 || findingLines != 1 {
		t.Errorf("%d spn change and %d finding change lines, want 2 and 1:\n%s", spnLines, findingLines, buf.String())
	}
}
