package deploy

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/internal/labtest"
)

const unitFile = "systemd/spnaudit.service"

func systemdAnalyze(t *testing.T, args ...string) (string, error) {
	t.Helper()
	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		labtest.Unavailable(t, "systemd-analyze is not installed")
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, tool, args...).CombinedOutput()
	return string(out), err
}

// systemd-analyze verify checks every directive; the binary is not installed
// here, so ExecStart points at /bin/true for the check.
func TestSystemdUnitVerifies(t *testing.T) {
	unit := regexp.MustCompile(`(?m)^ExecStart=.*$`).ReplaceAll(readFile(t, unitFile), []byte("ExecStart=/bin/true"))
	path := filepath.Join(t.TempDir(), "spnaudit.service")
	if err := os.WriteFile(path, unit, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := systemdAnalyze(t, "verify", path); err != nil || out != "" {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// The unit stays hardened: systemd's exposure score (0 best, 10 worst, shown
// as 1.1 today) must stay at or below 2.0.
func TestSystemdUnitIsHardened(t *testing.T) {
	if out, err := systemdAnalyze(t, "security", "--offline=yes", "--threshold=20", unitFile); err != nil {
		t.Errorf("exposure above 2.0: %v\n%s", err, out)
	}
	unit := string(readFile(t, unitFile))
	for _, directive := range []string{
		"DynamicUser=yes", "NoNewPrivileges=yes", "ProtectSystem=strict", "CapabilityBoundingSet=\n",
		"LoadCredential=spnaudit.keytab:", "Environment=SPNAUDIT_KERBEROS_KEYTAB=%d/spnaudit.keytab",
		"StateDirectory=spnaudit\n", "Environment=SPNAUDIT_STATE_DIR=%S/spnaudit\n",
	} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(directive)).MatchString(unit) {
			t.Errorf("unit lacks %q", directive)
		}
	}
}

// Docker cannot run here; these are the properties the image must keep.
func TestDockerfileBuildsStaticNonRootImage(t *testing.T) {
	dockerfile := string(readFile(t, filepath.Join("..", "Dockerfile")))
	for what, pattern := range map[string]string{
		"a Go build stage":            `(?m)^FROM golang:\S+ AS build$`,
		"a static build":              `(?m)CGO_ENABLED=0 go build `,
		"the spnaudit command":        `(?m)-o /out/spnaudit \./cmd/spnaudit$`,
		"a distroless or scratch run": `(?m)^FROM (gcr\.io/distroless/static\S*|scratch)$`,
		"the binary from the build":   `(?m)^COPY --from=build /out/spnaudit `,
		"a non-root user":             `(?m)^USER (nonroot|[1-9][0-9]*)(:\S+)?$`,
		"the metrics port":            `(?m)^EXPOSE 9688$`,
	} {
		if !regexp.MustCompile(pattern).MatchString(dockerfile) {
			t.Errorf("Dockerfile lacks %s (%s)", what, pattern)
		}
	}
	// The last stage decides the image: it must not switch back to root.
	last := regexp.MustCompile(`(?m)^FROM `).FindAllStringIndex(dockerfile, -1)
	final := dockerfile[last[len(last)-1][0]:]
	if regexp.MustCompile(`(?m)^USER (root|0)\b`).MatchString(final) || !regexp.MustCompile(`(?m)^USER `).MatchString(final) {
		t.Error("the final stage does not end as a non-root USER")
	}
}
