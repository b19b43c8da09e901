package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/lab"
	"github.com/spnaudit/spnaudit/lab/labtest"
)

// TestLabEncryptionRules scans an OU of the lab DC holding accounts whose
// passwords were set before the domain existed (pwdLastSet written beneath
// Samba's checks, older than the domain's Read-only Domain Controllers group)
// and one created now, with the KDC default of the 2026 updates (aes) and
// with rc4 (KB5073381: an account without msDS-SupportedEncryptionTypes gets
// AES-only tickets from updated DCs).
func TestLabEncryptionRules(t *testing.T) {
	old := time.Date(2005, 6, 1, 8, 0, 0, 0, time.UTC)
	rc4 := uint32(0x4)
	sc := &lab.Scenario{Name: "cmd-encryption", OU: "CmdEncryption",
		Users: []lab.User{
			{Name: "enc_old", SPNs: []string{"HTTP/enc-old.corp.example.test"}, PwdLastSet: &old},
			{Name: "enc_rc4old", SPNs: []string{"HTTP/enc-rc4old.corp.example.test"}, PwdLastSet: &old, EncryptionTypes: &rc4},
			{Name: "enc_new", SPNs: []string{"HTTP/enc-new.corp.example.test"}},
		}}
	l := labtest.Scenario(t, sc)
	clearEnv(t)
	for _, tc := range []struct {
		kdcDefault string
		want       []string
	}{
		{"aes", []string{
			"high missing-aes-keys enc_old",      // unset: AES-only tickets, no AES keys
			"high weak-encryption enc_rc4old",    // an explicit RC4 exception
			"medium missing-aes-keys enc_rc4old", // works through its RC4 exception
			// enc_new: unset and AES keys, nothing.
		}},
		{"rc4", []string{
			"high weak-encryption enc_new", // unset and the DCs issue RC4
			"high weak-encryption enc_old",
			"high weak-encryption enc_rc4old",
			"medium missing-aes-keys enc_old", // works while the DCs issue RC4
			"medium missing-aes-keys enc_rc4old",
		}},
	} {
		t.Run(tc.kdcDefault, func(t *testing.T) {
			config := labConfigFile(t, l, map[string]any{"ldap.base_dn": sc.OUDN(), "audit.kdc_default_enctypes": tc.kdcDefault})
			r := spnaudit(t, false, "scan", "--config", config, "--format", "json")
			if r.status != 1 || r.stderr != "" {
				t.Fatalf("status %d, stderr %q; want 1 (high findings) and nothing", r.status, r.stderr)
			}
			var doc struct {
				Findings []struct {
					Rule, Severity, Message string
					Accounts                []string
				}
			}
			if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range doc.Findings {
				if f.Rule == "missing-aes-keys" || f.Rule == "weak-encryption" {
					got = append(got, f.Severity+" "+f.Rule+" "+commonName(f.Accounts[0]))
					if f.Rule == "missing-aes-keys" && !strings.Contains(f.Message, "2005-06-01") {
						t.Errorf("message does not date the password: %s", f.Message)
					}
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("findings:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}
