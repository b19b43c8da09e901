package ldapscan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
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
	if res.Stats.Mode != ModeIncremental || res.Stats.Entries != 1 || len(res.Snapshot.Objects) != 11 {
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

func TestReferralsReportedNotFollowed(t *testing.T) {
	fa := newFakeAD()
	fa.account("svc", "user", "HTTP/web01")
	// A continuation reference inside the domain (as AD returns for the
	// DomainDnsZones partition), and a whole naming context answered by a
	// referral (the child domain, reached through the Global Catalog here).
	fa.put("ref:ldap://child.corp.example.test/DC=child,DC=corp,DC=example,DC=test ,CN=Users,"+fakeDomainNC,
		map[string][]string{"servicePrincipalName": {"x"}})
	fa.addDomain("child.corp.example.test", "CHILD", "DC=child,"+fakeDomainNC)
	gc := newFakeAD()
	gc.referrals[strings.ToLower("DC=child,"+fakeDomainNC)] = []string{"ldap://dc9.child.corp.example.test/DC=child,DC=corp,DC=example,DC=test"}
	gcProxy := newProxy(t, gc.serve(t, nil, false))
	p := newProxy(t, fa.serve(t, nil, false))
	sc := newTestScanner(t, []string{"ldap://" + p.addr}, nil)
	sc.globalCatalog = func(endpoint) endpoint { ep, _ := parseEndpoint("ldap://" + gcProxy.addr); return ep }

	res := scanOK(t, sc)
	if len(res.Snapshot.Objects) != 1 {
		t.Fatalf("objects = %d, want 1", len(res.Snapshot.Objects))
	}
	want := []string{
		"ldap://child.corp.example.test/DC=child,DC=corp,DC=example,DC=test",
		"ldap://dc9.child.corp.example.test/DC=child,DC=corp,DC=example,DC=test",
	}
	if res.Stats.Referrals != 2 || !slices.Equal(res.Stats.ReferralURLs, want) {
		t.Fatalf("referrals %d %q, want 2 %q", res.Stats.Referrals, res.Stats.ReferralURLs, want)
	}
	if gc.searches.Load() == 0 || gcProxy.accepted.Load() != 1 {
		t.Fatal("the Global Catalog was not asked")
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
	d := res.Snapshot.Directory
	if !slices.Equal(d.Domains, []string{"child.corp.example.test", "corp.example.test"}) || d.NetBIOSDomains["child.corp.example.test"] != "CHILD" {
		t.Fatalf("domains %q netbios %v", d.Domains, d.NetBIOSDomains)
	}
	// Polls read the Global Catalog incrementally too.
	gc.domainNC = childNC
	gc.account("childnew", "user", "HTTP/childnew")
	res = pollOK(t, sc, res)
	if res.Stats.Mode != ModeIncremental || len(res.Snapshot.Objects) != 3 {
		t.Fatalf("poll: mode %s (%s), objects %d", res.Stats.Mode, res.Stats.FullReason, len(res.Snapshot.Objects))
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
