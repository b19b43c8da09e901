package krb

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func lifetime(d, renew time.Duration) ticketTimes {
	return ticketTimes{auth: t0, start: t0, end: t0.Add(d), renewTill: t0.Add(renew)}
}

func TestRefreshMargin(t *testing.T) {
	for _, tc := range []struct {
		life, want time.Duration
	}{
		{2 * time.Minute, 90 * time.Second},
		{3 * time.Minute, 135 * time.Second},
		{10 * time.Minute, 3 * time.Minute},
		{40 * time.Minute, 10 * time.Minute},
		{10 * time.Hour, 15 * time.Minute},
	} {
		if got := lifetime(tc.life, 0).refreshMargin(); got != tc.want {
			t.Errorf("lifetime %v: margin %v, want %v", tc.life, got, tc.want)
		}
	}
}

func TestNextAction(t *testing.T) {
	short := lifetime(3*time.Minute, 10*time.Minute) // due from t0+45s
	noRenew := lifetime(3*time.Minute, 0)
	for _, tc := range []struct {
		name    string
		at      time.Duration
		src     source
		held    *ticketTimes
		changed bool
		want    action
	}{
		{"keytab first use", 0, fromKeytab, nil, false, login},
		{"password first use", 0, fromPassword, nil, false, login},
		{"keytab fresh", 44 * time.Second, fromKeytab, &short, false, useHeld},
		{"keytab due", 45 * time.Second, fromKeytab, &short, false, login},
		{"keytab expired", 4 * time.Minute, fromKeytab, &short, false, login},
		{"keytab ignores renewability", 100 * time.Second, fromKeytab, &short, false, login},
		{"ccache first use", 0, fromCCache, nil, false, reloadCCache},
		{"ccache changed on disk", 10 * time.Second, fromCCache, &short, true, reloadCCache},
		{"ccache fresh", 10 * time.Second, fromCCache, &short, false, useHeld},
		{"ccache due, renewable", 100 * time.Second, fromCCache, &short, false, renew},
		{"ccache due, not renewable", 100 * time.Second, fromCCache, &noRenew, false, useHeld},
		{"ccache expired cannot be renewed", 4 * time.Minute, fromCCache, &short, false, useHeld},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := nextAction(t0.Add(tc.at), tc.src, tc.held, tc.changed); got != tc.want {
				t.Fatalf("got %d, want %d", got, tc.want)
			}
		})
	}
}

// TestFreshTGTWithClock drives Client.freshTGT with an injected clock and
// credential sources that fail without the network, to check which TGT is
// handed out and when a failure surfaces.
func TestFreshTGTWithClock(t *testing.T) {
	dir := t.TempDir()
	cc := filepath.Join(dir, "ccache")
	if err := os.WriteFile(cc, []byte("placeholder"), 0o600); err != nil {
		t.Fatal(err)
	}
	stamp, err := stat(cc)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		src     source
		at      time.Duration
		wantErr Kind // -1: the held TGT is returned
	}{
		{"keytab fresh: no login", fromKeytab, 40 * time.Second, -1},
		{"keytab due, login fails, TGT still valid: keep it", fromKeytab, 100 * time.Second, -1},
		{"keytab expired and login fails", fromKeytab, 4 * time.Minute, KindKeytab},
		{"ccache unchanged and fresh", fromCCache, 30 * time.Second, -1},
		{"ccache due, not renewable: keep using it", fromCCache, 100 * time.Second, -1},
		{"ccache expired", fromCCache, 4 * time.Minute, KindCCache},
	} {
		t.Run(tc.name, func(t *testing.T) {
			held := &heldTGT{times: lifetime(3*time.Minute, 0)}
			c := &Client{
				cfg: Config{KeytabFile: filepath.Join(dir, "missing.keytab"), CCacheFile: cc},
				src: tc.src, log: slog.New(slog.DiscardHandler),
				now: func() time.Time { return t0.Add(tc.at) },
				tgt: held, ccStamp: stamp,
			}
			got, err := c.freshTGT(context.Background())
			if tc.wantErr >= 0 {
				if !IsKind(err, tc.wantErr) {
					t.Fatalf("got %v, want kind %d", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != held {
				t.Fatalf("got %p, %v; want the held TGT", got, err)
			}
		})
	}
}
