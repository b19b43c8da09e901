package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/version"

	"github.com/spnaudit/spnaudit/internal/labtest"
	"github.com/spnaudit/spnaudit/internal/promtooltest"
	"github.com/spnaudit/spnaudit/lab"
)

// volatileSeries are the spnaudit series whose values change from run to run.
// The finding date series: when this run first saw a finding, when the lab
// wrote the farm's SPNs.
var volatileSeries = regexp.MustCompile(`^(spnaudit_scan_last_success_timestamp_seconds|spnaudit_scan_duration_seconds|spnaudit_kerberos_tgt_expiry_timestamp_seconds` +
	`|spnaudit_finding_first_seen_timestamp_seconds|spnaudit_finding_spn_changed_timestamp_seconds)(\{[^}]*\})? .*$`)

var buildInfoLabels = regexp.MustCompile(`^spnaudit_build_info\{[^}]*\}`)

// TestMetricsGolden: /metrics of `spnaudit serve` after its first scan of the
// lab's IIS farm (OU=Farm, read only) passes `promtool check metrics` and
// matches testdata/farm.prom, volatile values masked (go test -update
// rewrites it). SIGTERM then stops the daemon cleanly.
func TestMetricsGolden(t *testing.T) {
	skipShort(t)
	l := labtest.Require(t)
	// No poll during the test: the counters are those of the first scan.
	d := startDaemon(t, l, daemonConfig{BaseDN: "OU=Farm," + lab.BaseDN, PollInterval: time.Hour, FullInterval: 2 * time.Hour})
	scrape := d.metrics(t)

	if out, err := promtooltest.Run(t, []byte(scrape), "check", "metrics"); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
	buildInfo := `spnaudit_build_info{goversion="` + version.GoVersion + `",revision="e2e",version="` + buildVersion + `"} 1`
	if !strings.Contains(scrape, buildInfo+"\n") {
		t.Errorf("/metrics lacks %s", buildInfo)
	}

	got := maskVolatile(scrape)
	path := filepath.Join("testdata", "farm.prom")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, path, got)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("/metrics differs from %s (go test -update after checking the change):\n%s", path, lineDiff(string(want), got))
	}

	if err := d.stop(); err != nil {
		t.Errorf("spnaudit on SIGTERM: %v, want a clean exit", err)
	}
}

// maskVolatile keeps the spnaudit families of an exposition with their
// volatile values and the build labels replaced by <masked>.
func maskVolatile(exposition string) string {
	var b strings.Builder
	for _, line := range strings.Split(exposition, "\n") {
		if !strings.HasPrefix(line, "spnaudit_") && !strings.HasPrefix(line, "# HELP spnaudit_") && !strings.HasPrefix(line, "# TYPE spnaudit_") {
			continue
		}
		line = volatileSeries.ReplaceAllString(line, "$1$2 <masked>")
		line = buildInfoLabels.ReplaceAllString(line, "spnaudit_build_info{<masked>}")
		b.WriteString(line + "\n")
	}
	return b.String()
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	count := map[string]int{}
	for _, l := range strings.Split(want, "\n") {
		count[l]++
	}
	for _, l := range strings.Split(got, "\n") {
		count[l]--
	}
	var out []string
	for _, l := range strings.Split(want, "\n") {
		if count[l] > 0 {
			out = append(out, "- "+l)
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if count[l] < 0 {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}
