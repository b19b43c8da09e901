package ldapscan

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/inventory"
)

func bulkDirectory(n int) *fakeAD {
	fa := newFakeAD()
	for i := range n {
		fa.account(fmt.Sprintf("svc%04d", i), "user", fmt.Sprintf("HTTP/app%04d", i))
	}
	return fa
}

// TestConnectionCutMidPaging: the connection drops in the middle of the
// inventory; the scan fails cleanly in the search stage and the next scan
// reconnects and succeeds.
func TestConnectionCutMidPaging(t *testing.T) {
	fa := bulkDirectory(1000)
	p := newProxy(t, fa.serve(t, nil, false))
	sc := newTestScanner(t, []string{"ldap://" + p.addr}, nil)
	dnsPages := int64(1)
	p.dropAfter.Store(dnsPages + 3)

	res, err := sc.Scan(context.Background())
	if res != nil || StageOf(err) != StageSearch {
		t.Fatalf("cut scan: result %v, error %v (stage %q); want no result, stage search", res != nil, err, StageOf(err))
	}
	var se *Error
	if !errors.As(err, &se) || se.Server != "ldap://"+p.addr {
		t.Fatalf("error does not name the server: %v", err)
	}
	p.dropAfter.Store(0)
	res = scanOK(t, sc)
	if len(res.Snapshot.Objects) != 1000 {
		t.Fatalf("objects after recovery = %d, want 1000", len(res.Snapshot.Objects))
	}
	if p.accepted.Load() != 2 {
		t.Fatalf("connections = %d, want 2 (the second scan reconnects)", p.accepted.Load())
	}
}

// TestPollReconnectsDroppedConnection: the kept connection dies between
// polls (DC restart, idle timeout); the poll reconnects and rebinds on its
// own and stays incremental, the DC being the same.
func TestPollReconnectsDroppedConnection(t *testing.T) {
	fa := bulkDirectory(10)
	p := newProxy(t, fa.serve(t, nil, false))
	sc := newTestScanner(t, []string{"ldap://" + p.addr}, nil)
	res := scanOK(t, sc)
	p.cut()
	fa.account("late", "user", "HTTP/late")
	res = pollOK(t, sc, res)
	if res.Stats.Mode != inventory.IncrementalScan || res.Stats.Entries != 1 || len(res.Snapshot.Objects) != 11 {
		t.Fatalf("poll after cut: mode %s fetched %d objects %d", res.Stats.Mode, res.Stats.Entries, len(res.Snapshot.Objects))
	}
}

func TestPollFailsCleanlyWhenServerGone(t *testing.T) {
	fa := bulkDirectory(10)
	p := newProxy(t, fa.serve(t, nil, false))
	sc := newTestScanner(t, []string{"ldap://" + p.addr}, nil)
	prev := scanOK(t, sc)
	p.refuse()
	res, err := sc.Poll(context.Background(), prev)
	if res != nil || StageOf(err) != StageConnect {
		t.Fatalf("poll with the DC down: result %v, error %v; want a connect error", res != nil, err)
	}
	if len(prev.Snapshot.Objects) != 10 {
		t.Fatal("the previous snapshot changed")
	}
}

// TestContinuationReferencesReportedNotFollowed: a continuation reference
// inside the domain (as AD returns for the DomainDnsZones partition, read on
// its own) is reported and not followed; the scan is complete without it.
func TestContinuationReferencesReportedNotFollowed(t *testing.T) {
	fa := newFakeAD()
	fa.account("svc", "user", "HTTP/web01")
	fa.put("ref:ldap://corp.example.test/DC=DomainDnsZones,DC=corp,DC=example,DC=test ,CN=Users,"+fakeDomainNC,
		map[string][]string{"servicePrincipalName": {"x"}})
	p := newProxy(t, fa.serve(t, nil, false))
	sc := newTestScanner(t, []string{"ldap://" + p.addr}, nil)

	res := scanOK(t, sc)
	if len(res.Snapshot.Objects) != 1 {
		t.Fatalf("objects = %d, want 1", len(res.Snapshot.Objects))
	}
	want := []string{"ldap://corp.example.test/DC=DomainDnsZones,DC=corp,DC=example,DC=test"}
	if res.Stats.Referrals != 1 || !slices.Equal(res.Stats.ReferralURLs, want) {
		t.Fatalf("referrals %d %q, want 1 %q", res.Stats.Referrals, res.Stats.ReferralURLs, want)
	}
}

// TestReferralForNamingContextFailsScan: a naming context in scope answered
// by a referral (the Global Catalog, or the DC for ldap.base_dn, does not
// hold it) is a failed scan at stage referral, never a success without that
// naming context's objects. Referrals are not followed.
//
// A Windows DC answers a search whose base lies in a naming context it does
// not hold with a referral to the dnsRoot of the crossRef whose nCName is
// the longest prefix of the base (MS-ADTS 3.1.1.3.1.4 and 3.1.1.4.6). Samba
// answers noSuchObject instead (checked against the lab DC on 389 and 3268
// for DC=child,DC=corp,DC=example,DC=test), which fails the scan already;
// hence the in-process server here.
func TestReferralForNamingContextFailsScan(t *testing.T) {
	const childNC = "DC=child," + fakeDomainNC
	const childURL = "ldap://dc9.child.corp.example.test/DC=child,DC=corp,DC=example,DC=test"
	for _, tc := range []struct {
		name string
		// setup returns the scanner and the server expected in the error.
		setup func(t *testing.T) (*Scanner, string)
	}{
		{"other domain through the Global Catalog", func(t *testing.T) (*Scanner, string) {
			fa := newFakeAD()
			fa.account("svc", "user", "HTTP/web01")
			fa.addDomain("child.corp.example.test", "CHILD", childNC)
			gc := newFakeAD()
			gc.referrals[strings.ToLower(childNC)] = []string{childURL}
			// The proxies give referral results their referral field.
			gcAddr := newProxy(t, gc.serve(t, nil, false)).addr
			sc := newTestScanner(t, []string{"ldap://" + fa.serve(t, nil, false)}, nil)
			sc.globalCatalog = func(endpoint) endpoint { ep, _ := parseEndpoint("ldap://" + gcAddr); return ep }
			return sc, "ldap://" + gcAddr
		}},
		{"configured base DN", func(t *testing.T) (*Scanner, string) {
			fa := newFakeAD()
			fa.account("svc", "user", "HTTP/web01")
			fa.referrals[strings.ToLower(childNC)] = []string{childURL}
			addr := newProxy(t, fa.serve(t, nil, false)).addr
			return newTestScanner(t, []string{"ldap://" + addr}, func(c *Config) { c.BaseDN = childNC }), "ldap://" + addr
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, server := tc.setup(t)
			res, err := sc.Scan(context.Background())
			if res != nil || StageOf(err) != StageReferral {
				t.Fatalf("scan: result %v, error %v (stage %q); want no result, stage referral", res != nil, err, StageOf(err))
			}
			var se *Error
			if !errors.As(err, &se) || se.Server != server {
				t.Fatalf("error does not name the server %s: %v", server, err)
			}
			for _, want := range []string{childNC, childURL} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %s", err, want)
				}
			}
		})
	}
}

// TestReferralFailsPoll: an incremental poll that meets a referral for a
// naming context it reads fails too; the previous result is untouched.
func TestReferralFailsPoll(t *testing.T) {
	const childNC = "DC=child," + fakeDomainNC
	fa := newFakeAD()
	fa.account("rootsvc", "user", "HTTP/root")
	fa.addDomain("child.corp.example.test", "CHILD", childNC)
	gc := newFakeAD()
	gc.put(childNC, map[string][]string{"objectClass": {"domain"}})
	gc.put("CN=Users,"+childNC, map[string][]string{"objectClass": {"container"}})
	gc.domainNC = childNC
	gc.account("childsvc", "user", "HTTP/child")
	gcAddr := gc.serve(t, nil, false)
	sc := newTestScanner(t, []string{"ldap://" + fa.serve(t, nil, false)}, nil)
	sc.globalCatalog = func(endpoint) endpoint { ep, _ := parseEndpoint("ldap://" + gcAddr); return ep }
	prev := scanOK(t, sc)
	if len(prev.Snapshot.Objects) != 2 {
		t.Fatalf("objects = %d, want 2", len(prev.Snapshot.Objects))
	}
	gc.mu.Lock()
	gc.referrals[strings.ToLower(childNC)] = []string{"ldap://dc9.child.corp.example.test/" + childNC}
	gc.mu.Unlock()
	fa.account("late", "user", "HTTP/late")
	res, err := sc.Poll(context.Background(), prev)
	if res != nil || StageOf(err) != StageReferral {
		t.Fatalf("poll: result %v, error %v (stage %q); want no result, stage referral", res != nil, err, StageOf(err))
	}
	if len(prev.Snapshot.Objects) != 2 {
		t.Fatal("the previous snapshot changed")
	}
}

// TestGlobalCatalogForOtherDomains: the DC's own domain is read over LDAP,
// the other domains of the forest through the Global Catalog.
func TestGlobalCatalogForOtherDomains(t *testing.T) {
	const childNC = "DC=child," + fakeDomainNC
	fa := newFakeAD()
	fa.account("rootsvc", "user", "HTTP/root")
	fa.addDomain("child.corp.example.test", "CHILD", childNC)
	gc := newFakeAD()
	gc.put(childNC, map[string][]string{"objectClass": {"domain"}})
	gc.put("CN=Users,"+childNC, map[string][]string{"objectClass": {"container"}})
	gc.domainNC = childNC
	gc.account("childsvc", "user", "HTTP/child")
	gc.domainNC = fakeDomainNC
	gc.account("rootsvc", "user", "HTTP/root") // the GC also holds the root domain: not read twice
	gcAddr := gc.serve(t, nil, false)
	sc := newTestScanner(t, []string{"ldap://" + fa.serve(t, nil, false)}, nil)
	sc.globalCatalog = func(endpoint) endpoint { ep, _ := parseEndpoint("ldap://" + gcAddr); return ep }

	res := scanOK(t, sc)
	got := map[string]string{}
	for _, o := range res.Snapshot.Objects {
		got[o.SAMAccountName] = o.Domain
	}
	if want := map[string]string{"rootsvc": "corp.example.test", "childsvc": "child.corp.example.test"}; !mapsEqual(got, want) {
		t.Fatalf("objects by domain = %v, want %v", got, want)
	}
	if want := []string{fakeDomainNC, "gc:" + childNC}; !slices.Equal(res.Watermark.NamingContexts, want) {
		t.Fatalf("naming contexts %q, want %q", res.Watermark.NamingContexts, want)
	}
	if want := []string{fakeDomainNC, childNC}; !slices.Equal(res.Snapshot.NamingContexts, want) {
		t.Fatalf("snapshot naming contexts %q, want %q", res.Snapshot.NamingContexts, want)
	}
	if got, want := res.Snapshot.ObjectsByNamingContext(), map[string]int{fakeDomainNC: 1, childNC: 1}; !maps.Equal(got, want) {
		t.Fatalf("objects by naming context %v, want %v", got, want)
	}
	d := res.Snapshot.Directory
	if !slices.Equal(d.Domains, []string{"child.corp.example.test", "corp.example.test"}) || d.NetBIOSDomains["child.corp.example.test"] != "CHILD" {
		t.Fatalf("domains %q netbios %v", d.Domains, d.NetBIOSDomains)
	}
	// Polls read the Global Catalog incrementally too.
	gc.domainNC = childNC
	gc.account("childnew", "user", "HTTP/childnew")
	res = pollOK(t, sc, res)
	if res.Stats.Mode != inventory.IncrementalScan || len(res.Snapshot.Objects) != 3 {
		t.Fatalf("poll: mode %s (%s), objects %d", res.Stats.Mode, res.Stats.FullReason, len(res.Snapshot.Objects))
	}
	if got, want := res.Snapshot.ObjectsByNamingContext(), map[string]int{fakeDomainNC: 1, childNC: 2}; !maps.Equal(got, want) {
		t.Fatalf("objects by naming context after the poll %v, want %v", got, want)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestPollRereadsDNSOnlyWhenChanged(t *testing.T) {
	fa := newFakeAD()
	fa.account("svc", "user", "HTTP/web01")
	sc := newTestScanner(t, []string{"ldap://" + fa.serve(t, nil, false)}, nil)
	res := scanOK(t, sc)
	res = pollOK(t, sc, res)
	if res.Stats.DNSReread {
		t.Fatal("DNS names re-read without a DNS change")
	}
	fa.put("DC=web02,DC=corp.example.test,CN=MicrosoftDNS,DC=DomainDnsZones,"+fakeDomainNC,
		map[string][]string{"objectClass": {"dnsNode"}, "name": {"web02"}})
	res = pollOK(t, sc, res)
	if !res.Stats.DNSReread || !slices.Contains(res.Snapshot.Directory.DNSNames, "web02.corp.example.test") {
		t.Fatalf("DNS change missed: reread %v names %q", res.Stats.DNSReread, res.Snapshot.Directory.DNSNames)
	}
	fa.remove("DC=web01,DC=corp.example.test,CN=MicrosoftDNS,DC=DomainDnsZones," + fakeDomainNC)
	res = pollOK(t, sc, res)
	if slices.Contains(res.Snapshot.Directory.DNSNames, "web01.corp.example.test") {
		t.Fatalf("deleted DNS record still listed: %q", res.Snapshot.Directory.DNSNames)
	}
}

func TestScanHonoursContext(t *testing.T) {
	fa := bulkDirectory(500)
	sc := newTestScanner(t, []string{"ldap://" + fa.serve(t, nil, false)}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	sc.cfg.Progress = func(p Progress) {
		if p.Pages == 2 {
			cancel()
		}
	}
	start := time.Now()
	res, err := sc.Scan(ctx)
	if res != nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled scan: result %v error %v", res != nil, err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("cancellation took too long")
	}
	sc.cfg.Progress = nil
	if res := scanOK(t, sc); len(res.Snapshot.Objects) != 500 {
		t.Fatal("scan after a cancelled one is incomplete")
	}
}
