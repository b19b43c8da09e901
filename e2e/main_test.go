package e2e

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/internal/labtest"
	"github.com/spnaudit/spnaudit/lab"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// buildVersion is stamped into the binary under test, so spnaudit_build_info
// can be checked.
const buildVersion = "0.0.0-e2e"

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// spnauditBinary builds cmd/spnaudit with go build, once per test binary
// (linking takes seconds), into a directory removed when the tests end.
func spnauditBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "spnaudit-e2e-"); buildErr != nil {
			return
		}
		ldflags := "-X github.com/prometheus/common/version.Version=" + buildVersion +
			" -X github.com/prometheus/common/version.Revision=e2e"
		cmd := exec.Command(goTool(), "build", "-ldflags", ldflags, "-o", filepath.Join(buildDir, "spnaudit"),
			"github.com/spnaudit/spnaudit/cmd/spnaudit")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(buildDir, "spnaudit")
}

func goTool() string {
	if path, err := exec.LookPath("go"); err == nil {
		return path
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// skipShort skips an end-to-end test under go test -short (make test-unit).
func skipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: runs the lab DC and spnaudit serve")
	}
}

// requireBinary returns path when the program is installed; a missing one
// skips the test, except under CI=true (lab/install.sh installs it).
func requireBinary(t testing.TB, path, debianPackage string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		labtest.Unavailable(t, fmt.Sprintf("%s is missing (apt-get install %s)", path, debianPackage))
	}
	return path
}

// process is a program started by a test; t.Cleanup stops it.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	err     error // how it exited, once done is closed
}

// startProcess starts path with args, its output going to a log file whose
// tail is shown when the test fails.
func startProcess(t testing.TB, name, path string, env []string, args ...string) *process {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr, cmd.Env = logFile, logFile, env
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		if err := p.stop(); err != nil && !errors.Is(err, errAlreadyStopped) {
			t.Logf("%s: %v", name, err)
		}
		if t.Failed() {
			t.Logf("%s output (last lines):\n%s", name, tail(logPath, 40))
		}
	})
	return p
}

var errAlreadyStopped = errors.New("already stopped")

// stop sends SIGTERM, waits up to 10 seconds for a clean exit, then kills.
// It returns how the process exited.
func (p *process) stop() error {
	select {
	case <-p.done:
		return errAlreadyStopped
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within 10s of SIGTERM: killed", p.name)
	}
}

func (p *process) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func tail(path string, lines int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

// freeAddress returns a loopback address nobody listens on right now.
func freeAddress(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitUntil checks cond every 100ms until it holds, for at most timeout, and
// returns how long that took.
func waitUntil(t testing.TB, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > timeout {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(start)
}

var httpClient = &http.Client{Timeout: 5 * time.Second}

// get returns the status and body of url; status 0 when nothing answers.
func get(url string) (int, string) {
	res, err := httpClient.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err.Error()
	}
	return res.StatusCode, string(body)
}

// sample returns the value of one series of a text exposition, the series
// written as client_golang writes it (labels sorted by name).
func sample(exposition, series string) (float64, bool) {
	for _, line := range strings.Split(exposition, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			return v, err == nil
		}
	}
	return 0, false
}

// daemonConfig is what a test varies in spnaudit's configuration.
type daemonConfig struct {
	URL              string // default lab.LDAPURL()
	ServicePrincipal string // default ldap/<host of URL>
	BaseDN           string
	SASLSecurity     string // default auto
	PollInterval     time.Duration
	FullInterval     time.Duration // default 1h
}

// serveProcess is a running `spnaudit serve`.
type serveProcess struct {
	*process
	url string // http://host:port
}

// startDaemon writes a configuration for the lab's audit account and starts
// `spnaudit serve` with it, then waits until it is ready (first scan done).
func startDaemon(t testing.TB, l *lab.Lab, c daemonConfig) *serveProcess {
	t.Helper()
	if c.URL == "" {
		c.URL = lab.LDAPURL()
	}
	if c.SASLSecurity == "" {
		c.SASLSecurity = "auto"
	}
	if c.FullInterval == 0 {
		c.FullInterval = time.Hour
	}
	listen := freeAddress(t)
	dir := t.TempDir() // the configuration and the state directory
	config := fmt.Sprintf(`ldap:
  urls: [%q]
  service_principal: %q
  base_dn: %q
  sasl_security: %s
  timeout: 5s
kerberos:
  principal: %s@%s
  keytab: %s
  krb5_conf: %s
scan:
  poll_interval: %s
  full_interval: %s
  timeout: 20s
web:
  listen_address: %s
state:
  dir: %s
`, c.URL, c.ServicePrincipal, c.BaseDN, c.SASLSecurity, lab.AuditUser, lab.Realm, l.Keytab(), l.Krb5Conf(),
		c.PollInterval, c.FullInterval, listen, filepath.Join(dir, "state"))
	path := filepath.Join(dir, "spnaudit.yaml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	d := &serveProcess{
		process: startProcess(t, "spnaudit", spnauditBinary(t), cleanEnv(), "serve", "--config", path),
		url:     "http://" + listen,
	}
	waitUntil(t, time.Minute, "spnaudit to be ready", func() bool {
		if !d.running() {
			t.Fatalf("spnaudit exited: %v\n%s", d.err, tail(d.logPath, 20))
		}
		status, _ := get(d.url + "/-/ready")
		return status == http.StatusOK
	})
	return d
}

// metrics scrapes /metrics.
func (d *serveProcess) metrics(t testing.TB) string {
	t.Helper()
	status, body := get(d.url + "/metrics")
	if status != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", status, body)
	}
	return body
}

// cleanEnv is the environment without SPNAUDIT_ variables, so only the
// test's configuration file applies.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SPNAUDIT_") {
			env = append(env, kv)
		}
	}
	return env
}

// farmCopy is a small copy of the IIS farm of lab/scenarios/farm.yaml in its
// own OU, every name starting with a prefix of its own, so that a test may
// change it while other packages read OU=Farm: a VIP with a DNS record whose
// HTTP SPNs the pool account holds, two web nodes whose computer accounts
// hold HOST SPNs, and a second service account without SPNs. It starts with
// no duplicate and no alias conflict.
type farmCopy struct {
	*lab.Scenario
	VIP, Node1, Node2 string // host names (NetBIOS form)
	Pool, Other       string // DNs of the pool account and the second account
}

func newFarmCopy(ou, prefix, vipIP string) *farmCopy {
	fqdn := func(host string) string { return host + "." + lab.DNSDomain }
	vip, node1, node2 := prefix+"lb", prefix+"web1", prefix+"web2"
	aes := uint32(24)
	aesMachine := uint32(28)
	sc := &lab.Scenario{
		Name: strings.ToLower(ou),
		OU:   ou,
		DNS:  []lab.DNSName{{Name: vip, IP: vipIP}},
		Computers: []lab.Computer{
			{Name: node1, SPNs: []string{"HOST/" + node1, "HOST/" + fqdn(node1)}, EncryptionTypes: &aesMachine},
			{Name: node2, SPNs: []string{"HOST/" + node2, "HOST/" + fqdn(node2)}, EncryptionTypes: &aesMachine},
		},
		Users: []lab.User{
			{Name: prefix + "_pool", EncryptionTypes: &aes, SPNs: []string{"HTTP/" + vip, "HTTP/" + fqdn(vip)},
				Description: "IIS application pool identity of the " + ou + " farm"},
			{Name: prefix + "_other", EncryptionTypes: &aes},
		},
	}
	return &farmCopy{Scenario: sc, VIP: vip, Node1: node1, Node2: node2,
		Pool: sc.AccountDN(prefix + "_pool"), Other: sc.AccountDN(prefix + "_other")}
}
