package audit

import (
	"strings"
	"testing"
)

func TestSuppressionValidate(t *testing.T) {
	for _, tt := range []struct {
		name string
		s    Suppression
		want string // error substring; "" for valid
	}{
		{"valid SPN pattern", Suppression{Rule: RuleGhostSPN, SPN: "HTTP/old*", Reason: "decommissioning in Q3"}, ""},
		{"valid account pattern with backslash", Suppression{Rule: "kerberoastable-*", Account: `CORP\svc_*`, Reason: "gMSA migration ticket 42"}, ""},
		{"no reason", Suppression{Rule: RuleGhostSPN, SPN: "*"}, "reason"},
		{"blank reason", Suppression{Rule: RuleGhostSPN, SPN: "*", Reason: "  "}, "reason"},
		{"no rule", Suppression{SPN: "*", Reason: "x"}, "rule: missing"},
		{"unknown rule", Suppression{Rule: "duplicate-spns", SPN: "*", Reason: "x"}, "matches no rule"},
		{"no pattern", Suppression{Rule: RuleGhostSPN, Reason: "x"}, "set at least one pattern"},
		{"bad class", Suppression{Rule: RuleGhostSPN, SPN: "HTTP/[a", Reason: "x"}, "unterminated"},
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
