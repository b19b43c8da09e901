package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// The Debian packages lab/install.sh installs.
const (
	prometheusBinary   = "/usr/bin/prometheus"
	alertmanagerBinary = "/usr/bin/prometheus-alertmanager"
)

// testRuleTiming replaces every group interval and every alert's `for` in
// the test copy of deploy/prometheus/alerts.yml: the shipped values (15s
// evaluations, `for` from 15s to 15m) would make the test wait minutes.
const testRuleTiming = "1s"

// notification is one alert as the Alertmanager webhook delivered it.
type notification struct {
	At     time.Time
	Status string // firing or resolved
	Labels map[string]string
}

// webhook is the Alertmanager receiver: the test itself.
type webhook struct {
	mu            sync.Mutex
	notifications []notification
	url           string
}

func newWebhook(t testing.TB) *webhook {
	w := &webhook{}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var payload struct {
			Alerts []struct {
				Status string            `json:"status"`
				Labels map[string]string `json:"labels"`
			} `json:"alerts"`
		}
		if err := json.NewDecoder(r.Body).Decode(&payload); err != nil {
			t.Errorf("webhook: %v", err)
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		now := time.Now()
		w.mu.Lock()
		for _, a := range payload.Alerts {
			w.notifications = append(w.notifications, notification{At: now, Status: a.Status, Labels: a.Labels})
		}
		w.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	w.url = srv.URL
	return w
}

// received returns the notifications of alertname with the given spn label
// and status, in arrival order.
func (w *webhook) received(alertname, spn, status string) []notification {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []notification
	for _, n := range w.notifications {
		if n.Labels["alertname"] == alertname && n.Labels["spn"] == spn && n.Status == status {
			out = append(out, n)
		}
	}
	return out
}

// accounts lists the account labels of notifications, sorted and unique.
func accounts(ns []notification) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Labels["account"])
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// alertStack is a Prometheus scraping spnaudit with the shipped alert rules
// (timing shortened) and an Alertmanager notifying the test's webhook.
type alertStack struct {
	prometheusURL string
	webhook       *webhook
}

func startAlertStack(t testing.TB, target string) *alertStack {
	t.Helper()
	prometheus := requireBinary(t, prometheusBinary, "prometheus")
	alertmanager := requireBinary(t, alertmanagerBinary, "prometheus-alertmanager")
	dir := t.TempDir()
	hook := newWebhook(t)

	amAddr := freeAddress(t)
	amConfig := fmt.Sprintf(`route:
  receiver: test
  # As deploy/prometheus/alerts.yml recommends: one notification per SPN.
  group_by: [alertname, spn]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: test
    webhook_configs:
      - url: %s
        send_resolved: true
`, hook.url)
	writeFile(t, filepath.Join(dir, "alertmanager.yml"), amConfig)
	startProcess(t, "alertmanager", alertmanager, os.Environ(),
		"--config.file="+filepath.Join(dir, "alertmanager.yml"),
		"--storage.path="+filepath.Join(dir, "alertmanager"),
		"--web.listen-address="+amAddr,
		"--cluster.listen-address=") // no gossip
	waitReady(t, "http://"+amAddr)

	writeFile(t, filepath.Join(dir, "alerts.yml"), testRules(t))
	promAddr := freeAddress(t)
	promConfig := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [alerts.yml]
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
scrape_configs:
  - job_name: spnaudit
    static_configs:
      - targets: [%q]
`, amAddr, target)
	writeFile(t, filepath.Join(dir, "prometheus.yml"), promConfig)
	startProcess(t, "prometheus", prometheus, os.Environ(),
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "prometheus"),
		"--web.listen-address="+promAddr)
	stack := &alertStack{prometheusURL: "http://" + promAddr, webhook: hook}
	waitReady(t, stack.prometheusURL)
	waitUntil(t, 30*time.Second, "Prometheus to scrape spnaudit", func() bool {
		return stack.query(t, `up{job="spnaudit"} == 1`) > 0
	})
	return stack
}

func waitReady(t testing.TB, base string) {
	t.Helper()
	waitUntil(t, 30*time.Second, base+" to be ready", func() bool {
		status, _ := get(base + "/-/ready")
		return status == http.StatusOK
	})
}

// query runs an instant PromQL query and returns the number of series.
func (s *alertStack) query(t testing.TB, promql string) int {
	t.Helper()
	status, body := get(s.prometheusURL + "/api/v1/query?query=" + url.QueryEscape(promql))
	if status != http.StatusOK {
		return 0
	}
	var res struct {
		Data struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatalf("query %s: %v", promql, err)
	}
	return len(res.Data.Result)
}

// testRules is deploy/prometheus/alerts.yml with every group interval and
// every `for` set to testRuleTiming, all else unchanged.
func testRules(t testing.TB) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "deploy", "prometheus", "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		t.Fatal(err)
	}
	changed := 0
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if key := n.Content[i].Value; key == "for" || key == "interval" {
					n.Content[i+1].Value = testRuleTiming
					changed++
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&doc)
	if changed == 0 {
		t.Fatal("alerts.yml: no interval or for to shorten")
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("alert rules: test copy of deploy/prometheus/alerts.yml with %d group intervals and `for` durations set to %s", changed, testRuleTiming)
	return string(out)
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
