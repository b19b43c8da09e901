package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// inventoryObject is the part of an inventory JSON object every consumer
// relies on.
type inventoryObject struct {
	DN             string   `json:"dn"`
	SAMAccountName string   `json:"sam_account_name"`
	Kind           string   `json:"kind"`
	SPNs           []string `json:"spns"`
	USNChanged     int64    `json:"usn_changed"`
}

func parseInventory(t *testing.T, out string) []inventoryObject {
	t.Helper()
	var objs []inventoryObject
	if err := json.Unmarshal([]byte(out), &objs); err != nil {
		t.Fatalf("inventory is not a JSON array of objects: %v\n%.300s", err, out)
	}
	return objs
}

func TestInventoryLDIF(t *testing.T) {
	clearEnv(t)
	r := spnaudit(t, false, "inventory", "--ldif", farmLDIF, "--format", "json")
	if r.status != 0 || r.stderr != "" {
		t.Fatalf("status %d, stderr %q", r.status, r.stderr)
	}
	objs := parseInventory(t, r.stdout)
	byName := map[string]inventoryObject{}
	for _, o := range objs {
		byName[o.SAMAccountName] = o
	}
	if len(objs) != 8 || len(byName) != 8 {
		t.Fatalf("%d objects, %d names; want 8", len(objs), len(byName))
	}
	for _, tc := range []struct {
		sam, dn, kind string
		spns          []string
	}{
		// Samba stored the machine's SPNs in lower case: kept as stored.
		{"SVEXPGG310$", "CN=SVEXPGG310,OU=Farm,DC=corp,DC=example,DC=test", "computer",
			[]string{"host/svexpgg310", "host/svexpgg310.corp.example.test"}},
		{"svc_legacy", "CN=svc_legacy,OU=Farm,DC=corp,DC=example,DC=test", "user",
			[]string{"MSSQLSvc/oldsql01.corp.example.test:1433"}},
	} {
		o := byName[tc.sam]
		if o.DN != tc.dn || o.Kind != tc.kind || !slices.Equal(o.SPNs, tc.spns) {
			t.Errorf("%s: %+v; want %s %s %q", tc.sam, o, tc.dn, tc.kind, tc.spns)
		}
	}

	r = spnaudit(t, false, "inventory", "--ldif", farmLDIF)
	if !strings.HasPrefix(r.stdout, "CORP\\APP01$  computer  CN=APP01,OU=Farm,DC=corp,DC=example,DC=test\n  HOST/app01\n") ||
		!strings.HasSuffix(r.stdout, "\n8 objects, 20 SPNs, 1 domain\n") || r.status != 0 {
		t.Errorf("table: %d\n%s", r.status, r.stdout)
	}
}

// TestLDIFWarnings: what an export cannot provide is said on stderr, not
// silently dropped, and --quiet silences it.
func TestLDIFWarnings(t *testing.T) {
	clearEnv(t)
	// The RID-521 group: without it the export would also warn that
	// missing-aes-keys cannot judge the domain.
	const truncated = "dn: CN=Read-only Domain Controllers,CN=Users,DC=corp,DC=example,DC=test\n" +
		"objectSid:: AQUAAAAAAAUVAAAA7yYoGB+mmP1iP/zGCQIAAA==\nwhenCreated: 20261122023311.0Z\n\n" +
		"dn: CN=svc_many,CN=Users,DC=corp,DC=example,DC=test\n" +
		"objectClass: user\nsAMAccountName: svc_many\n" +
		"servicePrincipalName;range=0-1: HTTP/a0\nservicePrincipalName;range=0-1: HTTP/a1\n"
	r := spnauditStdin(t, truncated, "inventory", "--ldif", "-", "--format", "json")
	if r.status != 0 || len(parseInventory(t, r.stdout)) != 1 ||
		!strings.HasPrefix(r.stderr, "spnaudit: warning: -: ") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("status %d, stderr %q; want 0 and one warning line", r.status, r.stderr)
	}
	if r = spnauditStdin(t, truncated, "inventory", "--ldif", "-", "-q"); r.stderr != "" {
		t.Errorf("--quiet: stderr %q", r.stderr)
	}
}
