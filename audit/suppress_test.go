package audit

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSuppressionValidate(t *testing.T) {
	for _, tt := range []struct {
		name string
		s    Suppression
		want string // error substring; "" for valid
	}{
		{"valid SPN pattern", Suppression{Rule: RuleGhostSPN, SPN: "HTTP/old*", Reason: "decommissioning in Q3", Owner: "web-team"}, ""},
		{"valid account pattern with backslash", Suppression{Rule: "kerberoastable-*", Account: `CORP\svc_*`, Reason: "gMSA migration ticket 42", Owner: "iam"}, ""},
		{"no reason", Suppression{Rule: RuleGhostSPN, SPN: "*", Owner: "o"}, "reason"},
		{"blank reason", Suppression{Rule: RuleGhostSPN, SPN: "*", Reason: "  ", Owner: "o"}, "reason"},
		{"no rule", Suppression{SPN: "*", Reason: "x", Owner: "o"}, "rule: missing"},
		{"unknown rule", Suppression{Rule: "duplicate-spns", SPN: "*", Reason: "x", Owner: "o"}, "matches no rule"},
		{"no pattern", Suppression{Rule: RuleGhostSPN, Reason: "x", Owner: "o"}, "set at least one pattern"},
		{"bad class", Suppression{Rule: RuleGhostSPN, SPN: "HTTP/[a", Reason: "x", Owner: "o"}, "unterminated"},
		{"no owner", Suppression{Rule: RuleGhostSPN, SPN: "*", Reason: "x"}, "owner: a suppression must name who"},
		{"blank owner", Suppression{Rule: RuleGhostSPN, SPN: "*", Reason: "x", Owner: " "}, "owner:"},
		{"until a date", Suppression{Rule: RuleGhostSPN, SPN: "*", Reason: "x", Owner: "o", Until: "2026-12-31"}, ""},
		{"until not a date", Suppression{Rule: RuleGhostSPN, SPN: "*", Reason: "x", Owner: "o", Until: "31/12/2026"}, "until: \"31/12/2026\" is not a date; write"},
		{"until with a time", Suppression{Rule: RuleGhostSPN, SPN: "*", Reason: "x", Owner: "o", Until: "2026-12-31T00:00:00Z"}, "until:"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Validate()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestGlob(t *testing.T) {
	for _, tt := range []struct {
		glob, s string
		match   bool
	}{
		{"HTTP/*", "http/web.corp.example.test/x", true}, // '*' crosses '/'
		{"HTTP/*", "HOST/web", false},
		{"*/svexpgg31?", "HTTP/SVEXPGG310", true},
		{"*/svexpgg31?", "HTTP/svexpgg3100", false},
		{"HTTP/svexpgg31[0-2]", "HTTP/svexpgg312", true},
		{"HTTP/svexpgg31[!0-2]", "HTTP/svexpgg312", false},
		{`CORP\svc_*`, `corp\SVC_iispool`, true},
		{"a.b", "axb", false}, // '.' is literal
		{"(x)+", "(x)+", true},
		{"[]]", "]", true},
	} {
		re, err := compileGlob(tt.glob)
		if err != nil {
			t.Fatalf("compileGlob(%q): %v", tt.glob, err)
		}
		if got := re.MatchString(tt.s); got != tt.match {
			t.Errorf("glob %q on %q = %v, want %v", tt.glob, tt.s, got, tt.match)
		}
	}
}

// TestAccountPatternNeedsEveryAccount: an account pattern suppresses a finding
// that names several accounts only when all of them match. Otherwise anyone
// who can write an SPN could copy an ignored account's SPN onto another
// account and the duplicate would be hidden by the ignored account's entry.
func TestAccountPatternNeedsEveryAccount(t *testing.T) {
	snap := snapshot(
		computer("web1", nil),
		user("svc_ignored", []string{"HTTP/app.corp.example.test"}),
		user("svc_victim", []string{"HTTP/app.corp.example.test"}),
	)
	for _, tt := range []struct {
		name, account string
		rule          string
		want          []string // suppressed findings (summaries)
	}{
		{"one of the duplicate's accounts", "svc_ignored", RuleDuplicateSPN, nil},
		{"one of them by DN", "CN=svc_ignored,*", RuleDuplicateSPN, nil},
		{"both of the duplicate's accounts", "svc_*", RuleDuplicateSPN,
			[]string{"high HTTP/app.corp.example.test svc_ignored,svc_victim"}},
		{"a single-account finding", "svc_ignored", RuleKerberoastableAccount, []string{"medium svc_ignored"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := Run(snap, Config{Ignore: []Suppression{{Rule: tt.rule, Account: tt.account, Reason: "accepted", Owner: "iam"}}})
			var got []string
			for _, f := range res.Suppressed {
				got = append(got, summary(f.Finding))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("suppressed %q, want %q", got, tt.want)
			}
		})
	}
}

// TestSuppressionUntil: a suppression applies through its until day (UTC)
// and, from the next day on, suppresses nothing and is reported as expired.
// The reference time is Config.Now, else the snapshot's start: the audit
// never reads the clock.
func TestSuppressionUntil(t *testing.T) {
	snap := snapshot(computer("web1", nil), user("svc_old", []string{"HTTP/gone.corp.example.test"}))
	day := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name    string
		until   string
		now     time.Time // Config.Now
		started time.Time // Snapshot.Started
		expired bool
	}{
		{"no until never expires", "", day.AddDate(10, 0, 0), time.Time{}, false},
		{"the day before", "2026-06-30", day.Add(-time.Second), time.Time{}, false},
		{"the last second of the day", "2026-06-30", day.Add(24*time.Hour - time.Second), time.Time{}, false},
		{"the next day", "2026-06-30", day.Add(24 * time.Hour), time.Time{}, true},
		{"a year later", "2026-06-30", day.AddDate(1, 0, 0), time.Time{}, true},
		{"the snapshot's start when Config.Now is zero", "2026-06-30", time.Time{}, day.AddDate(0, 0, 2), true},
		{"Config.Now wins over the snapshot's start", "2026-06-30", day, day.AddDate(0, 0, 2), false},
		{"no reference time cannot prove it current", "2026-06-30", time.Time{}, time.Time{}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := *snap
			s.Started = tt.started
			sup := Suppression{Rule: RuleGhostSPN, SPN: "HTTP/gone.*", Reason: "retired", Owner: "web-team", Until: tt.until}
			res := Run(&s, Config{Now: tt.now, Ignore: []Suppression{sup}})
			ghostActive := slices.ContainsFunc(res.Findings, func(f Finding) bool { return f.Rule == RuleGhostSPN })
			if ghostActive != tt.expired {
				t.Errorf("ghost finding active = %v, want %v", ghostActive, tt.expired)
			}
			if want := tt.expired; (len(res.ExpiredSuppressions) == 1) != want || len(res.ExpiredSuppressions) > 1 {
				t.Errorf("ExpiredSuppressions = %v, want expired %v", res.ExpiredSuppressions, want)
			}
			if tt.expired && res.ExpiredSuppressions[0] != sup {
				t.Errorf("ExpiredSuppressions[0] = %+v, want %+v", res.ExpiredSuppressions[0], sup)
			}
		})
	}
}
