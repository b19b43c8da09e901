package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/internal/labtest"
)

const (
	// farmDuplicate is the duplicate SPN of lab/scenarios/farm.yaml.
	farmDuplicate = "HTTP/svexpgg311.corp.example.test"
	// brokenDuplicate is the one lab/break duplicate adds.
	brokenDuplicate = "HTTP/svexpgg310.corp.example.test"
	// alertWithin is the promise: an alert within a minute.
	alertWithin = time.Minute
)

// demo is a running `make demo` on ports of its own.
type demo struct {
	root string   // the repository
	env  []string // demo.sh's environment
	dir  string   // SPNAUDIT_DEMO_DIR

	spnaudit, prometheus, alertmanager string // base URLs
}

// TestDemo runs the README's demo non-interactively: make demo, the landing
// page over HTTP and in a headless Chromium, lab/break duplicate firing the
// DuplicateSPN alert in Alertmanager within a minute, lab/fix all clearing it.
// It writes OU=Farm, so it holds the lab's farm lock exclusively; the lab
// itself stays up afterwards, only the demo's processes are stopped.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the lab DC, Prometheus, Alertmanager and Chromium")
	}
	for _, tool := range []string{"/usr/bin/prometheus", "/usr/bin/prometheus-alertmanager", "/usr/bin/chromium", "make", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			labtest.Unavailable(t, tool+" is not installed")
		}
	}
	labtest.RequireFarmWriter(t)
	d := startDemo(t)

	t.Run("landing page", func(t *testing.T) {
		checkLandingPage(t, d.get(t, d.spnaudit+"/"))
	})
	t.Run("browser", func(t *testing.T) {
		d.checkInBrowser(t)
	})
	t.Run("the farm's duplicate alerts", func(t *testing.T) {
		if took, ok := d.waitAlert(t, farmDuplicate, true, 3*time.Minute); !ok {
			t.Fatalf("no DuplicateSPN alert for %s in Alertmanager %s after %s", farmDuplicate, took, d.alertmanager)
		}
		if d.alertActive(t, brokenDuplicate) {
			t.Fatalf("DuplicateSPN alert for %s before lab/break duplicate", brokenDuplicate)
		}
	})
	if !t.Run("lab/break duplicate fires DuplicateSPN", func(t *testing.T) {
		d.lab(t, "break", "duplicate")
		took, ok := d.waitAlert(t, brokenDuplicate, true, alertWithin)
		if !ok {
			t.Fatalf("no DuplicateSPN alert for %s in Alertmanager within %s of lab/break", brokenDuplicate, alertWithin)
		}
		t.Logf("DuplicateSPN for %s in Alertmanager %s after lab/break duplicate", brokenDuplicate, took.Round(time.Second))
	}) {
		return
	}
	t.Run("lab/fix all clears it", func(t *testing.T) {
		d.lab(t, "fix", "all")
		took, ok := d.waitAlert(t, brokenDuplicate, false, alertWithin)
		if !ok {
			t.Fatalf("DuplicateSPN alert for %s still active %s after lab/fix all", brokenDuplicate, alertWithin)
		}
		t.Logf("DuplicateSPN for %s resolved %s after lab/fix all", brokenDuplicate, took.Round(time.Second))
		// The farm's own duplicate is still there: Alertmanager still hears
		// from Prometheus, so the absence above means resolved.
		if !d.alertActive(t, farmDuplicate) {
			t.Errorf("DuplicateSPN alert for %s resolved too, but lab/fix all keeps it", farmDuplicate)
		}
	})
}

// startDemo runs make demo on free ports in a directory of its own, and
// stops it (not the lab) when the test ends.
func startDemo(t *testing.T) *demo {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "spnaudit-demo-test-")
	if err != nil {
		t.Fatal(err)
	}
	ports := freePorts(t, 3)
	d := &demo{
		root: root,
		dir:  dir,
		env: append(os.Environ(),
			"SPNAUDIT_DEMO_DIR="+dir,
			"SPNAUDIT_DEMO_SPNAUDIT_PORT="+strconv.Itoa(ports[0]),
			"SPNAUDIT_DEMO_PROMETHEUS_PORT="+strconv.Itoa(ports[1]),
			"SPNAUDIT_DEMO_ALERTMANAGER_PORT="+strconv.Itoa(ports[2]),
		),
		spnaudit:     fmt.Sprintf("http://127.0.0.1:%d", ports[0]),
		prometheus:   fmt.Sprintf("http://127.0.0.1:%d", ports[1]),
		alertmanager: fmt.Sprintf("http://127.0.0.1:%d", ports[2]),
	}
	t.Cleanup(func() {
		if t.Failed() {
			d.showLogs(t)
		}
		if out, err := d.run(2*time.Minute, "bash", "deploy/demo/demo.sh", "stop"); err != nil {
			t.Errorf("demo.sh stop: %v\n%s", err, out)
		}
		os.RemoveAll(dir)
	})
	start := time.Now()
	out, err := d.run(15*time.Minute, "make", "--no-print-directory", "demo")
	if err != nil {
		t.Fatalf("make demo: %v\n%s", err, out)
	}
	t.Logf("make demo took %s", time.Since(start).Round(time.Second))
	for _, want := range []string{d.spnaudit + "/", d.prometheus + "/alerts", d.alertmanager, "lab/break duplicate", "lab/break alias-conflict", "lab/fix all", "spnaudit plan --config"} {
		if !strings.Contains(out, want) {
			t.Errorf("make demo does not print %q:\n%s", want, out)
		}
	}
	return d
}

// run runs a command in the repository with the demo's environment and
// returns its combined output.
func (d *demo) run(timeout time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = d.root, d.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// lab runs lab/break or lab/fix.
func (d *demo) lab(t *testing.T, verb, what string) {
	t.Helper()
	if out, err := d.run(3*time.Minute, "./lab/"+verb, what); err != nil {
		t.Fatalf("lab/%s %s: %v\n%s", verb, what, err, out)
	}
}

func (d *demo) showLogs(t *testing.T) {
	for _, name := range []string{"spnaudit", "prometheus", "alertmanager"} {
		raw, err := os.ReadFile(filepath.Join(d.dir, name+".log"))
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
		t.Logf("last lines of %s.log:\n%s", name, strings.Join(lines[max(0, len(lines)-15):], "\n"))
	}
}

func (d *demo) get(t *testing.T, u string) string {
	t.Helper()
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", u, resp.Status, body)
	}
	return string(body)
}

// alertActive asks Alertmanager whether an active DuplicateSPN alert
// carries spn in its spn label (resolved alerts are not listed).
func (d *demo) alertActive(t *testing.T, spn string) bool {
	t.Helper()
	q := url.Values{"filter": {`alertname="DuplicateSPN"`}, "active": {"true"}}
	var alerts []struct {
		Labels map[string]string `json:"labels"`
		Status struct {
			State string `json:"state"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(d.get(t, d.alertmanager+"/api/v2/alerts?"+q.Encode())), &alerts); err != nil {
		t.Fatalf("Alertmanager /api/v2/alerts: %v", err)
	}
	for _, a := range alerts {
		if strings.EqualFold(a.Labels["spn"], spn) && a.Status.State == "active" {
			return true
		}
	}
	return false
}

// waitAlert polls Alertmanager until the DuplicateSPN alert for spn is
// active (or, with active false, gone), for at most within; it returns how
// long it took and whether it happened.
func (d *demo) waitAlert(t *testing.T, spn string, active bool, within time.Duration) (time.Duration, bool) {
	t.Helper()
	start := time.Now()
	for {
		if d.alertActive(t, spn) == active {
			return time.Since(start), true
		}
		if time.Since(start) > within {
			return time.Since(start), false
		}
		time.Sleep(time.Second)
	}
}

// freePorts returns n distinct ports that were free a moment ago.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}
