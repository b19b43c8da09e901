package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/internal/labtest"
	"github.com/spnaudit/spnaudit/lab"
)

// TestLabIIS runs the IIS rules against the lab DC's farm (OU=Farm, read
// only): with iis.config_files in the configuration, scan finds each
// problem planted in lab/iis and nothing on svexpgg310; the farm imported
// from the same files plans what the hand-written farm plans.
func TestLabIIS(t *testing.T) {
	l := labtest.Require(t)
	clearEnv(t)
	files := make([]string, len(labIIS))
	for i, f := range labIIS {
		abs, err := filepath.Abs(f)
		if err != nil {
			t.Fatal(err)
		}
		files[i] = abs
	}
	config := labConfigFile(t, l, map[string]any{"ldap.base_dn": farmDN, "iis.config_files": files})
	r := spnaudit(t, false, "scan", "--config", config, "--format", "json", "--fail-on", "none")
	if r.status != 0 || r.stderr != "" {
		t.Fatalf("status %d, stderr %q", r.status, r.stderr)
	}
	want := slices.Sorted(slices.Values(labIISFindings))
	if got := iisFindings(t, r.stdout); !slices.Equal(got, want) {
		t.Errorf("IIS findings against the lab DC:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}

	// scan --iis overrides iis.config_files: the correct node alone finds nothing.
	r = spnaudit(t, false, "scan", "--config", config, "--iis", files[0], "--format", "json", "--fail-on", "none")
	if got := iisFindings(t, r.stdout); r.status != 0 || len(got) != 0 {
		t.Errorf("svexpgg310 alone: status %d, IIS findings %q, stderr %q", r.status, got, r.stderr)
	}

	imported := labConfigFile(t, l, map[string]any{"ldap.base_dn": farmDN})
	if r := spnaudit(t, false, append([]string{"iis", "import", "-q", "--write", imported}, files...)...); r.status != 0 {
		t.Fatalf("iis import --write: status %d, %s", r.status, r.stderr)
	}
	byHand := labConfigFile(t, l, map[string]any{"ldap.base_dn": farmDN, "farms": []any{lab.FarmConfig()}})
	fromIIS, handPlan := spnaudit(t, false, "plan", "--config", imported), spnaudit(t, false, "plan", "--config", byHand)
	if fromIIS.status != 0 || handPlan.status != 0 || fromIIS.stdout != handPlan.stdout || !strings.Contains(fromIIS.stdout, "setspn") {
		t.Errorf("plan from the imported farm (status %d, %s):\n%s\nby hand (status %d, %s):\n%s",
			fromIIS.status, fromIIS.stderr, fromIIS.stdout, handPlan.status, handPlan.stderr, handPlan.stdout)
	}
}
