package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/internal/golden"
	"github.com/spnaudit/spnaudit/inventory"
)

func TestFindingsGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		format Format
		opts   Options
	}{
		{"findings.table", FormatTable, Options{}},
		{"findings.color.table", FormatTable, Options{Color: true}},
		{"findings.json", FormatJSON, Options{}},
		{"findings.csv", FormatCSV, Options{}},
		{"findings.sarif", FormatSARIF, Options{ToolVersion: "1.2.3"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteFindings(&buf, scenarioDocument(), tc.format, tc.opts); err != nil {
				t.Fatal(err)
			}
			golden.Compare(t, "testdata/"+tc.golden+".golden", buf.Bytes())
		})
	}
}

func TestInventoryGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		format Format
		color  bool
	}{
		{"inventory.table", FormatTable, false},
		{"inventory.color.table", FormatTable, true},
		{"inventory.json", FormatJSON, false},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteInventory(&buf, scenarioSnapshot(), tc.format, Options{Color: tc.color}); err != nil {
				t.Fatal(err)
			}
			golden.Compare(t, "testdata/"+tc.golden+".golden", buf.Bytes())
		})
	}
}

// Tables fit a 100-column terminal and carry no control character from the
// directory: only newlines, and escapes when colour is on.
func TestTablesFitAndAreClean(t *testing.T) {
	for _, color := range []bool{false, true} {
		var buf bytes.Buffer
		if err := WriteFindings(&buf, scenarioDocument(), FormatTable, Options{Color: color}); err != nil {
			t.Fatal(err)
		}
		if err := WriteInventory(&buf, scenarioSnapshot(), FormatTable, Options{Color: color}); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	next:
		for _, line := range lines {
			// Commands and the summary line are deliberately left whole.
			for _, f := range scenarioFindings() {
				for _, cmd := range f.Remediation {
					if strings.HasSuffix(line, Sanitize(cmd)) {
						continue next
					}
				}
			}
			if strings.HasPrefix(line, "7 findings: ") {
				continue
			}
			if w := visibleWidth(line); w > width {
				t.Errorf("color=%v: line of %d columns: %q", color, w, line)
			}
		}
		stripped := out
		if color {
			if !strings.Contains(out, "\x1b[1;31mCRITICAL\x1b[0m") {
				t.Errorf("colour table lacks a red CRITICAL")
			}
			stripped = strings.NewReplacer("\x1b[0m", "", "\x1b[1m", "", "\x1b[2m", "", "\x1b[1;31m", "", "\x1b[31m", "", "\x1b[33m", "", "\x1b[36m", "").Replace(out)
		}
		for _, r := range stripped {
			if r < 0x20 && r != '\n' || r == 0x7f || r == '\u200b' {
				t.Errorf("color=%v: control or invisible character %U in table output", color, r)
			}
		}
		if !strings.Contains(stripped, `HTTP/web\u200b01.emea.corp.example.test`) || !strings.Contains(stripped, `HTTP/\u001b[31mred`) {
			t.Errorf("color=%v: hidden characters not shown as escapes", color)
		}
	}
}

func TestSummary(t *testing.T) {
	snap := scenarioSnapshot()
	for _, tc := range []struct {
		name       string
		findings   []audit.Finding
		suppressed int
		objects    int
		want       string
	}{
		{"scenario", scenarioFindings(), 2, 6,
			"7 findings: 1 critical, 1 high, 4 medium, 1 low (2 suppressed) in 1.2s, 6 objects, 18 SPNs, 2 domains"},
		{"nothing found", nil, 0, 1, "no findings in 1.2s, 1 object, 6 SPNs, 2 domains"},
		{"everything suppressed", nil, 1873, 6, "no findings (1,873 suppressed) in 1.2s, 6 objects, 18 SPNs, 2 domains"},
		{"one finding", scenarioFindings()[:1], 0, 6, "1 finding: 1 critical in 1.2s, 6 objects, 18 SPNs, 2 domains"},
	} {
		s := *snap
		s.Objects = snap.Objects[:tc.objects]
		if got := summary(NewDocument(&s, tc.findings, tc.suppressed)); got != tc.want {
			t.Errorf("%s: summary =\n%q\nwant\n%q", tc.name, got, tc.want)
		}
	}
}

func TestJSONDocument(t *testing.T) {
	doc := scenarioDocument()
	var buf bytes.Buffer
	if err := WriteFindings(&buf, doc, FormatJSON, Options{}); err != nil {
		t.Fatal(err)
	}
	var back Document
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, doc) {
		t.Errorf("JSON does not round-trip:\n%+v\n%+v", back, *doc)
	}
	if !back.Scan.Started.Equal(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)) || back.Scan.Started.Location() != time.UTC {
		t.Errorf("started = %v; want UTC", back.Scan.Started)
	}
	// Empty lists are [], never null, and no snapshot age outside the daemon.
	buf.Reset()
	empty := NewDocument(&inventory.Snapshot{}, []audit.Finding{{Rule: "ghost-spn", Severity: audit.SeverityLow}}, 0)
	if err := WriteFindings(&buf, empty, FormatJSON, Options{}); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); strings.Contains(out, "null") || strings.Contains(out, "snapshot_age") {
		t.Errorf("empty document has null or snapshot age:\n%s", out)
	}
}

func TestCSVReadsBack(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteFindings(&buf, scenarioDocument(), FormatCSV, Options{}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+len(scenarioFindings()) {
		t.Fatalf("%d rows; want header + %d", len(rows), len(scenarioFindings()))
	}
	if got := strings.Split(rows[1][3], "\n"); !reflect.DeepEqual(got, []string{dnNode310, dnPool}) {
		t.Errorf("accounts cell = %q", got)
	}
	if spn := rows[5][2]; spn != `'=HYPERLINK("http://evil.example")/x` {
		t.Errorf("formula SPN not defused: %q", spn)
	}
	for _, in := range []string{"HTTP/x", "", "CN=a", "svc-a"} {
		if got := cell(in); got != in {
			t.Errorf("cell(%q) = %q; want it unchanged", in, got)
		}
	}
	for _, in := range []string{"=1+1", "+1", "-1", "@SUM(A1)", "\tx"} {
		if got := cell(in); got != "'"+in {
			t.Errorf("cell(%q) = %q; want it prefixed with '", in, got)
		}
	}
}

func TestSARIFStructure(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteFindings(&buf, scenarioDocument(), FormatSARIF, Options{ToolVersion: "1.2.3"}); err != nil {
		t.Fatal(err)
	}
	var log sarifLog
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("version %q, %d runs", log.Version, len(log.Runs))
	}
	run := log.Runs[0]
	var ids []string
	for _, r := range run.Tool.Driver.Rules {
		ids = append(ids, r.ID)
	}
	if want := []string{"duplicate-spn", "host-alias-conflict", "malformed-spn", "uniqueness-check-disabled", "missing-spn-pair"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("rules = %v; want one per rule id: %v", ids, want)
	}
	wantLevel := map[audit.Severity]string{audit.SeverityCritical: "error", audit.SeverityHigh: "error", audit.SeverityMedium: "warning", audit.SeverityLow: "note", audit.SeverityInfo: "note"}
	for i, res := range run.Results {
		f := scenarioFindings()[i]
		if run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID || res.RuleID != f.Rule {
			t.Errorf("result %d: ruleIndex %d does not point at %s", i, res.RuleIndex, res.RuleID)
		}
		if res.Level != wantLevel[f.Severity] {
			t.Errorf("result %d: level %q for %s", i, res.Level, f.Severity)
		}
	}
	if got := run.Tool.Driver.Rules[0].Properties["security-severity"]; got != "9.5" {
		t.Errorf("duplicate-spn security-severity = %q; want the critical score of its worst finding", got)
	}
	if loc := run.Results[5].Locations[0].LogicalLocations; len(loc) != 1 || loc[0].Kind != "account" {
		t.Errorf("finding without SPN: logical locations %+v; want the account only", loc)
	}
}

func TestInventoryJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteInventory(&buf, scenarioSnapshot(), FormatJSON, Options{}); err != nil {
		t.Fatal(err)
	}
	var objs []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &objs); err != nil {
		t.Fatal(err)
	}
	if len(objs) != len(scenarioSnapshot().Objects) {
		t.Fatalf("%d objects", len(objs))
	}
	for _, o := range objs {
		for _, key := range []string{"dn", "sam_account_name", "kind", "spns"} {
			if _, ok := o[key]; !ok {
				t.Errorf("object %v lacks %q", o["dn"], key)
			}
		}
	}
	if objs[0]["sam_account_name"] != "DC1$" || objs[len(objs)-1]["sam_account_name"] != "svc_old" {
		t.Errorf("objects not sorted by domain then account: first %v, last %v", objs[0]["sam_account_name"], objs[len(objs)-1]["sam_account_name"])
	}
	buf.Reset()
	if err := WriteInventory(&buf, &inventory.Snapshot{}, FormatJSON, Options{}); err != nil || buf.String() != "[]\n" {
		t.Errorf("empty inventory = %q, %v; want []", buf.String(), err)
	}
}

func TestFormats(t *testing.T) {
	if f, err := ParseFormat("SARIF", FindingsFormats); f != FormatSARIF || err != nil {
		t.Errorf("ParseFormat(SARIF) = %q, %v", f, err)
	}
	_, err := ParseFormat("csv", InventoryFormats)
	if err == nil || err.Error() != `unknown format "csv"; use one of table, json` {
		t.Errorf("ParseFormat(csv, inventory) error = %v", err)
	}
	if err := WriteInventory(&bytes.Buffer{}, &inventory.Snapshot{}, FormatSARIF, Options{}); err == nil {
		t.Error("WriteInventory accepted sarif")
	}
	if err := WriteFindings(&bytes.Buffer{}, scenarioDocument(), "xml", Options{}); err == nil {
		t.Error("WriteFindings accepted xml")
	}
}

func TestWrap(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		dn   bool
		want []string
	}{
		{"short", 10, false, []string{"short"}},
		{"exactly ten", 11, false, []string{"exactly ten"}},
		{"one two three four", 9, false, []string{"one two", "three", "four"}},
		{"CN=svc,OU=Service Accounts,DC=example", 20, true, []string{"CN=svc,", "OU=Service Accounts,", "DC=example"}},
		{"CN=svc,OU=Service Accounts,DC=example", 20, false, []string{"CN=svc,OU=Service", "Accounts,DC=example"}},
		{"HTTP/web01.corp.example.test", 12, false, []string{"HTTP/web01.", "corp.", "example.test"}},
		{"HTTP/very-long-hostname", 12, false, []string{"HTTP/very-", "long-", "hostname"}},
		{"HTTP/averyveryverylonghostname", 20, false, []string{"HTTP/averyveryverylo", "nghostname"}}, // a break after HTTP/ would waste the line
		{"abcdefghijkl", 5, false, []string{"abcde", "fghij", "kl"}},
		{"äöü äöü", 3, false, []string{"äöü", "äöü"}},
	} {
		if got := wrap(tc.in, tc.n, tc.dn); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("wrap(%q, %d, %v) = %q; want %q", tc.in, tc.n, tc.dn, got, tc.want)
		}
	}
}

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"HTTP/web01":         "HTTP/web01",
		"café/ünïcode":       "café/ünïcode",
		"a\u200bb":           `a\u200bb`,
		"a\u202eb":           `a\u202eb`, // right-to-left override
		"\x1b[2J":            `\u001b[2J`,
		"tab\there":          `tab\u0009here`,
		"nbsp\u00a0x":        `nbsp\u00a0x`,
		"bad\xffutf8":        `bad\xffutf8`,
		"replacement\uFFFD!": "replacement\uFFFD!",
		"tag\U000E0041":      `tag\U000e0041`,
	} {
		if got := Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1873: "1,873", 1234567: "1,234,567", -4200: "-4,200"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q; want %q", n, got, want)
		}
	}
}
