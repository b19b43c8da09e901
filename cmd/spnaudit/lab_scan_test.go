package main

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/internal/labtest"
	"github.com/spnaudit/spnaudit/lab"
	"github.com/spnaudit/spnaudit/report"
)

const farmGolden = "testdata/scan_farm.golden.json"

// TestLabScanFarm scans the lab's IIS farm with the farm described in the
// configuration: the JSON report is pinned in a golden file (go test -update
// rewrites it), and the list below says, rule by rule, where each fires.
func TestLabScanFarm(t *testing.T) {
	l := labtest.Require(t)
	clearEnv(t)
	config := labConfigFile(t, l, map[string]any{"ldap.base_dn": farmDN, "farms": []any{lab.FarmConfig()}})
	r := spnaudit(t, false, "scan", "--config", config, "--format", "json")
	if r.status != 1 || r.stderr != "" {
		t.Fatalf("status %d, stderr %q; want 1 (high findings) and nothing", r.status, r.stderr)
	}

	var doc struct {
		Findings []struct {
			Rule, Severity, SPN string
			Accounts            []string
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range doc.Findings {
		subject := f.SPN
		if subject == "" {
			subject = commonName(f.Accounts[0])
		}
		got = append(got, f.Severity+" "+f.Rule+" "+subject)
	}
	slices.Sort(got)
	want := []string{
		// The machine and the pool both hold it: a duplicate, which the farm
		// also reports as the SPN on the wrong account. (The pool's other
		// node SPNs are alias conflicts; this one is the duplicate.)
		"high duplicate-spn HTTP/svexpgg311.corp.example.test",
		"high farm-drift HTTP/svexpgg311.corp.example.test",
		"high kerberoastable-account svc_backup", // adminCount=1
		"high unconstrained-delegation APP01",
		// No weak-encryption on svc_iispool: its msDS-SupportedEncryptionTypes
		// is unset, which gets AES tickets since the 2026 updates, and its
		// password (set after the domain's RID-521 group) has AES keys.
		// Samba stored the nodes' SPNs as "host/...": the alias still counts.
		"medium host-alias-conflict HTTP/svexpgg310",
		"medium host-alias-conflict HTTP/svexpgg310.corp.example.test",
		"medium host-alias-conflict HTTP/svexpgg311",
		"medium host-alias-conflict HTTP/svexpgg312",
		"medium host-alias-conflict HTTP/svexpgg312.corp.example.test",
		// The VIP and intranet have DNS records; oldsql01 has nothing.
		"medium ghost-spn MSSQLSvc/oldsql01.corp.example.test:1433",
		"medium kerberoastable-account svc_iispool",
		"medium kerberoastable-account svc_intranet",
		"medium missing-spn-pair HTTP/intranet",
		"low disabled-account-spn svc_legacy",
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("findings:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}

	masked := maskScan(t, r.stdout)
	if *update {
		if err := os.WriteFile(farmGolden, masked, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if golden := readFile(t, farmGolden); string(masked) != golden {
		t.Errorf("scan --format json differs from %s (go test -run TestLabScanFarm -update rewrites it):\n%s", farmGolden, masked)
	}
}

// maskScan zeroes the fields that change from run to run: when the scan
// started and how long it took, and when the lab wrote each finding's SPNs.
func maskScan(t *testing.T, out string) []byte {
	t.Helper()
	var doc report.Document
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	doc.Scan.Started, doc.Scan.DurationSeconds = time.Time{}, 0
	for i := range doc.Findings { // when the lab wrote the SPNs: masked to the zero time
		if doc.Findings[i].ChangedAt != nil {
			doc.Findings[i].ChangedAt = &time.Time{}
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// commonName returns the value of a DN's first RDN: CN=svc_web,OU=... -> svc_web.
func commonName(dn string) string {
	first, _, _ := strings.Cut(dn, ",")
	_, value, _ := strings.Cut(first, "=")
	return value
}
