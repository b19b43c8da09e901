package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/config"
	"github.com/spnaudit/spnaudit/internal/labtest"
	"github.com/spnaudit/spnaudit/lab"
	"github.com/spnaudit/spnaudit/report"
)

// TestLabHistory runs serve against its own OU of the lab DC with a state
// directory: a duplicate injected at a known time is dated by AD's
// replication metadata within seconds of the write and named by the lab
// DC; first_seen survives a restart of serve; spnaudit history --spn lists
// the add and, once the duplicate is removed, the removal.
func TestLabHistory(t *testing.T) {
	sc := &lab.Scenario{Name: "cmd-history", OU: "CmdHistory",
		Users: []lab.User{
			{Name: "hist_a", SPNs: []string{"HTTP/hist.corp.example.test"}},
			{Name: "hist_b", SPNs: []string{"HTTP/hist-b.corp.example.test"}},
		}}
	l := labtest.Scenario(t, sc)
	clearEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const spn = "HTTP/hist.corp.example.test"
	holder := sc.AccountDN("hist_b")
	// A duplicate left by an earlier run would not be new.
	_ = l.RemoveCollision(ctx, holder, spn)

	stateDir := filepath.Join(t.TempDir(), "state")
	addr := freeAddress(t)
	path := labConfigFile(t, l, map[string]any{
		"ldap.base_dn": sc.OUDN(), "state.dir": stateDir, "web.listen_address": addr,
		"scan.poll_interval": "1s", "scan.full_interval": "1h", "scan.timeout": "1m",
	})
	cfg, err := config.Load(config.Options{File: path})
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr
	start := func() (stop func()) {
		sctx, scancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- serve(sctx, cfg, slog.New(slog.DiscardHandler)) }()
		waitFor(t, "serve to be ready", func() bool { status, _ := httpGet(t, base+"/-/ready"); return status == 200 })
		return func() {
			scancel()
			if err := <-done; err != nil {
				t.Fatalf("serve: %v", err)
			}
		}
	}
	duplicate := func() *report.Document {
		_, body := httpGet(t, base+"/api/v1/findings")
		var doc report.Document
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			return nil
		}
		for _, f := range doc.Findings {
			if f.Rule == "duplicate-spn" && strings.EqualFold(f.SPN, spn) {
				doc.Findings = doc.Findings[:0]
				doc.Findings = append(doc.Findings, f)
				return &doc
			}
		}
		return nil
	}

	stop := start()
	time.Sleep(1500 * time.Millisecond) // the baseline is recorded; polls run
	injected := time.Now()
	if err := l.InjectCollision(ctx, holder, spn); err != nil {
		t.Fatal(err)
	}
	written := time.Now() // the write is somewhere in [injected, written]
	var doc *report.Document
	waitFor(t, "the duplicate", func() bool { doc = duplicate(); return doc != nil })
	f := doc.Findings[0]
	// AD's times are whole seconds.
	if f.ChangedAt == nil || f.ChangedAt.Before(injected.Add(-time.Second)) || f.ChangedAt.After(written.Add(time.Second)) {
		t.Errorf("changed_at %v, want the write, between %v and %v", f.ChangedAt, injected.UTC(), written.UTC())
	}
	t.Logf("injected %v-%v (%v); changed_at %v on %s", injected.UTC().Format(time.RFC3339Nano), written.UTC().Format(time.RFC3339Nano),
		written.Sub(injected).Round(time.Millisecond), f.ChangedAt, f.ChangedOn)
	if f.ChangedOn != lab.DCHost {
		t.Errorf("changed_on %q, want the lab DC %s", f.ChangedOn, lab.DCHost)
	}
	if f.FirstSeen == nil || f.FirstSeen.Before(injected.Add(-2*time.Second)) {
		t.Fatalf("first_seen %v, want the poll after the write at %v", f.FirstSeen, injected)
	}
	firstSeen := *f.FirstSeen
	stop()

	stop = start()
	waitFor(t, "the duplicate after the restart", func() bool { doc = duplicate(); return doc != nil })
	if got := doc.Findings[0].FirstSeen; got == nil || !got.Equal(firstSeen) {
		t.Errorf("first_seen after restart %v, want %v", got, firstSeen)
	}
	if err := l.RemoveCollision(ctx, holder, spn); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the duplicate to resolve", func() bool { return duplicate() == nil })
	stop()

	r := spnaudit(t, false, "history", "--state.dir", stateDir, "--spn", spn, "--format", "json")
	var page struct {
		Changes []struct {
			Op, SPN, Account, Rule string
			OriginatingTime        *time.Time `json:"originating_time"`
			OriginatingDC          string     `json:"originating_dc"`
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &page); err != nil || r.status != 0 {
		t.Fatalf("history: %d %q %q %v", r.status, r.stdout, r.stderr, err)
	}
	var got []string
	for _, c := range page.Changes {
		if c.Rule != "" && c.Rule != "duplicate-spn" {
			continue // the lone holder's ghost-spn and missing-spn-pair come and go too
		}
		got = append(got, c.Op+" "+c.Rule+" "+commonName(c.Account))
		if c.Rule == "" && (c.OriginatingTime == nil || c.OriginatingDC != lab.DCHost) {
			t.Errorf("%s entry without AD's originating time and DC: %+v", c.Op, c)
		}
	}
	want := []string{"resolved duplicate-spn ", "remove  hist_b", "appeared duplicate-spn ", "add  hist_b"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("history --spn %s, newest first:\n%s\nwant:\n%s", spn, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	table := spnaudit(t, false, "history", "--state.dir", stateDir, "--spn", spn)
	t.Logf("spnaudit history --spn %s:\n%s", spn, table.stdout)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
