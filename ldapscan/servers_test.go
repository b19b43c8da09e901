package ldapscan

import (
	"context"
	"slices"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

// TestScanReportsEveryServer: every scan and poll says which servers it
// reached, the Global Catalog included, whether it succeeded or failed, so a
// Global Catalog that failed once is reported up again when it answers.
func TestScanReportsEveryServer(t *testing.T) {
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
	down, dc := "ldap://"+freeAddr(t), "ldap://"+fa.serve(t, nil, false)
	sc := newTestScanner(t, []string{down, dc}, nil)
	gcURL := "ldap://" + freeAddr(t) // nothing listens there yet
	sc.globalCatalog = func(endpoint) endpoint { ep, _ := parseEndpoint(gcURL); return ep }

	res, err := sc.Scan(context.Background())
	if res != nil || StageOf(err) != StageConnect {
		t.Fatalf("scan with the Global Catalog down: result %v, error %v", res != nil, err)
	}
	want := []ServerStatus{{down, false, false}, {dc, false, true}, {gcURL, true, false}}
	if got := ServersOf(err); !slices.Equal(got, want) {
		t.Fatalf("failed scan: servers %+v, want %+v", got, want)
	}

	gcURL = "ldap://" + gcAddr
	res = scanOK(t, sc)
	want = []ServerStatus{{down, false, false}, {dc, false, true}, {gcURL, true, true}}
	if !slices.Equal(res.Stats.Servers, want) {
		t.Fatalf("scan: servers %+v, want %+v", res.Stats.Servers, want)
	}

	// A poll reuses both connections: both answered.
	res = pollOK(t, sc, res)
	want = []ServerStatus{{dc, false, true}, {gcURL, true, true}}
	if res.Stats.Mode != inventory.IncrementalScan || !slices.Equal(res.Stats.Servers, want) {
		t.Fatalf("poll (%s): servers %+v, want %+v", res.Stats.Mode, res.Stats.Servers, want)
	}

	// Every configured server down: each is reported, none up.
	gone := newTestScanner(t, []string{down, "ldap://" + freeAddr(t)}, nil)
	_, err = gone.Scan(context.Background())
	got := ServersOf(err)
	if len(got) != 2 || got[0].Up || got[1].Up || got[0].Server != down {
		t.Fatalf("every server down: servers %+v", got)
	}
	if ServersOf(context.Canceled) != nil {
		t.Fatal("servers reported for an error without any")
	}
}
