package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/internal/labtest"
	"github.com/spnaudit/spnaudit/lab"
)

// alertWait bounds the wait for a notification: scrape, evaluation, `for`
// and group_wait are a second each in the test configuration.
const alertWait = 60 * time.Second

// TestAlertsEndToEnd: a duplicate SPN and a host-alias conflict injected
// into the running lab reach the Alertmanager webhook as DuplicateSPN and
// SPNHostAliasConflict alerts naming the SPN and every account, and removing
// them resolves the alerts. The detection latencies are logged (go test -v).
func TestAlertsEndToEnd(t *testing.T) {
	skipShort(t)
	farm := newFarmCopy("E2EAlerts", "e2ea", "127.0.0.61")
	l := labtest.Scenario(t, farm.Scenario)
	d := startDaemon(t, l, daemonConfig{BaseDN: farm.OUDN(), PollInterval: time.Second})
	stack := startAlertStack(t, strings.TrimPrefix(d.url, "http://"))

	dupSPN := "HTTP/" + farm.VIP + "." + lab.DNSDomain
	aliasSPN := "HTTP/" + farm.Node1
	for _, spn := range []string{dupSPN, aliasSPN} {
		if strings.Contains(d.metrics(t), `spn="`+spn+`"`) {
			t.Fatalf("%s already has a finding before the injection", spn)
		}
	}
	// The scenario must start clean, or the firing assertions below prove
	// nothing: no finding alert may be pending or firing yet.
	if n := stack.query(t, `ALERTS{alertname=~"DuplicateSPN|SPNHostAliasConflict|GhostSPN"}`); n != 0 {
		t.Fatalf("%d finding alerts before the injection", n)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cases := []struct {
		alert        string
		rule         string
		spn          string
		inject       func() error
		remove       func() error
		wantAccounts []string
	}{
		{
			alert:        "DuplicateSPN",
			rule:         "duplicate-spn",
			spn:          dupSPN,
			inject:       func() error { return l.InjectCollision(ctx, farm.Other, dupSPN) },
			remove:       func() error { return l.RemoveCollision(ctx, farm.Other, dupSPN) },
			wantAccounts: []string{`CORP\e2ea_other`, `CORP\e2ea_pool`},
		},
		{
			alert:        "SPNHostAliasConflict",
			rule:         "host-alias-conflict",
			spn:          aliasSPN,
			inject:       func() error { return l.AddSPN(ctx, farm.Pool, aliasSPN) },
			remove:       func() error { return l.RemoveSPN(ctx, farm.Pool, aliasSPN) },
			wantAccounts: []string{`CORP\E2EAWEB1$`, `CORP\e2ea_pool`},
		},
	}

	injectedAt := map[string]time.Time{}
	for _, c := range cases {
		if err := c.inject(); err != nil {
			t.Fatalf("inject %s: %v", c.spn, err)
		}
		injectedAt[c.alert] = time.Now()
		metric := waitUntil(t, alertWait, c.spn+" in spnaudit_finding_info", func() bool {
			return findingLines(d.metrics(t), c.rule, c.spn) != ""
		})
		t.Logf("%s %s: injection → metric change %v", c.alert, c.spn, metric.Round(time.Millisecond))
	}
	for _, c := range cases {
		waitUntil(t, alertWait, c.alert+" firing at the webhook", func() bool {
			return len(stack.webhook.received(c.alert, c.spn, "firing")) > 0
		})
		firing := stack.webhook.received(c.alert, c.spn, "firing")
		t.Logf("%s %s: injection → webhook %v", c.alert, c.spn, firing[0].At.Sub(injectedAt[c.alert]).Round(time.Millisecond))
		// One alert per account: wait for the rest of them if they came in
		// a later notification.
		waitUntil(t, alertWait, c.alert+" for every account", func() bool {
			return slices.Equal(accounts(stack.webhook.received(c.alert, c.spn, "firing")), c.wantAccounts)
		})
		for _, n := range firing {
			if n.Labels["severity"] == "" || n.Labels["finding_severity"] == "" || n.Labels["job"] != "spnaudit" {
				t.Errorf("%s: labels %v lack severity, finding_severity or job", c.alert, n.Labels)
			}
		}
	}

	removedAt := map[string]time.Time{}
	for _, c := range cases {
		if err := c.remove(); err != nil {
			t.Fatalf("remove %s: %v", c.spn, err)
		}
		removedAt[c.alert] = time.Now()
		metric := waitUntil(t, alertWait, c.spn+" gone from spnaudit_finding_info", func() bool {
			return findingLines(d.metrics(t), c.rule, c.spn) == ""
		})
		t.Logf("%s %s: removal → metric change %v", c.alert, c.spn, metric.Round(time.Millisecond))
	}
	for _, c := range cases {
		waitUntil(t, alertWait, c.alert+" resolved at the webhook for every account", func() bool {
			return slices.Equal(accounts(stack.webhook.received(c.alert, c.spn, "resolved")), c.wantAccounts)
		})
		resolved := stack.webhook.received(c.alert, c.spn, "resolved")
		t.Logf("%s %s: removal → webhook resolved %v", c.alert, c.spn, resolved[0].At.Sub(removedAt[c.alert]).Round(time.Millisecond))
	}
}

// findingLines returns the spnaudit_finding_info lines of rule for spn, or "".
func findingLines(exposition, rule, spn string) string {
	var lines []string
	for _, line := range strings.Split(exposition, "\n") {
		if strings.HasPrefix(line, "spnaudit_finding_info{") && strings.Contains(line, fmt.Sprintf("rule=%q", rule)) &&
			strings.Contains(line, fmt.Sprintf("spn=%q", spn)) {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, "\n")
}
