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
// silently dropped, and --quiet silences it. What the inventory needs
// (every SPN of an object) is not a warning: a partial export is refused
// with exit status 2, never audited as if it were whole.
func TestLDIFWarnings(t *testing.T) {
	clearEnv(t)
	// The RID-521 group: without it the export would also warn that
	// missing-aes-keys cannot judge the domain.
	const truncatedMembers = "dn: CN=Read-only Domain Controllers,CN=Users,DC=corp,DC=example,DC=test\n" +
		"objectSid:: AQUAAAAAAAUVAAAA7yYoGB+mmP1iP/zGCQIAAA==\nwhenCreated: 20261122023311.0Z\n\n" +
		"dn: CN=svc_many,CN=Users,DC=corp,DC=example,DC=test\n" +
		"objectClass: user\nsAMAccountName: svc_many\nservicePrincipalName: HTTP/a\n\n" +
		"dn: CN=grp,CN=Users,DC=corp,DC=example,DC=test\n" +
		"objectClass: group\nmember;range=0-1: CN=a\nmember;range=0-1: CN=b\n"
	r := spnauditStdin(t, truncatedMembers, "inventory", "--ldif", "-", "--format", "json")
	if r.status != 0 || len(parseInventory(t, r.stdout)) != 1 ||
		!strings.HasPrefix(r.stderr, "spnaudit: warning: -: ") || strings.Count(r.stderr, "\n") != 2 ||
		// The export holds no group: privilege is unknown, and said so.
		!strings.Contains(r.stderr, "\nspnaudit: note: -: privilege through group membership is unknown for 1 of 1 accounts") {
		t.Errorf("status %d, stderr %q; want 0, one warning line and the privilege note", r.status, r.stderr)
	}
	if r = spnauditStdin(t, truncatedMembers, "inventory", "--ldif", "-", "-q"); r.stderr != "" {
		t.Errorf("--quiet: stderr %q", r.stderr)
	}

	const truncatedSPNs = "dn: CN=svc_many,CN=Users,DC=corp,DC=example,DC=test\n" +
		"objectClass: user\nsAMAccountName: svc_many\n" +
		"servicePrincipalName;range=0-1: HTTP/a0\nservicePrincipalName;range=0-1: HTTP/a1\n"
	for _, cmd := range []string{"inventory", "scan"} {
		r := spnauditStdin(t, truncatedSPNs, cmd, "--ldif", "-", "-q")
		want := "spnaudit: --ldif -: ldif line 1: CN=svc_many,CN=Users,DC=corp,DC=example,DC=test: servicePrincipalName holds only the values up to range 1"
		if r.status != 2 || r.stdout != "" || !strings.HasPrefix(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%s with SPNs cut by range retrieval: status %d, stdout %q, stderr %q; want 2, nothing, one line starting %q",
				cmd, r.status, r.stdout, r.stderr, want)
		}
	}
}
