package ldapscan

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/internal/labtest"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/krb"
	"github.com/spnaudit/spnaudit/lab"
)

// labScanner returns a Scanner bound to the lab DC with Kerberos from the
// audit account's keytab.
func labScanner(t testing.TB, l *lab.Lab, url string, security SASLSecurity, startTLS bool) *Scanner {
	t.Helper()
	kc, err := krb.New(krb.Config{Realm: lab.Realm, Principal: lab.AuditUser, KeytabFile: l.Keytab(), KDCs: []string{"127.0.0.1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{URLs: []string{url}, StartTLS: startTLS, SASLSecurity: security, Logger: slog.New(slog.DiscardHandler)}
	if startTLS || strings.HasPrefix(url, "ldaps:") {
		cfg.TLS.CAFile = l.CAFile()
	}
	sc, err := New(cfg, Kerberos{Client: kc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sc.Close() })
	return sc
}

// ldapsearchInventory reads every object with SPNs under base with
// OpenLDAP's ldapsearch -Y GSSAPI, independently of go-ldap, and parses its
// output with ReadLDIF.
func ldapsearchInventory(t *testing.T, l *lab.Lab, base string) map[string][]string {
	t.Helper()
	if _, err := exec.LookPath("ldapsearch"); err != nil {
		labtest.Unavailable(t, "ldapsearch is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ccache, err := l.CCache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// -N: name the DC as written, not by reverse DNS (127.0.0.1 is localhost).
	cmd := exec.CommandContext(ctx, "ldapsearch", "-N", "-Q", "-LLL", "-Y", "GSSAPI", "-H", lab.LDAPURL(),
		"-b", base, "-E", "pr=1000/noprompt", "-o", "ldif-wrap=no",
		"(servicePrincipalName=*)", "servicePrincipalName", "sAMAccountName")
	cmd.Env = append(os.Environ(), "KRB5CCNAME="+ccache, "KRB5_CONFIG="+l.Krb5Conf())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ldapsearch: %v", err)
	}
	res, err := ReadLDIF(strings.NewReader(string(out)), "ldapsearch")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) > 0 {
		t.Fatalf("ldapsearch output incomplete: %q", res.Warnings)
	}
	return spnsByDN(res.Snapshot.Objects)
}

func spnsByDN(objects []*inventory.Object) map[string][]string {
	out := make(map[string][]string, len(objects))
	for _, o := range objects {
		out[strings.ToLower(o.DN)] = o.SPNs
	}
	return out
}

// TestLabInventoryMatchesLdapsearch: against the Samba lab DC, which refuses
// SASL binds without signing or sealing on plain LDAP, the inventory read
// with each security setting equals, object for object and value for value,
// what ldapsearch -Y GSSAPI returns. The whole domain is compared when it
// did not change during the test (other packages seed the shared lab
// concurrently); OU=Farm, which no test modifies, always is.
func TestLabInventoryMatchesLdapsearch(t *testing.T) {
	l := labtest.RequireQuiet(t)
	farm := "OU=Farm," + lab.BaseDN
	wantFarm := ldapsearchInventory(t, l, farm)
	before := ldapsearchInventory(t, l, lab.BaseDN)
	for _, tc := range []struct {
		name     string
		security SASLSecurity
	}{
		{"ldap sign", SASLSign},
		{"ldap seal", SASLSeal},
		{"ldap auto", SASLAuto},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := labScanner(t, l, lab.LDAPURL(), tc.security, false)
			res, err := sc.Scan(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			got := spnsByDN(res.Snapshot.Objects)
			compareInventories(t, "OU=Farm", got, wantFarm, true)
			if after := ldapsearchInventory(t, l, lab.BaseDN); reflect.DeepEqual(before, after) {
				compareInventories(t, "domain", got, before, false)
			} else {
				t.Logf("the lab changed during the scan: whole-domain comparison skipped")
				before = after
			}
			if res.Snapshot.Directory.ForestDNS != lab.DNSDomain || len(res.Snapshot.Directory.SPNMappings) == 0 {
				t.Errorf("directory: %+v", res.Snapshot.Directory)
			}
			t.Logf("%s: %d objects, %d SPNs, %d pages, %d range requests, %v",
				tc.name, len(res.Snapshot.Objects), res.Snapshot.SPNCount(), res.Stats.Pages, res.Stats.RangeRequests, res.Snapshot.Duration)
		})
	}
}

// compareInventories checks that got holds every object of want with the
// same SPNs; with subset, got may hold other objects too.
func compareInventories(t *testing.T, what string, got, want map[string][]string, subset bool) {
	t.Helper()
	if len(want) == 0 {
		t.Fatalf("%s: ldapsearch found no object", what)
	}
	if !subset && len(got) != len(want) {
		t.Errorf("%s: scan has %d objects, ldapsearch %d", what, len(got), len(want))
	}
	for dn, spns := range want {
		if !slices.Equal(got[dn], spns) {
			t.Errorf("%s: %s: scan has %d SPNs %.80q, ldapsearch %d %.80q", what, dn, len(got[dn]), got[dn], len(spns), spns)
		}
	}
}

// TestLabIncrementalPoll: a poll right after a full scan on the lab DC runs
// incrementally (the USN watermark and invocationId are usable on Samba).
func TestLabIncrementalPoll(t *testing.T) {
	l := labtest.Require(t)
	sc := labScanner(t, l, lab.LDAPURL(), SASLSeal, false)
	full, err := sc.Scan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	res, err := sc.Poll(context.Background(), full)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.Mode != inventory.IncrementalScan {
		t.Fatalf("poll ran %s: %s", res.Stats.Mode, res.Stats.FullReason)
	}
	t.Logf("full scan %v (%d objects); poll %v fetched %d", full.Snapshot.Duration, len(full.Snapshot.Objects), res.Snapshot.Duration, res.Stats.Entries)
}

// TestLabPollSeesChanges changes objects of its own OU on the lab DC between
// polls and checks each poll against a full scan: an SPN added, a last SPN
// removed, a value written beneath the uniqueness check, the OU deleted.
func TestLabPollSeesChanges(t *testing.T) {
	sc := &lab.Scenario{Name: "ldapscan-poll", OU: "LdapscanPoll",
		Users: []lab.User{
			{Name: "poll_a", SPNs: []string{"HTTP/poll-a.corp.example.test"}},
			{Name: "poll_b", SPNs: []string{"HTTP/poll-b.corp.example.test"}},
			{Name: "poll_c"},
		}}
	l := labtest.Scenario(t, sc)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	scanner := labScanner(t, l, lab.LDAPURL(), SASLSeal, false)
	prev, err := scanner.Scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ou := strings.ToLower(sc.OUDN())
	inOU := func(snap *inventory.Snapshot) map[string][]string {
		out := map[string][]string{}
		for dn, spns := range spnsByDN(snap.Objects) {
			if strings.HasSuffix(dn, ","+ou) {
				out[dn] = spns
			}
		}
		return out
	}
	steps := []struct {
		name   string
		change func() error
	}{
		{"SPN added", func() error { return l.AddSPN(ctx, sc.AccountDN("poll_c"), "HTTP/poll-c.corp.example.test") }},
		{"last SPN removed", func() error { return l.RemoveSPN(ctx, sc.AccountDN("poll_b"), "HTTP/poll-b.corp.example.test") }},
		{"value beneath the uniqueness check", func() error {
			return l.InjectCollision(ctx, sc.AccountDN("poll_a"), "HTTP/poll-c.corp.example.test")
		}},
		{"objects deleted", func() error { return l.Locked(func() error { return l.Reset(ctx, sc) }) }},
	}
	for _, step := range steps {
		res := pollAfter(ctx, t, scanner, prev, step.name, step.change)
		full, err := scanner.Scan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := inOU(res.Snapshot), inOU(full.Snapshot); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: poll sees %v, a full scan %v", step.name, got, want)
		}
		t.Logf("%s: poll fetched %d, removed %d in %v; OU now %v", step.name, res.Stats.Entries, res.Stats.Removed, res.Snapshot.Duration, inOU(res.Snapshot))
		prev = res
	}
	if left := inOU(prev.Snapshot); len(left) != 0 {
		t.Fatalf("objects left after deleting the OU: %v", left)
	}
}

// pollAfter makes a change on the lab DC and polls from prev, failing the
// test unless the poll read incrementally.
func pollAfter(ctx context.Context, t *testing.T, scanner *Scanner, prev *Result, name string, change func() error) *Result {
	t.Helper()
	if err := change(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	res, err := scanner.Poll(ctx, prev)
	if err != nil {
		t.Fatalf("%s: poll: %v", name, err)
	}
	if res.Stats.Mode != inventory.IncrementalScan {
		t.Fatalf("%s: poll ran %s: %s", name, res.Stats.Mode, res.Stats.FullReason)
	}
	return res
}
