package web

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

var (
	tableRe = regexp.MustCompile(`<table class="findings" data-(rule|account)="([^"]*)">`)
	rowRe   = regexp.MustCompile(`<tbody class="finding"(?: id="([^"]+)")? data-rule="([^"]+)">\s*<tr>\s*<td>.*?</td>\s*<td><code class="spn">([^<]*)</code>`)
)

// shownTables returns the data-rule or data-account of each findings table.
func shownTables(body string) []string {
	var out []string
	for _, m := range tableRe.FindAllStringSubmatch(body, -1) {
		out = append(out, m[2])
	}
	return out
}

// shownRows returns "rule SPN" for each finding row.
func shownRows(body string) []string {
	var out []string
	for _, m := range rowRe.FindAllStringSubmatch(body, -1) {
		out = append(out, m[2]+" "+m[3])
	}
	return out
}

// TestLandingFilters: each query parameter narrows the findings, the
// summary keeps counting all of them, and the form shows the filter.
func TestLandingFilters(t *testing.T) {
	c := newClock()
	s := newTestStore(c, 1000)
	succeed(s, farmResult(inventory.FullScan, c.Now()))
	h := newTestHandler(s)
	const (
		dup   = "duplicate-spn HTTP/svnlb301.corp.example.test"
		ghost = "ghost-spn HTTP/oldweb.corp.example.test"
		alias = "host-alias-conflict HTTP/svexpgg311.corp.example.test"
		roast = "kerberoastable-account "
	)
	for _, tc := range []struct {
		query  string
		tables []string
		rows   []string
		has    []string
	}{
		{"", []string{"duplicate-spn", "ghost-spn", "host-alias-conflict", "kerberoastable-account"}, []string{dup, ghost, alias, roast}, nil},
		{"rule=ghost-spn", []string{"ghost-spn"}, []string{ghost},
			[]string{`<option value="ghost-spn" selected>`, "Findings (4, 2 suppressed by audit.ignore): 1 match the filter"}},
		{"severity=medium", []string{"host-alias-conflict", "kerberoastable-account"}, []string{alias, roast},
			[]string{`<option value="medium" selected>`}},
		{"severity=HIGH", []string{"duplicate-spn", "ghost-spn"}, []string{dup, ghost}, nil},
		{"account=svc-legacy", []string{"duplicate-spn", "ghost-spn", "kerberoastable-account"}, []string{dup, ghost, roast},
			[]string{`name="account" value="svc-legacy"`}},
		{"account=" + url.QueryEscape(`corp\SVC-IIS`), []string{"duplicate-spn", "host-alias-conflict"}, []string{dup, alias}, nil},
		{"account=" + url.QueryEscape("OU=Web"), []string{"host-alias-conflict"}, []string{alias}, nil},
		{"spn=SVNLB301", []string{"duplicate-spn"}, []string{dup}, nil},
		{"spn=svexpgg&severity=high", nil, nil, []string{"No finding matches the filter."}},
		{"rule=no-such-rule", nil, nil, []string{"No finding matches the filter."}},
		{"view=account&severity=high", []string{dnPool, dnLegacy}, []string{dup, dup, ghost},
			[]string{`<option value="account" selected>`, `<code class="rule">ghost-spn</code>`}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			_, body := serve(t, h, "GET", "/?"+tc.query)
			if got := shownTables(body); !slices.Equal(got, tc.tables) {
				t.Errorf("tables %q, want %q", got, tc.tables)
			}
			if got := shownRows(body); !slices.Equal(got, tc.rows) {
				t.Errorf("rows %q, want %q", got, tc.rows)
			}
			for _, want := range append(tc.has,
				// The summary counts every finding, whatever the filter.
				`<tr data-rule="kerberoastable-account"><td><a href="/?rule=kerberoastable-account`,
				`<tr data-severity="high"><td><a href="/?severity=high`) {
				if !strings.Contains(body, want) {
					t.Errorf("page lacks %q", want)
				}
			}
		})
	}
}

// TestLandingFiltersBeforeCap: a filter picks findings beyond a rule's row
// cap, with exact counts.
func TestLandingFiltersBeforeCap(t *testing.T) {
	c := newClock()
	s := newTestStore(c, 1000)
	succeed(s, largeResult(c, 20, 4980, maxRowsPerRule))
	_, body := serve(t, newTestHandler(s), "GET", "/?spn=medium-0497")
	rows := shownRows(body)
	if len(rows) != 10 || rows[0] != "host-alias-conflict HTTP/host-alias-conflict-medium-04970" {
		t.Errorf("rows %q", rows)
	}
	if !strings.Contains(body, "host-alias-conflict (10)</h3>") || !strings.Contains(body, ": 10 match the filter") ||
		strings.Contains(body, `class="more"`) {
		t.Errorf("counts are not those of the filter:\n%.3000s", body)
	}
	// The account view caps accounts too, with the exact number left.
	_, body = serve(t, newTestHandler(s), "GET", "/?view=account")
	if got := len(shownTables(body)); got != 1 || !strings.Contains(body, "(5053)</h3>") {
		t.Errorf("account view: %d tables", got)
	}
}

// TestFindingAnchorsStable: a finding's anchor depends on its rule, SPN and
// accounts only, so a link survives a re-scan that adds findings before it or
// rewords it; no two elements share an id.
func TestFindingAnchorsStable(t *testing.T) {
	c := newClock()
	s := newTestStore(c, 1000)
	h := newTestHandler(s)
	res := farmResult(inventory.FullScan, c.Now())
	succeed(s, res)
	_, before := serve(t, h, "GET", "/")
	idOf := func(body, row string) string {
		for _, m := range rowRe.FindAllStringSubmatch(body, -1) {
			if m[2]+" "+m[3] == row {
				return m[1]
			}
		}
		return ""
	}
	const ghost = "ghost-spn HTTP/oldweb.corp.example.test"
	id := idOf(before, ghost)
	if !regexp.MustCompile(`^f-[0-9a-f]{12}$`).MatchString(id) {
		t.Fatalf("ghost-spn finding has id %q", id)
	}
	res.Findings = append([]audit.Finding{{Rule: "duplicate-spn", Severity: audit.SeverityCritical, SPN: "HTTP/new", Accounts: []string{dnPool}}}, res.Findings...)
	for i := range res.Findings {
		res.Findings[i].Message += " Reworded."
	}
	succeed(s, res)
	_, after := serve(t, h, "GET", "/")
	if got := idOf(after, ghost); got != id {
		t.Errorf("anchor changed across scans: %q, then %q", id, got)
	}
	// The permalink finds it even under a filter.
	if !strings.Contains(after, `href="/?rule=ghost-spn&amp;spn=HTTP%2Foldweb.corp.example.test#`+id+`"`) {
		t.Errorf("no permalink to %s", id)
	}
	for _, q := range []string{"/", "/?view=account"} {
		_, body := serve(t, h, "GET", q)
		ids := regexp.MustCompile(` id="([^"]+)"`).FindAllStringSubmatch(body, -1)
		seen := map[string]bool{}
		for _, m := range ids {
			if seen[m[1]] {
				t.Errorf("%s: id %q twice", q, m[1])
			}
			seen[m[1]] = true
		}
	}
}
