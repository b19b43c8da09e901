package audit

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/inventory"
)

// rodcCreated is when the test domain's Read-only Domain Controllers group
// (RID 521) was created: the first Windows Server 2008 DC.
var rodcCreated = time.Date(2012, 5, 1, 0, 0, 0, 0, time.UTC)

// withAESThreshold gives the test domain (only) its RID-521 group's time.
func withAESThreshold(snap *inventory.Snapshot) *inventory.Snapshot {
	snap.Directory.AESThresholds = map[string]time.Time{testDomain: rodcCreated}
	return snap
}

func TestMissingAESKeys(t *testing.T) {
	old := withPwdLastSet(rodcCreated.AddDate(-3, 0, 0))
	rc4 := withEnc(ptr(inventory.EncRC4HMAC))
	runRuleCases(t, missingAESKeys{}, []ruleCase{
		{
			// KB5073381: the KDC issues AES-only (0x18) tickets to an account
			// without msDS-SupportedEncryptionTypes; without AES keys that is
			// KDC_ERR_ETYPE_NOSUPP (KDCSVC event 204).
			name: "enabled user, unset: high",
			snap: withAESThreshold(snapshot(user("svc_old", []string{"HTTP/old"}, withEnc(nil), old))),
			want: []string{"high svc_old"},
		},
		{
			name: "zero is unset; pwdLastSet=0 proves no AES keys",
			snap: withAESThreshold(snapshot(user("svc_zero", []string{"HTTP/z"}, withEnc(ptr[uint32](0)), withPwdLastSet(time.Time{})))),
			want: []string{"high svc_zero"},
		},
		{
			// KB5073381 event 207/209: configured for AES without AES keys.
			name: "explicit AES (with RC4 too) and no AES keys: high",
			snap: withAESThreshold(snapshot(
				user("svc_aes", []string{"HTTP/a"}, old),
				computer("old1", nil, old),
			)),
			want: []string{"high OLD1", "high svc_aes"},
		},
		{
			name: "explicit RC4-only exception keeps working: medium",
			snap: withAESThreshold(snapshot(user("svc_rc4", []string{"HTTP/r"}, rc4, old))),
			want: []string{"medium svc_rc4"},
		},
		{
			name: "unset with RC4-issuing domain controllers keeps working: medium",
			snap: withAESThreshold(snapshot(user("svc_old", []string{"HTTP/old"}, withEnc(nil), old))),
			cfg:  Config{KDCDefaultEncTypes: KDCDefaultRC4},
			want: []string{"medium svc_old"},
		},
		{
			name: "disabled: low",
			snap: withAESThreshold(snapshot(user("svc_off", []string{"HTTP/off"}, withEnc(nil), old, disabled()))),
			want: []string{"low svc_off"},
		},
		{
			name: "must not fire: password set after the group, at the same instant, no SPN, krbtgt",
			snap: withAESThreshold(snapshot(
				user("svc_new", []string{"HTTP/new"}, withEnc(nil)),
				user("svc_edge", []string{"HTTP/edge"}, withEnc(nil), withPwdLastSet(rodcCreated)),
				user("alice", nil, old),
				krbtgt(testDomain),
			)),
		},
		{
			name: "must not fire: the domain's threshold is unknown (no RID-521 group read)",
			snap: withAESThreshold(snapshot(user("svc_child", []string{"HTTP/c"}, withEnc(nil), old, inDomain("child."+testDomain)))),
		},
		{
			name: "must not fire: no threshold at all",
			snap: snapshot(user("svc_old", []string{"HTTP/old"}, withEnc(nil), old)),
		},
	})
}

func TestMissingAESKeysFixFitsTheKind(t *testing.T) {
	old := withPwdLastSet(rodcCreated.AddDate(-1, 0, 0))
	snap := withAESThreshold(snapshot(
		user("svc_old", []string{"HTTP/old"}, withEnc(nil), old),
		computer("old1", nil, old),
		gmsa("gmsa_old", []string{"HTTP/g"}, old),
	))
	want := map[string]string{
		"svc_old":  "Set-ADAccountPassword -Identity 'CN=svc_old,OU=Service Accounts,DC=corp,DC=example,DC=test' -Reset",
		"OLD1":     "Reset-ComputerMachinePassword",
		"gmsa_old": "Get-ADServiceAccount -Identity 'CN=gmsa_old,CN=Managed Service Accounts,DC=corp,DC=example,DC=test' -Properties PasswordLastSet,msDS-ManagedPasswordInterval",
	}
	fs := checkRule(missingAESKeys{}, snap, Config{})
	if len(fs) != len(want) {
		t.Fatalf("got %d findings, want %d", len(fs), len(want))
	}
	for _, f := range fs {
		cn, _, _ := strings.Cut(strings.TrimPrefix(f.Accounts[0], "CN="), ",")
		if !slices.Contains(f.Remediation, want[cn]) {
			t.Errorf("%s: remediation %q lacks %q", cn, f.Remediation, want[cn])
		}
		last := f.Remediation[len(f.Remediation)-1]
		if !strings.Contains(last, "4769") || !strings.Contains(last, "Available Keys") || !strings.Contains(last, "201-209") {
			t.Errorf("%s: no way to confirm the keys: %q", cn, last)
		}
		for _, w := range []string{"2012-05-01", "RID 521", "only RC4 keys"} {
			if !strings.Contains(f.Message, w) {
				t.Errorf("%s: message %q lacks %q", cn, f.Message, w)
			}
		}
	}
}

// An account both rules see: the RC4 exception is weak-encryption's, the
// missing keys missing-aes-keys'; an unset value on an account with AES keys
// is neither's.
func TestEncryptionRulesTogether(t *testing.T) {
	old := withPwdLastSet(rodcCreated.AddDate(-1, 0, 0))
	snap := withAESThreshold(snapshot(
		user("svc_rc4old", []string{"HTTP/a"}, withEnc(ptr(inventory.EncRC4HMAC)), old),
		user("svc_unsetold", []string{"HTTP/b"}, withEnc(nil), old),
		user("svc_unsetnew", []string{"HTTP/c"}, withEnc(nil)),
	))
	var got []string
	for _, f := range Run(snap, Config{}).Findings {
		if f.Rule == RuleWeakEncryption || f.Rule == RuleMissingAESKeys {
			got = append(got, f.Rule+" "+summary(f))
		}
	}
	slices.Sort(got)
	want := []string{
		"missing-aes-keys high svc_unsetold",
		"missing-aes-keys medium svc_rc4old",
		"weak-encryption high svc_rc4old",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestKDCDefaultEncTypesValidate(t *testing.T) {
	for _, v := range []KDCDefaultEncTypes{"", KDCDefaultAES, KDCDefaultRC4} {
		if err := v.Validate(); err != nil {
			t.Errorf("%q: %v", v, err)
		}
	}
	for _, v := range []KDCDefaultEncTypes{"AES", "des", "rc4,aes"} {
		if err := v.Validate(); err == nil {
			t.Errorf("%q: no error", v)
		}
	}
	if err := (Config{KDCDefaultEncTypes: "des"}).Validate(); err == nil {
		t.Error("Config.Validate accepts kdc_default_enctypes des")
	}
}
