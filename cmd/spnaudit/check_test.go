package main

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/report"
)

func TestCheck(t *testing.T) {
	clearEnv(t)
	for _, tc := range []struct {
		name, spn, account string
		status             int
		rules              []string // distinct rules of the findings
	}{
		{"held by two objects already", "HTTP/svexpgg311.corp.example.test", "svc_new", 1, []string{"duplicate-spn"}},
		{"held by another account, other case", "http/SVNLB301", `CORP\svc_intranet`, 1, []string{"duplicate-spn"}},
		{"the HOST alias trap", "HTTP/app01", "svc_intranet", 1, []string{"host-alias-conflict"}},
		{"the alias trap, DNS form, by DN", "CIFS/app01.corp.example.test", "CN=svc_backup,OU=Farm,DC=corp,DC=example,DC=test", 1, []string{"host-alias-conflict"}},
		{"malformed", "HTTP/web 01", "svc_intranet", 1, []string{"malformed-spn"}},
		{"the missing DNS form is safe", "HTTP/intranet.corp.example.test", `CORP\svc_intranet`, 0, nil},
		{"a port-qualified SPN is not covered by HOST", "HTTP/svexpgg310:8080", "svc_iispool", 0, nil},
		{"a class HOST does not cover", "MSSQLSvc/app01.corp.example.test:1433", "svc_backup", 0, nil},
		{"WSMAN is not in sPNMappings", "WSMAN/app01.corp.example.test", "svc_backup", 0, nil},
		{"HOST's own alias on the machine itself", "HTTP/app01", "APP01$", 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := spnaudit(t, false, "check", tc.spn, "--account", tc.account, "--ldif", farmLDIF, "--format", "json")
			if r.status != tc.status || r.stderr != "" {
				t.Fatalf("status %d, stderr %q; want %d and nothing", r.status, r.stderr, tc.status)
			}
			rules, doc := rulesOf(t, r.stdout)
			if got := slices.Sorted(maps.Keys(rules)); !slices.Equal(got, tc.rules) {
				t.Errorf("rules %v; want %v", got, tc.rules)
			}
			for _, f := range doc.Findings {
				if !strings.EqualFold(f.SPN, tc.spn) || len(f.Remediation) == 0 {
					t.Errorf("finding %s for %q with %d fixes; want one for %q with fixes", f.Rule, f.SPN, len(f.Remediation), tc.spn)
				}
			}
		})
	}
}

func TestCheckTable(t *testing.T) {
	clearEnv(t)
	r := spnaudit(t, false, "check", "HTTP/intranet.corp.example.test", "--account", `CORP\svc_intranet`, "--ldif", farmLDIF)
	want := "OK: HTTP/intranet.corp.example.test can be added to CORP\\svc_intranet: well formed, not held by another object, no HOST alias conflict\n"
	if r.status != 0 || r.stdout != want {
		t.Errorf("safe: %d %q; want 0 %q", r.status, r.stdout, want)
	}
	if r = spnaudit(t, false, "check", "HTTP/intranet.corp.example.test", "--account", "svc_intranet", "--ldif", farmLDIF, "-q"); r.status != 0 || r.stdout != "" {
		t.Errorf("safe and quiet: %d %q; want 0 and nothing", r.status, r.stdout)
	}
	r = spnaudit(t, false, "check", "HTTP/app01", "--account", "svc_intranet", "--ldif", farmLDIF)
	if r.status != 1 || !strings.HasPrefix(r.stdout, "host-alias-conflict: 1 finding\n") ||
		!strings.Contains(r.stdout, `fix       # The explicit SPN wins over HOST/app01; remove it from CORP\svc_intranet:`) {
		t.Errorf("conflict: %d\n%s", r.status, r.stdout)
	}
	// JSON is always a whole document, also when it is safe.
	r = spnaudit(t, false, "check", "HTTP/intranet.corp.example.test", "--account", "svc_intranet", "--ldif", farmLDIF, "--format", "json", "-q")
	var doc report.Document
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.status != 0 || doc.Findings == nil || len(doc.Findings) != 0 {
		t.Errorf("safe as JSON: %d %v %q", r.status, err, r.stdout)
	}
}
