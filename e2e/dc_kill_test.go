package e2e

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/internal/labtest"
	"github.com/spnaudit/spnaudit/lab"
)

// inKillNetns marks the copy of this test binary that runs inside the
// killable lab DC's network namespace.
const inKillNetns = "SPNAUDIT_E2E_IN_KILL_NETNS"

// TestDCProcessKilled kills the real Samba process of a lab DC (LDAP and the
// KDC at once) while spnaudit serve polls it every half second, then restarts
// it. The old snapshot must stay served with spnaudit_scan_success 0 and the
// failures counted, and a poll must recover without restarting spnaudit.
// TestResilience cuts connections mid-page with a proxy; this test is about
// the process dying. The DC is a lab of its own in its own network namespace,
// and the test runs itself again inside that namespace, where spnaudit and the
// DC share a loopback.
func TestDCProcessKilled(t *testing.T) {
	skipShort(t)
	if os.Getenv(inKillNetns) == "" {
		labtest.RequireKillable(t)
		cmd := exec.Command("ip", "netns", "exec", labtest.KillNetns, os.Args[0],
			"-test.run=^TestDCProcessKilled$", "-test.count=1", "-test.v", "-test.timeout=5m")
		cmd.Env = append(os.Environ(), inKillNetns+"=1")
		out, err := cmd.CombinedOutput()
		t.Logf("inside %s:\n%s", labtest.KillNetns, out)
		if err != nil {
			t.Fatalf("the test inside the network namespace failed: %v", err)
		}
		return
	}

	l := labtest.Killable()
	d := startDaemon(t, l, daemonConfig{BaseDN: "OU=Farm," + lab.BaseDN, PollInterval: 500 * time.Millisecond})
	baseline := snapshotSeries(d.metrics(t))
	before := d.metrics(t)
	lastSuccess := mustSample(t, before, "spnaudit_scan_last_success_timestamp_seconds")
	ldapUp := `spnaudit_ldap_up{server="` + lab.LDAPURL() + `"}`

	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	t.Cleanup(func() { _ = l.Up(context.Background()) }) // leave the DC running
	if err := l.Stop(); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()

	var during string
	waitUntil(t, 30*time.Second, "failed polls while the DC is down", func() bool {
		during = d.metrics(t)
		return mustSample(t, during, "spnaudit_scan_success") == 0 && mustSample(t, during, ldapUp) == 0
	})
	if failureCounts(during) == failureCounts(before) {
		t.Errorf("no failure counted: %s", failureCounts(during))
	}
	if got := snapshotSeries(during); got != baseline {
		t.Errorf("the snapshot served changed while the DC was down:\n%s\nwant\n%s", got, baseline)
	}
	if got := mustSample(t, during, "spnaudit_scan_last_success_timestamp_seconds"); got > float64(killedAt.UnixNano())/1e9 {
		t.Errorf("last success %.3f is after the DC was killed at %s", got, killedAt)
	}
	if status, _ := get(d.url + "/api/v1/findings"); status != http.StatusOK {
		t.Errorf("/api/v1/findings while the DC is down: %d, want the old findings (200)", status)
	}
	t.Logf("DC down: scan_success 0, failures %s", failureCounts(during))

	if err := l.Up(ctx); err != nil {
		t.Fatalf("restart the DC: %v", err)
	}
	restartedAt := time.Now()
	var after string
	waitUntil(t, time.Minute, "a successful poll after the restart", func() bool {
		after = d.metrics(t)
		return mustSample(t, after, "spnaudit_scan_success") == 1 &&
			mustSample(t, after, "spnaudit_scan_last_success_timestamp_seconds") > lastSuccess
	})
	if !d.running() {
		t.Fatal("spnaudit exited")
	}
	if got := snapshotSeries(after); got != baseline {
		t.Errorf("findings after the restart:\n%s\nwant\n%s", got, baseline)
	}
	t.Logf("recovered %v after the DC was back (down %v; scans %s)",
		time.Since(restartedAt).Round(time.Millisecond), restartedAt.Sub(killedAt).Round(time.Millisecond), scanCounts(after))
}
