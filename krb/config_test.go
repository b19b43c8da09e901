package krb

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	krb5config "github.com/jcmturner/gokrb5/v8/config"

	"github.com/spnaudit/spnaudit/internal/unprivileged"
)

func TestNormalize(t *testing.T) {
	kdcs := []string{"dc1.corp.example.test"}
	for _, tc := range []struct {
		name              string
		cfg               Config
		wantRealm, wantPr string
		wantSrc           source
		wantErr           string
	}{
		{"user@realm lower case", Config{Principal: "auditor@corp.example.test", KeytabFile: "k", KDCs: kdcs}, "CORP.EXAMPLE.TEST", "auditor", fromKeytab, ""},
		{"user and realm", Config{Realm: "corp.example.test", Principal: "auditor", PasswordFile: "p", KDCs: kdcs}, "CORP.EXAMPLE.TEST", "auditor", fromPassword, ""},
		{"ccache names the principal", Config{CCacheFile: "/tmp/cc", KDCs: kdcs}, "", "", fromCCache, ""},
		{"realm conflict", Config{Realm: "OTHER", Principal: "auditor@CORP", KeytabFile: "k", KDCs: kdcs}, "", "", 0, "realm"},
		{"two sources", Config{Principal: "a@CORP", KeytabFile: "k", PasswordFile: "p", KDCs: kdcs}, "", "", 0, "exactly one credential source"},
		{"no source", Config{Principal: "a@CORP", KDCs: kdcs}, "", "", 0, "exactly one credential source"},
		{"keytab without principal", Config{Realm: "CORP", KeytabFile: "k", KDCs: kdcs}, "", "", 0, "principal"},
		{"no KDC", Config{Principal: "a@CORP", KeytabFile: "k"}, "", "", 0, "no KDC"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, src, user, err := tc.cfg.normalize()
			if tc.wantErr != "" {
				if !IsKind(err, KindConfig) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want a config error about %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Realm != tc.wantRealm || user != tc.wantPr || src != tc.wantSrc {
				t.Fatalf("realm %q user %q source %d", got.Realm, user, src)
			}
		})
	}
}

func TestBuildKrb5Conf(t *testing.T) {
	conf, err := krb5config.NewFromString(buildKrb5Conf("CORP.EXAMPLE.TEST", []string{"dc1.corp.example.test", "dc2.corp.example.test:88"}))
	if err != nil {
		t.Fatal(err)
	}
	n, kdcs, err := conf.GetKDCs("CORP.EXAMPLE.TEST", true)
	if err != nil || n != 2 {
		t.Fatalf("KDCs %v (%d): %v", kdcs, n, err)
	}
	if conf.LibDefaults.DNSLookupKDC || !conf.LibDefaults.NoAddresses {
		t.Error("want no DNS lookup and no addresses")
	}
	if got := conf.LibDefaults.DefaultTktEnctypeIDs; len(got) != 4 || got[0] != 18 {
		t.Errorf("ticket enctypes %v, want AES only, aes256-sha1 first", got)
	}
}

func TestNewReadsPasswordOnce(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("s3cret\r\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Principal: "auditor@CORP", PasswordFile: pw, KDCs: []string{"127.0.0.1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.password != "s3cret" {
		t.Fatalf("password read as %q", c.password)
	}
	os.Remove(pw)
	if c.password != "s3cret" {
		t.Fatal("password lost")
	}

	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	for _, f := range []string{empty, filepath.Join(dir, "missing")} {
		if _, err := New(Config{Principal: "auditor@CORP", PasswordFile: f, KDCs: []string{"127.0.0.1"}}, nil); !IsKind(err, KindPasswordFile) {
			t.Errorf("%s: got %v", f, err)
		}
	}
}

// TestNewDoesNotEchoPasswordFile: whatever stops New from reading the
// password file, its error (the message, the wrapped library error, %+v)
// names the setting, never the path, which may be the password itself
// pasted into kerberos.password_file. Root reads every file, so as root (CI)
// the test runs again as nobody, where the unreadable file is unreadable.
func TestNewDoesNotEchoPasswordFile(t *testing.T) {
	if os.Geteuid() == 0 {
		unprivileged.Rerun(t)
		return
	}
	dir := t.TempDir()
	emptyNamed := filepath.Join(dir, "Empty-S3cret!")
	if err := os.WriteFile(emptyNamed, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dirNamed := filepath.Join(dir, "Dir-S3cret!")
	if err := os.Mkdir(dirNamed, 0o700); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, path, want string }{
		{"a password pasted as the path", "Hunter2-S3cret!", "does not exist"},
		{"missing file", filepath.Join(dir, "Missing-S3cret!"), "does not exist"},
		{"empty file", emptyNamed, "empty first line"},
		{"a directory", dirNamed, "cannot be read"},
	}
	locked := filepath.Join(dir, "Locked-S3cret!")
	if err := os.WriteFile(locked, []byte("pw\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	cases = append(cases, struct{ name, path, want string }{"unreadable file", locked, "not readable"})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Config{Principal: "auditor@CORP", PasswordFile: tc.path, KDCs: []string{"127.0.0.1"}}, nil)
			if !IsKind(err, KindPasswordFile) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "kerberos.password_file") {
				t.Fatalf("got %v, want a password-file error saying %q and naming the setting", err, tc.want)
			}
			for e := error(err); e != nil; e = errors.Unwrap(e) {
				for _, text := range []string{e.Error(), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e)} {
					if strings.Contains(text, "S3cret") {
						t.Fatalf("the error shows the path: %s", text)
					}
				}
			}
		})
	}
}
