package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/internal/labtest"
	"github.com/spnaudit/spnaudit/lab"
)

// farmDN is the OU of the lab's IIS farm scenario, which tests only read.
const farmDN = "OU=Farm," + lab.BaseDN

// labConfigFile writes a configuration for the lab DC with the keys of set
// changed (see lab.WriteConfig).
func labConfigFile(t *testing.T, l *lab.Lab, set map[string]any) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "spnaudit.yaml")
	if err := l.WriteConfig(path, set); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLabInventoryAuth reads the farm over plain LDAP with every SASL
// security layer and every credential source, and compares each inventory
// with ldapsearch's. (TLS: TestInventoryOverTLS.)
func TestLabInventoryAuth(t *testing.T) {
	l := labtest.Require(t)
	clearEnv(t)
	ccache := kinit(t, l)
	want := map[string][]string{}
	for dn, o := range ldapsearchObjects(t, l, ccache, farmDN) {
		want[dn] = o.spns
	}
	if len(want) == 0 {
		t.Fatal("ldapsearch found no object in the farm")
	}
	credentials := []struct {
		name string
		set  map[string]any
	}{
		{"keytab", map[string]any{}},
		{"password file", map[string]any{"kerberos.keytab": nil, "kerberos.password_file": l.PasswordFile()}},
		{"ccache", map[string]any{"kerberos.keytab": nil, "kerberos.principal": nil, "kerberos.ccache": ccache}},
	}
	for _, security := range []string{"sign", "seal", "auto"} {
		for _, cred := range credentials {
			t.Run(security+" "+cred.name, func(t *testing.T) {
				set := maps.Clone(cred.set)
				set["ldap.sasl_security"] = security
				set["ldap.base_dn"] = farmDN
				r := spnaudit(t, false, "inventory", "--config", labConfigFile(t, l, set), "--format", "json")
				if r.status != 0 || r.stderr != "" {
					t.Fatalf("status %d, stderr %q", r.status, r.stderr)
				}
				if diff := compareInventories(want, spnsByDN(t, []byte(r.stdout))); diff != "" {
					t.Errorf("inventory differs from ldapsearch's: %s", diff)
				}
			})
		}
	}
	t.Run("logs only when asked for", func(t *testing.T) {
		config := labConfigFile(t, l, map[string]any{"ldap.base_dn": farmDN})
		r := spnaudit(t, false, "inventory", "--config", config, "--log.level", "info")
		if r.status != 0 || !strings.Contains(r.stderr, `msg="kerberos TGT obtained"`) || !strings.Contains(r.stderr, `msg="ldap full scan done"`) {
			t.Errorf("--log.level info: status %d, stderr %q", r.status, r.stderr)
		}
	})
	// ldap.allow_plaintext: spnaudit itself refuses no layer on ldap:// (config);
	// this asks what the DC does.
	t.Run("no layer is refused by a DC that requires signing", func(t *testing.T) {
		r := spnaudit(t, false, "inventory", "--config", labConfigFile(t, l, map[string]any{"ldap.sasl_security": "none", "ldap.allow_plaintext": true}))
		if r.status != 2 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 ||
			!strings.Contains(r.stderr, `"Strong Auth Required"`) || !strings.Contains(r.stderr, "set ldap.sasl_security to auto, sign or seal") {
			t.Errorf("status %d, stdout %.80q, stderr %q", r.status, r.stdout, r.stderr)
		}
	})
}

// TestLabInventoryLDAPS reads the farm over ldaps:// with the lab's CA and
// the DC's name given as ldap.tls.server_name, from the lab DC that takes
// GSSAPI over TLS (its clients run in its network namespace), and compares
// it with the sealed ldap:// inventory of the same DC. TestInventoryOverTLS
// covers StartTLS and Samba's default refusal.
func TestLabInventoryLDAPS(t *testing.T) {
	l := labtest.RequireWindowsLike(t)
	clearEnv(t)
	bin := buildSpnaudit(t)
	inventory := func(set map[string]any) map[string][]string {
		t.Helper()
		set["ldap.base_dn"] = farmDN
		cmd := exec.Command("ip", "netns", "exec", labtest.TLSNetns, bin, "inventory", "--format", "json", "--config", labConfigFile(t, l, set))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || stderr.Len() > 0 {
			t.Fatalf("inventory %v: %v: %s", set, err, stderr.String())
		}
		return spnsByDN(t, out)
	}
	want := inventory(map[string]any{"ldap.sasl_security": "seal"})
	got := inventory(map[string]any{
		"ldap.urls": []string{lab.LDAPSURL()}, "ldap.tls.ca_file": l.CAFile(), "ldap.tls.server_name": lab.DCHost,
	})
	if len(want) == 0 {
		t.Fatal("the farm is empty")
	}
	if diff := compareInventories(want, got); diff != "" {
		t.Errorf("ldaps:// inventory differs from the sealed ldap:// one: %s", diff)
	}
}

// TestLabInventoryEqualsLdapsearch: over the whole domain, seeded with
// 20,000 accounts and one with 2,000 SPNs, `inventory --format json` holds
// the same objects as ldapsearch -Y GSSAPI, with the same sAMAccountName and
// the same SPN values (as multisets).
func TestLabInventoryEqualsLdapsearch(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 20,000 accounts")
	}
	l := labtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	if err := l.Locked(func() error { return l.SeedBulk(ctx, 20000, 2000) }); err != nil {
		t.Fatalf("seed: %v", err)
	}
	clearEnv(t)
	ccache := kinit(t, l)
	config := labConfigFile(t, l, nil) // no base_dn: the whole forest

	// Other test binaries change objects of their own OUs meanwhile. An
	// object whose uSNChanged is above the USN read first, or that only one
	// of the two ldapsearch runs saw, changed during the comparison and is
	// left out; every other object must be identical.
	start := highestCommittedUSN(t, l, ccache)
	before := ldapsearchObjects(t, l, ccache, lab.BaseDN)
	began := time.Now()
	r := spnaudit(t, false, "inventory", "--config", config, "--format", "json")
	took := time.Since(began)
	if r.status != 0 || r.stderr != "" {
		t.Fatalf("inventory: status %d, stderr %q", r.status, r.stderr)
	}
	after := ldapsearchObjects(t, l, ccache, lab.BaseDN)
	var got []inventoryObject
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}

	changed := map[string]bool{}
	for dn, o := range before {
		if a, ok := after[dn]; !ok || a.usn > start || o.usn > start {
			changed[dn] = true
		}
	}
	for dn := range after {
		if _, ok := before[dn]; !ok {
			changed[dn] = true
		}
	}
	for _, o := range got {
		if o.USNChanged > start {
			changed[o.DN] = true
		}
	}
	spns, most := 0, 0
	for _, o := range before {
		spns += len(o.spns)
		most = max(most, len(o.spns))
	}
	if len(before) < 20000 || most < 2000 {
		t.Fatalf("ldapsearch sees %d objects, at most %d SPNs on one: the bulk seed is missing", len(before), most)
	}
	if len(changed) > len(before)/100 {
		t.Fatalf("%d of %d objects changed during the comparison: too many to compare", len(changed), len(before))
	}
	if diffs := diffObjects(before, got, changed); len(diffs) > 0 {
		t.Fatalf("%d differences between inventory and ldapsearch, the first:\n%s", len(diffs), strings.Join(diffs[:min(len(diffs), 10)], "\n"))
	}
	t.Logf("inventory equals ldapsearch: %d objects, %d SPNs (at most %d on one object), %d changed meanwhile and left out; inventory took %v, JSON %d bytes",
		len(before), spns, most, len(changed), took.Round(time.Millisecond), len(r.stdout))
}

func equalObjects(a, b directoryObject) bool { return a.sam == b.sam && slices.Equal(a.spns, b.spns) }

// diffObjects lists every difference between ldapsearch's objects and the
// inventory's, except for the objects in skip.
func diffObjects(want map[string]directoryObject, got []inventoryObject, skip map[string]bool) []string {
	var diffs []string
	seen := make(map[string]bool, len(got))
	for _, o := range got {
		if skip[o.DN] {
			continue
		}
		if seen[o.DN] {
			diffs = append(diffs, "inventory lists twice: "+o.DN)
			continue
		}
		seen[o.DN] = true
		w, ok := want[o.DN]
		g := directoryObject{sam: o.SAMAccountName, spns: slices.Sorted(slices.Values(o.SPNs))}
		switch {
		case !ok:
			diffs = append(diffs, "only in the inventory: "+o.DN)
		case !equalObjects(w, g):
			diffs = append(diffs, fmt.Sprintf("%s: inventory %s with %d SPNs %.100q, ldapsearch %s with %d %.100q",
				o.DN, g.sam, len(g.spns), g.spns, w.sam, len(w.spns), w.spns))
		}
	}
	for dn := range want {
		if !seen[dn] && !skip[dn] {
			diffs = append(diffs, "only in ldapsearch: "+dn)
		}
	}
	slices.Sort(diffs)
	return diffs
}
