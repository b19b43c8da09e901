package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/internal/labtest"
	"github.com/spnaudit/spnaudit/lab"
)

// TestResilience: the LDAP connection is cut in the middle of a search page,
// and the DC goes down in the middle of a scan and comes back. Each time the
// old snapshot stays served, spnaudit_scan_success drops to 0, the failure
// is counted with its stage, and a later poll recovers without a restart.
//
// The shared lab DC must keep running for the other test packages, so the
// DC's failures are played by a TCP proxy between spnaudit and the DC
// (Kerberos goes to the KDC directly). The proxy reads the DC's answers to
// cut in the middle of a page, which needs ldap.sasl_security: sign.
func TestResilience(t *testing.T) {
	skipShort(t)
	farm := newFarmCopy("E2EResilience", "e2er", "127.0.0.62")
	l := labtest.Scenario(t, farm.Scenario)
	proxy := newLDAPProxy(t, "127.0.0.1:389")
	server := "ldap://" + proxy.addr
	d := startDaemon(t, l, daemonConfig{
		URL:              server,
		ServicePrincipal: lab.ServicePrincipal(),
		BaseDN:           farm.OUDN(),
		SASLSecurity:     "sign",
		PollInterval:     time.Second,
	})
	baseline := snapshotSeries(d.metrics(t))
	if !strings.Contains(baseline, "spnaudit_spns 6\n") {
		t.Fatalf("unexpected first snapshot:\n%s", baseline)
	}
	ldapUp := fmt.Sprintf("spnaudit_ldap_up{server=%q}", server)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	for _, tc := range []struct {
		name string
		// fail is what the proxy does once it has relayed half of an
		// entry of the scenario's OU.
		fail func()
		// touch are the objects changed so that a poll reads entries of the
		// OU, each case its own.
		touch []string
		// failures are the new failures each stage must count before the
		// DC is healed.
		failures map[string]float64
		heal     func()
		dcDown   bool
	}{
		{
			name:     "connection cut mid-page",
			fail:     proxy.cut,
			touch:    []string{farm.Pool, farm.Other},
			failures: map[string]float64{"search": 1},
		},
		{
			name:  "DC killed mid-scan, then restarted",
			fail:  proxy.refuse,
			touch: []string{farm.Scenario.AccountDN(farm.Node1), farm.Scenario.AccountDN(farm.Node2)},
			// The scan in progress fails reading the page, the next polls
			// cannot connect.
			failures: map[string]float64{"search": 1, "connect": 2},
			heal:     proxy.allow,
			dcDown:   true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := d.metrics(t)
			failed := proxy.onEntry(farm.OUDN(), tc.fail)
			// Changed objects make the next poll read entries of the OU.
			for _, dn := range tc.touch {
				if err := l.Touch(ctx, dn); err != nil {
					t.Fatal(err)
				}
			}
			select {
			case <-failed:
			case <-time.After(30 * time.Second):
				t.Fatal("no poll read the changed entries through the proxy")
			}
			brokenAt := time.Now()

			var during string
			waitUntil(t, 30*time.Second, fmt.Sprintf("failures counted by stage: %v", tc.failures), func() bool {
				during = d.metrics(t)
				for stage, n := range tc.failures {
					series := fmt.Sprintf(`spnaudit_scan_failures_total{mode="incremental",stage=%q}`, stage)
					if mustSample(t, during, series) < mustSample(t, before, series)+n {
						return false
					}
				}
				return !tc.dcDown || mustSample(t, during, ldapUp) == 0
			})
			if got := mustSample(t, during, "spnaudit_scan_success"); got != 0 {
				t.Errorf("spnaudit_scan_success = %v while failing, want 0", got)
			}
			if got := snapshotSeries(during); got != baseline {
				t.Errorf("the snapshot served changed while failing:\n%s\nwant\n%s", got, baseline)
			}
			lastSuccess := mustSample(t, during, "spnaudit_scan_last_success_timestamp_seconds")
			if broken := float64(brokenAt.UnixNano()) / 1e9; lastSuccess > broken {
				t.Errorf("last success at %.3f, after the connection broke at %.3f, although every scan since failed", lastSuccess, broken)
			}
			if status, _ := get(d.url + "/api/v1/findings"); status != http.StatusOK {
				t.Errorf("/api/v1/findings while failing: %d, want the old findings (200)", status)
			}
			t.Logf("failing: scan_success 0, failures %s", failureCounts(during))

			if tc.heal != nil {
				tc.heal()
			}
			var after string
			recovery := waitUntil(t, 30*time.Second, "a successful poll", func() bool {
				after = d.metrics(t)
				return mustSample(t, after, "spnaudit_scan_success") == 1 &&
					mustSample(t, after, "spnaudit_scan_last_success_timestamp_seconds") > lastSuccess
			})
			if !d.running() {
				t.Fatal("spnaudit exited")
			}
			if got := mustSample(t, after, ldapUp); got != 1 {
				t.Errorf("%s = %v after recovery, want 1", ldapUp, got)
			}
			if got := snapshotSeries(after); got != baseline {
				t.Errorf("findings after recovery:\n%s\nwant\n%s", got, baseline)
			}
			t.Logf("%s: recovered %v after the break, %v after the DC was back (scans: %s)", tc.name,
				time.Since(brokenAt).Round(time.Millisecond), recovery.Round(time.Millisecond), scanCounts(after))
		})
	}
}

// snapshotSeries returns the series that describe the served snapshot: the
// findings, SPNs and objects.
func snapshotSeries(exposition string) string {
	var lines []string
	for _, line := range strings.Split(exposition, "\n") {
		for _, prefix := range []string{"spnaudit_finding", "spnaudit_spns ", "spnaudit_objects{", "spnaudit_suppressed_findings "} {
			if strings.HasPrefix(line, prefix) {
				lines = append(lines, line)
			}
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func mustSample(t testing.TB, exposition, series string) float64 {
	t.Helper()
	v, ok := sample(exposition, series)
	if !ok {
		t.Fatalf("no series %s in /metrics", series)
	}
	return v
}

// failureCounts lists the non-zero failure counters, for the log.
func failureCounts(exposition string) string {
	return nonZero(exposition, "spnaudit_scan_failures_total{")
}

func scanCounts(exposition string) string { return nonZero(exposition, "spnaudit_scans_total{") }

func nonZero(exposition, prefix string) string {
	var out []string
	for _, line := range strings.Split(exposition, "\n") {
		if strings.HasPrefix(line, prefix) && !strings.HasSuffix(line, " 0") {
			out = append(out, strings.TrimPrefix(line, strings.TrimSuffix(prefix, "{")))
		}
	}
	return strings.Join(out, ", ")
}
