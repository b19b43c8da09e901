package main

import (
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/report"
	"github.com/spnaudit/spnaudit/state"
	"github.com/spnaudit/spnaudit/web"
)

// stateConfig writes a configuration whose only unusual part is state.dir:
// a password file, so that serve gets as far as opening the state
// directory without a directory or a KDC.
func stateConfig(t *testing.T, stateDir string) string {
	t.Helper()
	clearEnv(t)
	dir := t.TempDir()
	pw := filepath.Join(dir, "password")
	if err := os.WriteFile(pw, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "spnaudit.yaml")
	yaml := "ldap:\n  urls: [ldap://dc1.example.test:1]\nkerberos:\n  principal: svc@EXAMPLE.TEST\n  password_file: " + pw +
		"\n  kdcs: [127.0.0.1:1]\nweb:\n  listen_address: 127.0.0.1:0\nstate:\n  dir: " + stateDir + "\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// readOnlyDir returns a directory nothing can be written in: a read-only
// tmpfs when the test runs as root (root ignores permissions), else a
// directory without write permission.
func readOnlyDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
		return dir
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" { // CI runs as root, where the test must run
			t.Fatalf("running as root and cannot mount a read-only tmpfs: %v %s", err, out)
		}
		t.Skipf("running as root and cannot mount a read-only tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	return dir
}

// TestServeStateDirErrors: a state directory serve cannot use stops it at
// start with one line naming the directory and the fix, and exit 2.
func TestServeStateDirErrors(t *testing.T) {
	held := t.TempDir()
	lock, err := state.Open(state.Options{Dir: held, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	corrupt := t.TempDir()
	if err := os.WriteFile(filepath.Join(corrupt, state.DBFile), []byte(strings.Repeat("not a database ", 2000)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, dir string
		want      []string
	}{
		{"read-only", filepath.Join(readOnlyDir(t), "state"), []string{"cannot create it (read-only file system)", "writable by the service's user"}},
		{"held by another serve", held, []string{"in use by another spnaudit serve (pid ", "give this one its own state.dir"}},
		{"corrupted", corrupt, []string{"history.db is corrupted", "move it aside (mv "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := spnaudit(t, false, "serve", "--config", stateConfig(t, tc.dir))
			if r.status != 2 || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "spnaudit: state.dir "+tc.dir+": ") {
				t.Fatalf("status %d, stderr %q; want 2 and one line about state.dir %s", r.status, r.stderr, tc.dir)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q lacks %q", r.stderr, w)
				}
			}
		})
	}
}

// TestHistoryCommand: spnaudit history lists a journal serve wrote, beside
// the running store, filtered, as a table and as JSON.
func TestHistoryCommand(t *testing.T) {
	dir := t.TempDir()
	store, err := state.Open(state.Options{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close() // held, as by a running serve
	t0 := time.Date(2026, 11, 24, 14, 0, 0, 0, time.UTC)
	changed := t0.Add(-4 * time.Second)
	objs := func(bSPNs ...string) []inventory.Object {
		return []inventory.Object{
			{GUID: inventory.MustParseGUID("00000000-0000-0000-0000-0000000000a0"), DN: "CN=svc_a,DC=example,DC=test", SAMAccountName: "svc_a", SPNs: []string{"HTTP/web.example.test"}},
			{GUID: inventory.MustParseGUID("00000000-0000-0000-0000-0000000000b0"), DN: "CN=svc_b,DC=example,DC=test", SAMAccountName: "svc_b", SPNs: bSPNs,
				SPNChanged: changed, SPNChangedBy: "CN=NTDS Settings,CN=DC2,CN=Servers,CN=S,CN=Sites,CN=Configuration,DC=example,DC=test"},
		}
	}
	for i, snap := range []*inventory.Snapshot{
		{Started: t0, Objects: inventory.Pointers(objs("HTTP/other.example.test"))},
		{Started: t0.Add(time.Minute), Objects: inventory.Pointers(objs("HTTP/other.example.test", "HTTP/web.example.test"))},
		{Started: t0.Add(2 * time.Minute), Objects: inventory.Pointers(objs("HTTP/other.example.test"))},
	} {
		if _, err := store.Record(snap, nil, state.Poll{Mode: string(inventory.IncrementalScan)}); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	clearEnv(t)
	r := spnaudit(t, false, "history", "--state.dir", dir, "--spn", "http/WEB.example.test")
	want := "OBSERVED              OP      SPN                    ACCOUNT  AD CHANGE                    POLL\n" +
		"2026-11-24T14:02:00Z  remove  HTTP/web.example.test  svc_b    2026-11-24T13:59:56Z on dc2  3 incremental\n" +
		"2026-11-24T14:01:00Z  add     HTTP/web.example.test  svc_b    2026-11-24T13:59:56Z on dc2  2 incremental\n"
	if r.status != 0 || r.stdout != want {
		t.Errorf("history --spn: status %d, stderr %q, stdout:\n%s\nwant:\n%s", r.status, r.stderr, r.stdout, want)
	}
	r = spnaudit(t, false, "history", "--state.dir", dir, "--account", "svc_b", "--format", "json", "--limit", "1")
	var page web.ChangesPage
	if err := json.Unmarshal([]byte(r.stdout), &page); err != nil || r.status != 0 {
		t.Fatalf("history --format json: %d %q %v", r.status, r.stdout, err)
	}
	if len(page.Changes) != 1 || page.Changes[0].Op != state.OpRemove || page.Next != page.Changes[0].Seq {
		t.Errorf("json page %+v, want the remove and a next page", page)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--since", "yesterday"}, `spnaudit: --since "yesterday": want an RFC 3339 time`},
		{[]string{"--format", "xml"}, `spnaudit: --format "xml": want table or json`},
		{[]string{"--state.dir", t.TempDir()}, "spnaudit: state.dir "},
	} {
		args := append([]string{"history", "--state.dir", dir}, tc.args...)
		r := spnaudit(t, false, args...)
		if r.status != 2 || !strings.HasPrefix(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: %d %q, want 2 and %q", tc.args, r.status, r.stderr, tc.want)
		}
	}
}

// TestScanLDIFDates: scan --ldif dates findings from the replication
// metadata an export carries: Windows' msDS-ReplAttributeMetaData names the
// DC by its NTDS Settings DN; the binary replPropertyMetaData (Samba) by its
// invocation ID, which the export's server and nTDSDSA objects resolve.
func TestScanLDIFDates(t *testing.T) {
	clearEnv(t)
	xml := "<DS_REPL_ATTR_META_DATA>\n\t<pszAttributeName>servicePrincipalName</pszAttributeName>\n" +
		"\t<ftimeLastOriginatingChange>2026-11-27T06:10:00Z</ftimeLastOriginatingChange>\n" +
		"\t<pszLastOriginatingDsaDN>CN=NTDS Settings,CN=DC2,CN=Servers,CN=Branch,CN=Sites,CN=Configuration,DC=corp,DC=example,DC=test</pszLastOriginatingDsaDN>\n" +
		"</DS_REPL_ATTR_META_DATA>\n\x00"
	ldif := `dn: CN=DC1,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=corp,DC=example,DC=test
objectClass: server
dNSHostName: dc1.corp.example.test

dn: CN=NTDS Settings,CN=DC1,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=corp,DC=example,DC=test
objectClass: nTDSDSA
invocationId:: cjv/+QZChkK6w+qHG0T1xg==

dn: CN=svc_a,OU=Apps,DC=corp,DC=example,DC=test
objectClass: user
sAMAccountName: svc_a
servicePrincipalName: HTTP/web.corp.example.test
replPropertyMetaData:: AQAAAAAAAAAWAAAAAAAAAAAAAAABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAAMAAAABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAAEAAgABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAAIAAgABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAABkBAgABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAAEACQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAAgACQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAABAACQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAABkACQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAADcACQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAEAACQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAFoACQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAF4ACQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAGAACQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAGIACQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAJIACQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAJ8ACQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAKAACQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAN0ACQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAC4BCQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAAMDCQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAA4DCQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAA==

dn: CN=svc_b,OU=Apps,DC=corp,DC=example,DC=test
objectClass: user
sAMAccountName: svc_b
servicePrincipalName: HTTP/web.corp.example.test
msDS-ReplAttributeMetaData:: ` + base64.StdEncoding.EncodeToString([]byte(xml)) + "\n"
	path := filepath.Join(t.TempDir(), "dump.ldf")
	if err := os.WriteFile(path, []byte(ldif), 0o600); err != nil {
		t.Fatal(err)
	}
	r := spnaudit(t, false, "scan", "--ldif", path, "--format", "json")
	var doc report.Document
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("scan --ldif: %d %q %v", r.status, r.stderr, err)
	}
	got := map[string]string{}
	for _, f := range doc.Findings {
		if f.FirstSeen != nil {
			t.Errorf("scan set first_seen on %s: scan never opens the state directory", f.Rule)
		}
		key := f.Rule + " " + strings.Join(f.Accounts, "+")
		if f.ChangedAt != nil {
			got[key] = f.ChangedAt.UTC().Format(time.RFC3339) + " on " + f.ChangedOn
		}
	}
	for key, want := range map[string]string{
		"duplicate-spn CN=svc_a,OU=Apps,DC=corp,DC=example,DC=test+CN=svc_b,OU=Apps,DC=corp,DC=example,DC=test": "2026-11-27T06:10:00Z on dc2",
		"kerberoastable-account CN=svc_a,OU=Apps,DC=corp,DC=example,DC=test":                                    "2026-11-27T04:45:06Z on dc1.corp.example.test",
	} {
		if got[key] != want {
			t.Errorf("%s: changed %q, want %q (all: %v)", key, got[key], want, got)
		}
	}
}
