package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/prometheus/common/version"

	"github.com/spnaudit/spnaudit/config"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/ldapscan"
)

// gatedScanner answers every scan with the same small inventory, the first
// one only once the test opens the gate; it records the contexts it saw.
type gatedScanner struct {
	gate  chan struct{}
	calls chan context.Context
}

func newGatedScanner() *gatedScanner {
	return &gatedScanner{gate: make(chan struct{}), calls: make(chan context.Context, 100)}
}

func (s *gatedScanner) Scan(ctx context.Context) (*ldapscan.Result, error) {
	s.calls <- ctx
	select {
	case <-s.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	snap := &inventory.Snapshot{Started: time.Now(), Objects: []*inventory.Object{
		{DN: "CN=svc_a,DC=example,DC=test", SAMAccountName: "svc_a", Kind: inventory.KindUser, SPNs: []string{"HTTP/web.example.test"}},
		{DN: "CN=svc_b,DC=example,DC=test", SAMAccountName: "svc_b", Kind: inventory.KindUser, SPNs: []string{"HTTP/web.example.test"}},
	}}
	return &ldapscan.Result{Snapshot: snap, Stats: ldapscan.Stats{Mode: inventory.FullScan, Server: "ldap://dc1.example.test"}}, nil
}

func (s *gatedScanner) Poll(ctx context.Context, _ *ldapscan.Result) (*ldapscan.Result, error) {
	return s.Scan(ctx)
}

func serveTestConfig(listen string) *config.Config {
	cfg := config.Default()
	cfg.LDAP.URLs = []string{"ldap://dc1.example.test"}
	cfg.Web.ListenAddress = listen
	cfg.State.Dir = "" // no history: these tests drive a fake scanner
	return &cfg
}

func freeAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// httpGet returns the status and body, or status 0 while nothing listens.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	res, err := client.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(body)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRunServer: the server answers before the first scan (not ready, build
// info already there), becomes ready with the scan's findings, and stops
// with the daemon when the context ends.
func TestRunServer(t *testing.T) {
	version.Version, version.Revision = "1.2.3", "0123abcd"
	t.Cleanup(func() { version.Version, version.Revision = "", "" })
	addr := freeAddress(t)
	scanner := newGatedScanner()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- runServer(ctx, serveTestConfig(addr), scanner, nil, slog.New(slog.DiscardHandler))
	}()
	base := "http://" + addr
	eventually(t, "the server to listen", func() bool { status, _ := httpGet(t, base+"/-/healthy"); return status == 200 })

	if status, _ := httpGet(t, base+"/-/ready"); status != http.StatusServiceUnavailable {
		t.Errorf("/-/ready before the first scan: %d, want 503", status)
	}
	_, body := httpGet(t, base+"/metrics")
	if want := `spnaudit_build_info{goversion="` + version.GoVersion + `",revision="0123abcd",version="1.2.3"} 1`; !strings.Contains(body, want) {
		t.Errorf("/metrics lacks %s", want)
	}
	if strings.Contains(body, "spnaudit_findings{") {
		t.Error("/metrics has findings before any scan")
	}

	close(scanner.gate)
	eventually(t, "readiness", func() bool { status, _ := httpGet(t, base+"/-/ready"); return status == 200 })
	_, body = httpGet(t, base+"/metrics")
	for _, want := range []string{
		"spnaudit_scan_success 1",
		`spnaudit_findings{rule="duplicate-spn",severity="high"} 1`,
		`spnaudit_ldap_up{server="ldap://dc1.example.test"} 1`,
		`spnaudit_scan_failures_total{mode="incremental",stage="kerberos"} 0`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("runServer after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("runServer did not return after cancel")
	}
	if status, _ := httpGet(t, base+"/-/healthy"); status != 0 {
		t.Errorf("still serving after shutdown: %d", status)
	}
}

// TestRunServerListenError: when the address is taken, runServer returns the
// listen error and stops the scan it started.
func TestRunServerListenError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	scanner := newGatedScanner()
	done := make(chan error, 1)
	go func() {
		done <- runServer(t.Context(), serveTestConfig(l.Addr().String()), scanner, nil, slog.New(slog.DiscardHandler))
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "address already in use") {
			t.Fatalf("runServer on a taken address: %v, want address already in use", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("runServer did not return")
	}
	select {
	case scanCtx := <-scanner.calls:
		if scanCtx.Err() == nil {
			t.Error("the scan still runs after runServer returned")
		}
	default: // the daemon stopped before its first scan
	}
}

// TestServeFailsFast: a configuration that cannot log in stops serve at
// once with one line, before anything listens.
func TestServeFailsFast(t *testing.T) {
	addr := freeAddress(t)
	r := spnaudit(t, false, "serve", "--config", labConfig(t, ""), "--web.listen_address", addr)
	if r.status != 2 || r.stdout != "" || !strings.HasPrefix(r.stderr, "spnaudit: ") || strings.Count(r.stderr, "spnaudit: ") != 1 {
		t.Fatalf("serve with an unusable keytab: status %d, stdout %q, stderr %q; want 2 and one error line", r.status, r.stdout, r.stderr)
	}
	if status, _ := httpGet(t, "http://"+addr+"/-/healthy"); status != 0 {
		t.Errorf("something listens on %s after serve failed", addr)
	}
	r = spnaudit(t, false, "serve", "extra")
	if want := "spnaudit: unknown command \"extra\" for \"spnaudit serve\"; see 'spnaudit serve --help'\n"; r.status != 2 || r.stderr != want {
		t.Errorf("serve extra: %d %q; want 2 %q", r.status, r.stderr, want)
	}
}

// TestServeSurvivesOutage: with the KDC unreachable at start, serve does not
// exit: it listens, answers /-/healthy and /metrics with the failed scan and
// its stage, and keeps retrying until it is stopped.
func TestServeSurvivesOutage(t *testing.T) {
	dir := t.TempDir()
	kt := keytab.New()
	if err := kt.AddEntry("svc-spnaudit", "EXAMPLE.TEST", "not-a-real-password", time.Now(), 1, etypeID.AES256_CTS_HMAC_SHA1_96); err != nil {
		t.Fatal(err)
	}
	ktPath := filepath.Join(dir, "spnaudit.keytab")
	raw, err := kt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ktPath, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddress(t)
	cfg := serveTestConfig(addr)
	cfg.Kerberos.Realm, cfg.Kerberos.Principal, cfg.Kerberos.Keytab = "EXAMPLE.TEST", "svc-spnaudit", ktPath
	cfg.Kerberos.KDCs = []string{"127.0.0.1:1"} // nothing listens there
	cfg.Scan.PollInterval, cfg.Scan.Timeout = 100*time.Millisecond, 2*time.Second

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.DiscardHandler)) }()
	base := "http://" + addr
	eventually(t, "the server to listen", func() bool { status, _ := httpGet(t, base+"/-/healthy"); return status == 200 })
	eventually(t, "two failed scans at stage kerberos", func() bool {
		_, body := httpGet(t, base+"/metrics")
		return strings.Contains(body, `spnaudit_scan_failures_total{mode="full",stage="kerberos"} 2`+"\n") &&
			strings.Contains(body, "spnaudit_scan_success 0\n")
	})
	if status, _ := httpGet(t, base+"/-/ready"); status != http.StatusServiceUnavailable {
		t.Errorf("/-/ready with no successful scan: %d, want 503", status)
	}
	select {
	case err := <-done:
		t.Fatalf("serve returned during the outage: %v", err)
	default:
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return after cancel")
	}
}

// ldifScanner answers every scan with an LDIF export.
type ldifScanner struct{ path string }

func (s ldifScanner) Scan(context.Context) (*ldapscan.Result, error) {
	f, err := os.Open(s.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res, err := ldapscan.ReadLDIF(f, s.path)
	if err != nil {
		return nil, err
	}
	return &ldapscan.Result{Snapshot: res.Snapshot, Stats: ldapscan.Stats{Mode: inventory.FullScan, Server: "ldif"}}, nil
}

func (s ldifScanner) Poll(ctx context.Context, _ *ldapscan.Result) (*ldapscan.Result, error) {
	return s.Scan(ctx)
}

// TestRunServerDrawsIISFarm: with iis.config_files and no farms:, serve
// checks the farm the IIS files describe (farm-drift finds the lab's
// duplicate) and the landing page draws it.
func TestRunServerDrawsIISFarm(t *testing.T) {
	addr := freeAddress(t)
	cfg := serveTestConfig(addr)
	cfg.IIS.ConfigFiles = labIIS
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- runServer(ctx, cfg, ldifScanner{farmLDIF}, nil, slog.New(slog.DiscardHandler)) }()
	base := "http://" + addr
	eventually(t, "readiness", func() bool { status, _ := httpGet(t, base+"/-/ready"); return status == 200 })
	_, body := httpGet(t, base+"/")
	for _, want := range []string{
		`<svg class="farm" data-farm="intranet"`, `<g class="vip"`, `<g class="account owner"`,
		`<g class="spn spn-conflict"`, `<tbody class="finding" id="f-`, `data-rule="farm-drift"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("landing page lacks %s", want)
		}
	}
	if n := strings.Count(body, `<g class="node"`); n != 3 {
		t.Errorf("%d nodes drawn, want 3", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
