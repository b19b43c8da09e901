package demo

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// checkInBrowser loads the landing page in a headless Chromium, checks the
// rendered DOM as checkLandingPage does, and saves a screenshot in the test's
// artifact directory (go test -artifacts -outputdir DIR keeps it).
func (d *demo) checkInBrowser(t *testing.T) {
	dom := chromium(t, "--dump-dom", d.spnaudit+"/")
	checkLandingPage(t, string(dom))

	shot := filepath.Join(t.ArtifactDir(), "landing.png")
	chromium(t, "--screenshot="+shot, "--window-size=1400,1000", d.spnaudit+"/")
	raw, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("screenshot %s: %v", shot, err)
	}
	if b := img.Bounds(); b.Dx() != 1400 || b.Dy() != 1000 {
		t.Errorf("screenshot is %dx%d, want 1400x1000", b.Dx(), b.Dy())
	}
	t.Logf("screenshot of the landing page: %s", shot)
}

// chromium runs a headless Chromium with a fresh profile and returns its
// standard output.
func chromium(t *testing.T, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/chromium", append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(),
	}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.Bytes()
}
