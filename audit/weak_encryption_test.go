package audit

import (
	"slices"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

func TestWeakEncryption(t *testing.T) {
	rc4 := withEnc(ptr(inventory.EncRC4HMAC))
	runRuleCases(t, weakEncryption{}, []ruleCase{
		{
			name: "user with attribute unset",
			snap: snapshot(user("svc_a", []string{"HTTP/app"}, withEnc(nil))),
			want: []string{"high svc_a"},
		},
		{
			name: "user with RC4 only",
			snap: snapshot(user("svc_a", []string{"HTTP/app"}, rc4)),
			want: []string{"high svc_a"},
		},
		{
			name: "computer with RC4 only is medium",
			snap: snapshot(computer("app1", nil, rc4)),
			want: []string{"medium APP1"},
		},
		{
			name: "computer with DES is high",
			snap: snapshot(computer("app1", nil, withEnc(ptr(inventory.EncDESCBCMD5|inventory.EncRC4HMAC)))),
			want: []string{"high APP1"},
		},
		{
			name: "gMSA with zero",
			snap: snapshot(gmsa("gmsa_a", []string{"HTTP/app"}, withEnc(ptr[uint32](0)))),
			want: []string{"medium gmsa_a"},
		},
		{
			name: "Samba's dns-<DC> account has a random password: medium",
			snap: snapshot(domainController("dc1", testDomain), sambaDNSAccount("dc1")),
			want: []string{"medium dns-dc1"},
		},
		{
			name: "must not fire: AES128 only, AES256 only, AES with RC4, AES session keys with AES",
			snap: snapshot(
				user("svc_a", []string{"HTTP/a"}, withEnc(ptr(inventory.EncAES128))),
				user("svc_b", []string{"HTTP/b"}, withEnc(ptr(inventory.EncAES256))),
				computer("app1", nil, withEnc(ptr(inventory.EncRC4HMAC|inventory.EncAES256))),
				user("svc_c", []string{"HTTP/c"}, withEnc(ptr(inventory.EncAES256|inventory.EncAESSessionKeys))),
			),
		},
		{
			name: "must not fire: no SPN, disabled, krbtgt",
			snap: snapshot(user("alice", nil, withEnc(nil)), user("svc_off", []string{"HTTP/x"}, withEnc(nil), disabled()), krbtgt(testDomain)),
		},
		{
			name: "RC4 with AES session keys still issues RC4 tickets",
			snap: snapshot(user("svc_sk", []string{"HTTP/sk"}, withEnc(ptr(inventory.EncRC4HMAC|inventory.EncAESSessionKeys)))),
			want: []string{"high svc_sk"},
		},
	})
}

func TestWeakEncryptionFixUsesTheKindsCmdlet(t *testing.T) {
	fs := checkRule(weakEncryption{}, snapshot(computer("app1", nil, withEnc(nil)), gmsa("gmsa_a", []string{"HTTP/a"}, withEnc(nil))), Config{})
	want := map[string]string{
		"CN=APP1,OU=Servers,DC=corp,DC=example,DC=test":                    "Set-ADComputer -Identity 'CN=APP1,OU=Servers,DC=corp,DC=example,DC=test' -KerberosEncryptionType AES128,AES256",
		"CN=gmsa_a,CN=Managed Service Accounts,DC=corp,DC=example,DC=test": "Set-ADServiceAccount -Identity 'CN=gmsa_a,CN=Managed Service Accounts,DC=corp,DC=example,DC=test' -KerberosEncryptionType AES128,AES256",
	}
	for _, f := range fs {
		if !slices.Contains(f.Remediation, want[f.Accounts[0]]) {
			t.Errorf("%s: remediation %q lacks %q", f.Accounts[0], f.Remediation, want[f.Accounts[0]])
		}
	}
	if len(fs) != 2 {
		t.Errorf("got %d findings, want 2", len(fs))
	}
}
