package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/internal/labtest"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/krb"
	"github.com/spnaudit/spnaudit/lab"
	"github.com/spnaudit/spnaudit/ldapscan"
)

const (
	bulkAccounts = 20000
	bulkManySPNs = 2000
	benchChanged = 10
)

// BenchmarkLabScans measures what the daemon's schedule costs on the lab
// with OU=Bulk seeded (20,000 accounts with two SPNs each, and one with
// 2,000): a full scan of OU=Bulk, then incremental polls with no change and
// with 10 changed objects, over LDAP with Kerberos as `spnaudit serve` does.
// It fails when a poll fetches anything but the changed objects, and reports
// the times, the objects each poll fetched and full/poll, the full scan's
// time over the poll's (-v also logs a summary).
//
//	make bench    # or: go test -run '^$' -bench LabScans ./e2e
//
// Seeding takes several minutes the first time and nothing afterwards.
func BenchmarkLabScans(b *testing.B) {
	l := labtest.Require(b)
	err := l.Locked(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		return l.SeedBulk(ctx, bulkAccounts, bulkManySPNs)
	})
	if err != nil {
		b.Fatalf("seed OU=Bulk: %v", err)
	}
	sc := bulkScanner(b, l)
	ctx := context.Background()

	var prev *ldapscan.Result
	var full, poll0, poll10 time.Duration
	var fetched0, fetched10 int
	b.Run("full", func(b *testing.B) {
		n := 0
		for b.Loop() {
			prev = mustScan(b, func() (*ldapscan.Result, error) { return sc.Scan(ctx) })
			n++
		}
		full = b.Elapsed() / time.Duration(n)
		if objects := len(prev.Snapshot.Objects); objects < bulkAccounts {
			b.Fatalf("full scan read %d objects, want at least %d", objects, bulkAccounts)
		}
		b.ReportMetric(float64(len(prev.Snapshot.Objects)), "objects")
		b.ReportMetric(float64(prev.Snapshot.SPNCount()), "spns")
	})
	b.Run("poll-0-changed", func(b *testing.B) {
		n := 0
		for b.Loop() {
			prev = mustPoll(b, sc, prev, 0)
			n++
		}
		poll0, fetched0 = b.Elapsed()/time.Duration(n), prev.Stats.Entries
		b.ReportMetric(float64(fetched0), "fetched")
		reportRatio(b, full, poll0)
	})
	b.Run("poll-10-changed", func(b *testing.B) {
		changes := newBulkChanges(b, l)
		n := 0
		for b.Loop() {
			b.StopTimer()
			changes.toggle(ctx)
			b.StartTimer()
			prev = mustPoll(b, sc, prev, benchChanged)
			n++
		}
		poll10, fetched10 = b.Elapsed()/time.Duration(n), prev.Stats.Entries
		b.ReportMetric(float64(fetched10), "fetched")
		reportRatio(b, full, poll10)
	})
	if full > 0 && poll0 > 0 && poll10 > 0 {
		b.Logf("OU=Bulk, %d objects, %d SPNs: full scan %v; incremental poll, 0 changed: %v (fetched %d, full/poll %.0fx); "+
			"10 changed: %v (fetched %d, full/poll %.0fx)",
			len(prev.Snapshot.Objects), prev.Snapshot.SPNCount(), full.Round(time.Millisecond),
			poll0.Round(time.Millisecond), fetched0, float64(full)/float64(poll0),
			poll10.Round(time.Millisecond), fetched10, float64(full)/float64(poll10))
	}
}

// reportRatio adds how many times faster than the full scan a poll is to
// the benchmark's line (b.Logf shows only with -v).
func reportRatio(b *testing.B, full, poll time.Duration) {
	if full > 0 && poll > 0 {
		b.ReportMetric(float64(full)/float64(poll), "full/poll")
	}
}

// bulkScanner reads OU=Bulk of the lab as the daemon would: Kerberos from
// the audit account's keytab, the default SASL policy (seal on plain LDAP).
func bulkScanner(b *testing.B, l *lab.Lab) *ldapscan.Scanner {
	b.Helper()
	kc, err := krb.New(krb.Config{Realm: lab.Realm, Principal: lab.AuditUser, KeytabFile: l.Keytab(), Krb5ConfFile: l.Krb5Conf()}, nil)
	if err != nil {
		b.Fatal(err)
	}
	sc, err := ldapscan.New(ldapscan.Config{
		URLs:    []string{lab.LDAPURL()},
		BaseDN:  lab.BulkOU,
		Timeout: 2 * time.Minute,
		Logger:  slog.New(slog.DiscardHandler),
	}, ldapscan.Kerberos{Client: kc})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sc.Close() })
	return sc
}

func mustScan(b *testing.B, scan func() (*ldapscan.Result, error)) *ldapscan.Result {
	b.Helper()
	res, err := scan()
	if err != nil {
		b.Fatal(err)
	}
	return res
}

// mustPoll polls from prev and checks that the poll stayed incremental and
// fetched exactly the changed objects.
func mustPoll(b *testing.B, sc *ldapscan.Scanner, prev *ldapscan.Result, changed int) *ldapscan.Result {
	b.Helper()
	res := mustScan(b, func() (*ldapscan.Result, error) { return sc.Poll(context.Background(), prev) })
	if res.Stats.Mode != inventory.IncrementalScan {
		b.Fatalf("the poll ran as a full scan: %s", res.Stats.FullReason)
	}
	if res.Stats.Entries != changed {
		b.Fatalf("the poll fetched %d objects, want the %d changed ones", res.Stats.Entries, changed)
	}
	return res
}

// bulkChanges changes benchChanged bulk accounts per call: it adds an SPN
// to each, and removes it the next time, so every call changes them (a
// description rewritten with the same value would not) and OU=Bulk is left
// as seeded.
type bulkChanges struct {
	l     *lab.Lab
	b     *testing.B
	added bool
}

func newBulkChanges(b *testing.B, l *lab.Lab) *bulkChanges {
	c := &bulkChanges{l: l, b: b}
	b.Cleanup(func() {
		if c.added {
			c.toggle(context.Background())
		}
	})
	return c
}

func (c *bulkChanges) toggle(ctx context.Context) {
	for i := range benchChanged {
		name := fmt.Sprintf("bulk%05d", i)
		dn, spn := "CN="+name+","+lab.BulkOU, "HTTP/"+name+"-bench."+lab.DNSDomain
		change := c.l.AddSPN
		if c.added {
			change = c.l.RemoveSPN
		}
		if err := change(ctx, dn, spn); err != nil {
			c.b.Fatal(err)
		}
	}
	c.added = !c.added
}
