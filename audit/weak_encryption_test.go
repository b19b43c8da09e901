package audit

import (
	"slices"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

func TestWeakEncryption(t *testing.T) {
	rc4 := withEnc(ptr(inventory.EncRC4HMAC))
	rc4Default := Config{KDCDefaultEncTypes: KDCDefaultRC4}
	runRuleCases(t, weakEncryption{}, []ruleCase{
		// KB5073381: from April 2026 the KDC gives AES-only tickets to an
		// account without msDS-SupportedEncryptionTypes; the account's keys
		// are missing-aes-keys' concern.
		{
			name: "must not fire: unset or 0 with AES-issuing domain controllers (the default)",
			snap: snapshot(
				user("svc_a", []string{"HTTP/app"}, withEnc(nil)),
				computer("app1", nil, withEnc(nil)),
				gmsa("gmsa_a", []string{"HTTP/app"}, withEnc(ptr[uint32](0))),
			),
		},
		{
			name: "must not fire: unset with kdc_default_enctypes aes spelled out",
			snap: snapshot(user("svc_a", []string{"HTTP/app"}, withEnc(nil))),
			cfg:  Config{KDCDefaultEncTypes: KDCDefaultAES},
		},
		{
			name: "user with attribute unset and RC4-issuing domain controllers",
			snap: snapshot(user("svc_a", []string{"HTTP/app"}, withEnc(nil))),
			cfg:  rc4Default,
			want: []string{"high svc_a"},
		},
		{
			name: "gMSA with zero and RC4-issuing domain controllers is medium",
			snap: snapshot(gmsa("gmsa_a", []string{"HTTP/app"}, withEnc(ptr[uint32](0)))),
			cfg:  rc4Default,
			want: []string{"medium gmsa_a"},
		},
		{
			name: "Samba's dns-<DC> account has a random password: medium with RC4-issuing domain controllers",
			snap: snapshot(domainController("dc1", testDomain), sambaDNSAccount("dc1")),
			cfg:  rc4Default,
			want: []string{"medium dns-dc1"},
		},
		{
			name: "user with an explicit RC4-only exception",
			snap: snapshot(user("svc_a", []string{"HTTP/app"}, rc4)),
			want: []string{"high svc_a"},
		},
		{
			name: "computer with an explicit RC4-only exception is high too: it breaks when RC4 goes",
			snap: snapshot(computer("app1", nil, rc4)),
			want: []string{"high APP1"},
		},
		{
			name: "computer with DES is high",
			snap: snapshot(computer("app1", nil, withEnc(ptr(inventory.EncDESCBCMD5|inventory.EncRC4HMAC)))),
			want: []string{"high APP1"},
		},
		{
			name: "DES bits beside AES are high",
			snap: snapshot(user("svc_d", []string{"HTTP/d"}, withEnc(ptr(inventory.EncDESCBCCRC|inventory.EncAES256)))),
			want: []string{"high svc_d"},
		},
		{
			name: "USE_DES_KEY_ONLY is high even with AES types and an unset value",
			snap: snapshot(
				user("svc_d", []string{"HTTP/d"}, withUAC(inventory.UACUseDESKeyOnly)),
				user("svc_e", []string{"HTTP/e"}, withEnc(nil), withUAC(inventory.UACUseDESKeyOnly)),
			),
			want: []string{"high svc_d", "high svc_e"},
		},
		{
			name: "must not fire: AES128 only, AES256 only, AES with RC4, AES session keys with AES",
			snap: snapshot(
				user("svc_a", []string{"HTTP/a"}, withEnc(ptr(inventory.EncAES128))),
				user("svc_b", []string{"HTTP/b"}, withEnc(ptr(inventory.EncAES256))),
				computer("app1", nil, withEnc(ptr(inventory.EncRC4HMAC|inventory.EncAES256))),
				user("svc_c", []string{"HTTP/c"}, withEnc(ptr(inventory.EncAES256|inventory.EncAESSessionKeys))),
			),
			cfg: rc4Default,
		},
		{
			name: "must not fire: no SPN, disabled, krbtgt",
			snap: snapshot(user("alice", nil, rc4), user("svc_off", []string{"HTTP/x"}, rc4, disabled()), krbtgt(testDomain)),
			cfg:  rc4Default,
		},
		{
			name: "RC4 with AES session keys still issues RC4 tickets",
			snap: snapshot(user("svc_sk", []string{"HTTP/sk"}, withEnc(ptr(inventory.EncRC4HMAC|inventory.EncAESSessionKeys)))),
			want: []string{"high svc_sk"},
		},
	})
}

func TestWeakEncryptionMessageSaysWhy(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    inventory.Object
		cfg  Config
		want []string
	}{
		{"RC4 exception", user("svc_a", []string{"HTTP/a"}, withEnc(ptr(inventory.EncRC4HMAC))), Config{},
			[]string{"0x4", "explicit RC4 exception", "breaks when RC4 is removed"}},
		{"unset with rc4 default", user("svc_a", []string{"HTTP/a"}, withEnc(nil)), Config{KDCDefaultEncTypes: KDCDefaultRC4},
			[]string{"not set", "kdc_default_enctypes: rc4"}},
		{"USE_DES_KEY_ONLY", user("svc_a", []string{"HTTP/a"}, withUAC(inventory.UACUseDESKeyOnly)), Config{},
			[]string{"USE_DES_KEY_ONLY"}},
		{"USE_DES_KEY_ONLY with the attribute unset", user("svc_a", []string{"HTTP/a"}, withEnc(nil), withUAC(inventory.UACUseDESKeyOnly)), Config{},
			[]string{"is not set, and userAccountControl has USE_DES_KEY_ONLY"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := checkRule(weakEncryption{}, snapshot(tc.o), tc.cfg)
			if len(fs) != 1 {
				t.Fatalf("got %d findings, want 1", len(fs))
			}
			for _, w := range tc.want {
				if !strings.Contains(fs[0].Message, w) {
					t.Errorf("message %q lacks %q", fs[0].Message, w)
				}
			}
		})
	}
}

func TestWeakEncryptionFixUsesTheKindsCmdlet(t *testing.T) {
	rc4 := withEnc(ptr(inventory.EncRC4HMAC))
	fs := checkRule(weakEncryption{}, snapshot(computer("app1", nil, rc4), gmsa("gmsa_a", []string{"HTTP/a"}, rc4),
		user("svc_d", []string{"HTTP/d"}, withUAC(inventory.UACUseDESKeyOnly))), Config{})
	want := map[string]string{
		"CN=APP1,OU=Servers,DC=corp,DC=example,DC=test":                    "Set-ADComputer -Identity 'CN=APP1,OU=Servers,DC=corp,DC=example,DC=test' -KerberosEncryptionType AES128,AES256",
		"CN=gmsa_a,CN=Managed Service Accounts,DC=corp,DC=example,DC=test": "Set-ADServiceAccount -Identity 'CN=gmsa_a,CN=Managed Service Accounts,DC=corp,DC=example,DC=test' -KerberosEncryptionType AES128,AES256",
		"CN=svc_d,OU=Service Accounts,DC=corp,DC=example,DC=test":          "Set-ADAccountControl -Identity 'CN=svc_d,OU=Service Accounts,DC=corp,DC=example,DC=test' -UseDESKeyOnly $false",
	}
	for _, f := range fs {
		if !slices.Contains(f.Remediation, want[f.Accounts[0]]) {
			t.Errorf("%s: remediation %q lacks %q", f.Accounts[0], f.Remediation, want[f.Accounts[0]])
		}
	}
	if len(fs) != 3 {
		t.Errorf("got %d findings, want 3", len(fs))
	}
}
