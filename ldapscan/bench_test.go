package ldapscan

import (
	"context"
	"fmt"
	"testing"

	"github.com/spnaudit/spnaudit/internal/labtest"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/lab"
)

// benchScans measures a full scan and incremental polls after 0 and 10
// changes, reporting the objects each fetched. change makes n changes.
func benchScans(b *testing.B, sc *Scanner, change func(n int)) {
	ctx := context.Background()
	full, err := sc.Scan(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("full", func(b *testing.B) {
		b.ReportAllocs()
		var res *Result
		for b.Loop() {
			if res, err = sc.Scan(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(res.Stats.Entries), "fetched/op")
		b.ReportMetric(float64(len(res.Snapshot.Objects)), "objects")
	})
	for _, changes := range []int{0, 10} {
		b.Run(fmt.Sprintf("poll-%d-changes", changes), func(b *testing.B) {
			b.ReportAllocs()
			prev := full
			var fetched, listed int
			for b.Loop() {
				b.StopTimer()
				change(changes)
				b.StartTimer()
				res, err := sc.Poll(ctx, prev)
				if err != nil {
					b.Fatal(err)
				}
				if res.Stats.Mode != inventory.IncrementalScan {
					b.Fatalf("poll ran %s: %s", res.Stats.Mode, res.Stats.FullReason)
				}
				fetched, listed = res.Stats.Entries, res.Stats.Listed
				if fetched < changes {
					b.Fatalf("poll fetched %d objects after %d changes", fetched, changes)
				}
				prev = res
			}
			b.ReportMetric(float64(fetched), "fetched/op")
			b.ReportMetric(float64(listed), "listed/op")
		})
	}
}

// BenchmarkScanFake runs against the in-process directory: 20,000 objects,
// one with 2,000 SPNs.
func BenchmarkScanFake(b *testing.B) {
	fa := newFakeAD()
	var dns []string
	for i := range 20000 {
		dns = append(dns, fa.account(fmt.Sprintf("svc%05d", i), "user", fmt.Sprintf("HTTP/app%05d.corp.example.test", i)))
	}
	fa.account("bigsvc", "user", spnList("HTTP", 2000)...)
	sc := newTestScanner(b, []string{"ldap://" + fa.serve(b, nil, false)}, func(c *Config) { c.PageSize = 1000 })
	round := 0
	benchScans(b, sc, func(n int) {
		for i := range n {
			fa.modify(dns[(round*n+i)%len(dns)], func(a map[string][]string) { a["description"] = []string{fmt.Sprint(round)} })
		}
		round++
	})
}

// BenchmarkScanLab runs against the lab DC, sealed, with whatever the lab
// holds (seed it with labctl to 20,000+ objects); each change adds an SPN
// to an account of the benchmark's own OU.
func BenchmarkScanLab(b *testing.B) {
	sc := &lab.Scenario{Name: "ldapscan-bench", OU: "LdapscanBench"}
	for i := range 10 {
		sc.Users = append(sc.Users, lab.User{Name: fmt.Sprintf("bench%02d", i), SPNs: []string{fmt.Sprintf("HTTP/bench%02d.corp.example.test", i)}})
	}
	l := labtest.Scenario(b, sc)
	scanner := labScanner(b, l, lab.LDAPURL(), SASLSeal, false)
	ctx := context.Background()
	round := 0
	benchScans(b, scanner, func(n int) {
		for i := range n {
			spn := fmt.Sprintf("HTTP/bench%02d-r%d.corp.example.test", i, round)
			if err := l.AddSPN(ctx, sc.AccountDN(sc.Users[i].Name), spn); err != nil {
				b.Fatal(err)
			}
		}
		round++
	})
}
