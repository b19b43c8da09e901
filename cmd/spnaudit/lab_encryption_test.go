package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	krbclient "github.com/jcmturner/gokrb5/v8/client"
	krbconfig "github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/keytab"

	"github.com/spnaudit/spnaudit/internal/labtest"
	"github.com/spnaudit/spnaudit/lab"
)

// TestLabEncryptionRules scans an OU of the lab DC holding accounts whose
// passwords were set before the domain existed (pwdLastSet written beneath
// Samba's checks, older than the domain's Read-only Domain Controllers group)
// and one created now, with the KDC default of the 2026 updates (aes) and
// with rc4 (KB5073381: an account without msDS-SupportedEncryptionTypes gets
// AES-only tickets from updated DCs).
// encryptionScenario: passwords set in 2005 (written beneath Samba's checks,
// before the lab domain's RID-521 group), one unset, one RC4 exception, and
// accounts created now, one unset and one AES-only.
func encryptionScenario() *lab.Scenario {
	old := time.Date(2005, 6, 1, 8, 0, 0, 0, time.UTC)
	rc4, aes := uint32(0x4), uint32(0x18)
	return &lab.Scenario{Name: "cmd-encryption", OU: "CmdEncryption",
		Users: []lab.User{
			{Name: "enc_old", SPNs: []string{"HTTP/enc-old.corp.example.test"}, PwdLastSet: &old},
			{Name: "enc_rc4old", SPNs: []string{"HTTP/enc-rc4old.corp.example.test"}, PwdLastSet: &old, EncryptionTypes: &rc4},
			{Name: "enc_new", SPNs: []string{"HTTP/enc-new.corp.example.test"}},
			{Name: "enc_aes", SPNs: []string{"HTTP/enc-aes.corp.example.test"}, EncryptionTypes: &aes},
		}}
}

func TestLabEncryptionRules(t *testing.T) {
	sc := encryptionScenario()
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
			// enc_new: unset and AES keys, nothing; enc_aes: AES only.
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

// TestLabKDCTicketEncryption asks the lab KDC for service tickets and reads
// their encryption type: what the KDC really issues, against which
// audit.kdc_default_enctypes is chosen. Samba 4.17 still issues RC4 tickets
// (with AES session keys, KB5021131) to an account without
// msDS-SupportedEncryptionTypes, as Windows DCs did before the April 2026
// enforcement of CVE-2026-20833 (KB5073381, where the same account gets
// AES-SHA1 only): a Samba domain is a kdc_default_enctypes: rc4 domain.
func TestLabKDCTicketEncryption(t *testing.T) {
	sc := encryptionScenario()
	l := labtest.Scenario(t, sc)
	kt, err := keytab.Load(l.Keytab())
	if err != nil {
		t.Fatal(err)
	}
	conf, err := krbconfig.Load(l.Krb5Conf())
	if err != nil {
		t.Fatal(err)
	}
	cl := krbclient.NewWithKeytab(lab.AuditUser, lab.Realm, kt, conf, krbclient.DisablePAFXFAST(true))
	if err := cl.Login(); err != nil {
		t.Fatal(err)
	}
	defer cl.Destroy()
	for _, tc := range []struct {
		spn  string
		want int32
	}{
		{"HTTP/enc-new.corp.example.test", etypeID.RC4_HMAC},                // unset: Samba's default is RC4
		{"HTTP/enc-rc4old.corp.example.test", etypeID.RC4_HMAC},             // the RC4 exception
		{"HTTP/enc-aes.corp.example.test", etypeID.AES256_CTS_HMAC_SHA1_96}, // AES only
	} {
		tkt, _, err := cl.GetServiceTicket(tc.spn)
		if err != nil {
			t.Fatalf("%s: %v", tc.spn, err)
		}
		if got := tkt.EncPart.EType; got != tc.want {
			t.Errorf("%s: ticket encrypted with etype %d, want %d (if Samba now issues AES by default, "+
				"docs/rules.md's advice for Samba DCs changes)", tc.spn, got, tc.want)
		}
	}
}
