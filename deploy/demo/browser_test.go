package demo

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// screenshotSize is the browser window of the screenshot, docs/landing.png:
// the summary and the farm's picture above the fold.
const screenshotWidth, screenshotHeight = 1400, 1300

// checkInBrowser loads the landing page in a headless Chromium, checks the
// rendered DOM as checkLandingPage, checkSummary and checkFarmPicture do,
// then a filtered view, and saves a screenshot in the test's artifact
// directory (go test -artifacts -outputdir DIR keeps it; with
// SPNAUDIT_UPDATE_SCREENSHOT=1 it replaces docs/landing.png).
func (d *demo) checkInBrowser(t *testing.T) {
	dom := string(chromium(t, "--dump-dom", d.spnaudit+"/"))
	checkLandingPage(t, dom)
	checkSummary(t, dom)
	checkFarmPicture(t, dom)
	checkFilteredView(t, string(chromium(t, "--dump-dom", d.spnaudit+filteredView)))

	shot := filepath.Join(t.ArtifactDir(), "landing.png")
	chromium(t, "--screenshot="+shot, fmt.Sprintf("--window-size=%d,%d", screenshotWidth, screenshotHeight), "--hide-scrollbars", d.spnaudit+"/")
	raw, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("screenshot %s: %v", shot, err)
	}
	if b := img.Bounds(); b.Dx() != screenshotWidth || b.Dy() != screenshotHeight {
		t.Errorf("screenshot is %dx%d, want %dx%d", b.Dx(), b.Dy(), screenshotWidth, screenshotHeight)
	}
	t.Logf("screenshot of the landing page: %s", shot)
	if os.Getenv("SPNAUDIT_UPDATE_SCREENSHOT") != "" {
		if err := os.WriteFile(filepath.Join(d.root, "docs", "landing.png"), raw, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("replaced docs/landing.png")
	}
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
