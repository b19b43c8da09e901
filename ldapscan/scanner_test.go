package ldapscan

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/inventory"
)

func newTestScanner(t testing.TB, urls []string, mutate func(*Config)) *Scanner {
	t.Helper()
	cfg := Config{
		URLs:         urls,
		SASLSecurity: SASLNone,
		PageSize:     100,
		Timeout:      5 * time.Second,
		Logger:       slog.New(slog.DiscardHandler),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	sc, err := New(cfg, SimpleBind{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sc.Close() })
	return sc
}

func scanOK(t testing.TB, sc *Scanner) *Result {
	t.Helper()
	res, err := sc.Scan(context.Background())
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	return res
}

func objectByName(t testing.TB, snap *inventory.Snapshot, sam string) *inventory.Object {
	t.Helper()
	for _, o := range snap.Objects {
		if o.SAMAccountName == sam {
			return o
		}
	}
	t.Fatalf("no object %s in snapshot", sam)
	return nil
}

func spnList(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s/host%05d.corp.example.test", prefix, i)
	}
	return out
}

func TestScanReadsInventoryAndDirectory(t *testing.T) {
	fa := newFakeAD()
	web := fa.account("WEB01$", "computer", "HOST/web01", "HOST/web01.corp.example.test")
	fa.modify(web, func(a map[string][]string) {
		a["dNSHostName"] = []string{"web01.corp.example.test"}
		a["userAccountControl"] = []string{"4096"}
		a["msDS-SupportedEncryptionTypes"] = []string{"-2147483624"} // bit 31 set, AES
		a["pwdLastSet"] = []string{"133485408000000000"}
	})
	svc := fa.account("svc_app", "user", "HTTP/svnlb301", "HTTP/svnlb301.corp.example.test")
	fa.modify(svc, func(a map[string][]string) {
		a["adminCount"] = []string{"1"}
		a["msDS-AllowedToDelegateTo"] = []string{"cifs/fs01"}
		a["pwdLastSet"] = []string{"0"}
	})
	fa.account("gmsa1$", "gmsa", "MSSQLSvc/db01:1433")
	fa.account("nospn", "user") // must not appear
	sc := newTestScanner(t, []string{"ldap://" + fa.serve(t, nil, false)}, nil)

	res := scanOK(t, sc)
	snap := res.Snapshot
	if got := len(snap.Objects); got != 3 {
		t.Fatalf("objects = %d, want 3: %+v", got, snap.Objects)
	}
	w := objectByName(t, snap, "WEB01$")
	enc := uint32(0x80000018)
	want := inventory.Object{
		GUID: w.GUID, DN: web, Domain: "corp.example.test", SAMAccountName: "WEB01$",
		Kind: inventory.KindComputer, UserAccountControl: 4096, DNSHostName: "web01.corp.example.test",
		SupportedEncryptionTypes: &enc, PwdLastSet: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		USNChanged: w.USNChanged, SPNs: []string{"HOST/web01", "HOST/web01.corp.example.test"},
	}
	if !reflect.DeepEqual(*w, want) || w.GUID.IsZero() || w.USNChanged == 0 {
		t.Errorf("computer object\n got %+v\nwant %+v", w, want)
	}
	s := objectByName(t, snap, "svc_app")
	if s.Kind != inventory.KindUser || s.AdminCount != 1 || !s.PwdLastSet.IsZero() ||
		!slices.Equal(s.AllowedToDelegateTo(), []string{"cifs/fs01"}) || s.SupportedEncryptionTypes != nil {
		t.Errorf("user object: %+v", s)
	}
	if g := objectByName(t, snap, "gmsa1$"); g.Kind != inventory.KindGMSA {
		t.Errorf("gMSA kind = %s", g.Kind)
	}

	d := snap.Directory
	if d.ForestDNS != "corp.example.test" || !slices.Equal(d.Domains, []string{"corp.example.test"}) ||
		d.NetBIOSDomains["corp.example.test"] != "CORP" {
		t.Errorf("forest: %+v", d)
	}
	if !slices.Equal(d.SPNMappings, []string{"host=alerter,http,cifs"}) || d.DSHeuristics != "00000000010000000002000000011" {
		t.Errorf("directory service settings: %q %q", d.SPNMappings, d.DSHeuristics)
	}
	if want := []string{"svnlb301.corp.example.test", "web01.corp.example.test"}; !slices.Equal(d.DNSNames, want) {
		t.Errorf("DNS names = %q, want %q", d.DNSNames, want)
	}
	if res.Watermark.USN == 0 || res.Watermark.InvocationID == "" || res.Watermark.DSServiceName != fa.dsService {
		t.Errorf("watermark: %+v", res.Watermark)
	}
	if res.Stats.Mode != inventory.FullScan || res.Stats.Entries != 3 {
		t.Errorf("stats: %+v", res.Stats)
	}
}

// TestScanPagesAreStreamed proves that pages are handed over as they come,
// with a bounded read-ahead: when the progress hook sees page n, the server
// has been asked for at least n pages and at most n+2 (searchRecords: while
// page n is converted, page n+1 waits to be handed over, and page n+2 was
// asked for on n+1's cookie). A read that buffered the whole search would
// have served all 13 pages by the first progress call.
func TestScanPagesAreStreamed(t *testing.T) {
	fa := newFakeAD()
	const objects = 1234
	for i := range objects {
		fa.account(fmt.Sprintf("svc%05d", i), "user", fmt.Sprintf("HTTP/app%05d.corp.example.test", i))
	}
	var seen []Progress
	var served []int64
	sc := newTestScanner(t, []string{"ldap://" + fa.serve(t, nil, false)}, func(c *Config) {
		c.PageSize = 100
		c.Progress = func(p Progress) {
			seen = append(seen, p)
			served = append(served, fa.inventoryPages.Load())
		}
	})
	res := scanOK(t, sc)
	if len(res.Snapshot.Objects) != objects {
		t.Fatalf("objects = %d, want %d", len(res.Snapshot.Objects), objects)
	}
	wantPages := (objects + 99) / 100
	if len(seen) != wantPages || res.Stats.Pages != wantPages {
		t.Fatalf("progress calls = %d, stats pages = %d, want %d", len(seen), res.Stats.Pages, wantPages)
	}
	for i, p := range seen {
		if p.Pages != i+1 || p.Objects != min((i+1)*100, objects) || p.NamingContext != fakeDomainNC {
			t.Errorf("progress %d = %+v", i, p)
		}
		const readAhead = 2
		if got := served[i]; got < int64(i)+1 || got > int64(i)+1+readAhead {
			t.Fatalf("at page %d the server had been asked for %d pages, want %d to %d: results are not streamed",
				i+1, got, i+1, i+1+readAhead)
		}
	}
}

func TestScanRangeRetrieval(t *testing.T) {
	tests := []struct {
		name     string
		spns     int
		delegate int
		requests int // follow-up range requests
	}{
		{"below limit", 1499, 0, 0},
		{"exactly MaxValRange", 1500, 0, 0},
		{"one over", 1501, 0, 1},
		{"2000 SPNs", 2000, 0, 1},
		{"exactly two ranges", 3000, 0, 1},
		{"three ranges", 3001, 0, 2},
		{"two ranged attributes", 2000, 1600, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fa := newFakeAD()
			spns := spnList("HTTP", tc.spns)
			dn := fa.account("bigsvc", "user", spns...)
			delegate := spnList("cifs", tc.delegate)
			if tc.delegate > 0 {
				fa.modify(dn, func(a map[string][]string) { a["msDS-AllowedToDelegateTo"] = delegate })
			}
			fa.account("small", "user", "HTTP/small")
			sc := newTestScanner(t, []string{"ldap://" + fa.serve(t, nil, false)}, nil)
			res := scanOK(t, sc)
			o := objectByName(t, res.Snapshot, "bigsvc")
			if !slices.Equal(o.SPNs, spns) {
				t.Errorf("SPNs: got %d values, want %d (equal order and content)", len(o.SPNs), len(spns))
			}
			if len(delegate) > 0 && !slices.Equal(o.AllowedToDelegateTo(), delegate) {
				t.Errorf("msDS-AllowedToDelegateTo: got %d values, want %d", len(o.AllowedToDelegateTo()), len(delegate))
			}
			if res.Stats.RangeRequests != tc.requests {
				t.Errorf("range requests = %d, want %d", res.Stats.RangeRequests, tc.requests)
			}
			if got := objectByName(t, res.Snapshot, "small").SPNs; !slices.Equal(got, []string{"HTTP/small"}) {
				t.Errorf("small account SPNs = %q", got)
			}
		})
	}
}

func TestScanRangeRetrievalFailsWhenServerMisbehaves(t *testing.T) {
	for _, fault := range []string{"restart", "omit"} {
		t.Run(fault, func(t *testing.T) {
			fa := newFakeAD()
			fa.account("bigsvc", "user", spnList("HTTP", 2000)...)
			fa.rangeFault = fault
			sc := newTestScanner(t, []string{"ldap://" + fa.serve(t, nil, false)}, nil)
			// Returning 1500 of 2000 SPNs would be a silent partial scan.
			res, err := sc.Scan(context.Background())
			if StageOf(err) != StageRange || res != nil {
				t.Fatalf("got result %v, error %v (stage %q); want no result and a range error", res != nil, err, StageOf(err))
			}
		})
	}
}
