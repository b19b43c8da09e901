package daemon

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/internal/labtest"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/krb"
	"github.com/spnaudit/spnaudit/lab"
	"github.com/spnaudit/spnaudit/ldapscan"
)

// TestLabQuietPollReusesAudit runs the daemon with the real scanner against
// the lab DC, held still (labtest.RequireQuiet): a poll that read no entry
// hands back the previous objects themselves, so the daemon reuses the
// last audit (issue 9). The daemon reuses an audit only for the same
// objects slice (sameObjects: a membership change copies them without
// reading an entry), which this checks ldapscan's poll provides.
func TestLabQuietPollReusesAudit(t *testing.T) {
	l := labtest.RequireQuiet(t)
	kc, err := krb.New(krb.Config{Realm: lab.Realm, Principal: lab.AuditUser, KeytabFile: l.Keytab(), KDCs: []string{"127.0.0.1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := ldapscan.New(ldapscan.Config{URLs: []string{lab.LDAPURL()}, SASLSecurity: ldapscan.SASLSeal, Logger: slog.New(slog.DiscardHandler)},
		ldapscan.Kerberos{Client: kc})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	audits := 0
	sink := &findingsSink{}
	clock := newFakeClock()
	d, err := New(Config{
		Scanner: sc,
		Audit: func(s *inventory.Snapshot, _ map[string]bool) audit.Result {
			audits++
			return audit.Run(s, audit.Config{})
		},
		Sink: sink, FullInterval: 24 * time.Hour, PollInterval: time.Minute, Timeout: 5 * time.Minute,
		Clock: clock, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	d.scan(context.Background(), clock.Now())
	if d.last == nil || audits != 1 {
		t.Fatalf("the full scan failed (%d audits)", audits)
	}
	// The DC may write on its own between two reads; a few polls give it
	// the chance to be quiet once.
	for range 3 {
		clock.Advance(time.Minute)
		before, prev := audits, d.last
		d.scan(context.Background(), clock.Now())
		if d.last == prev {
			t.Fatal("the poll failed")
		}
		st := d.last.Stats
		if st.Mode != inventory.IncrementalScan {
			t.Fatalf("the poll ran %s: %s", st.Mode, st.FullReason)
		}
		if st.Entries > 0 || st.Removed > 0 || st.DNSReread {
			t.Logf("the poll read %d entries, %d removed: not quiet", st.Entries, st.Removed)
			continue
		}
		if !sameObjects(d.last.Snapshot.Objects, prev.Snapshot.Objects) {
			t.Fatal("a poll that read no entry returned a new objects slice: the daemon cannot reuse the audit")
		}
		if audits != before {
			t.Fatal("a poll that read no entry was audited again")
		}
		if len(sink.published) < 2 || len(sink.published[len(sink.published)-1]) != len(sink.published[0]) {
			t.Fatal("the reused audit was not published")
		}
		return
	}
	t.Fatal("no poll of three was quiet")
}
