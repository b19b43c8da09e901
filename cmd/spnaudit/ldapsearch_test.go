package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/internal/labtest"
	"github.com/spnaudit/spnaudit/lab"
)

// ldifEntry is one entry of an LDIF file: its DN and its values by
// lower-case attribute name.
type ldifEntry struct {
	dn    string
	attrs map[string][]string
}

// parseLDIF is a minimal reader of ldapsearch's LDIF (RFC 2849), written
// apart from ldapscan.ReadLDIF so that comparing spnaudit with ldapsearch
// does not check ldapscan against itself: lines folded with a leading space
// (comments too), base64 values ("::"), blank lines between records, search
// references ("ref:") skipped. Attribute options such as ";range=" and URL
// values are errors: the comparison would be wrong with them.
func parseLDIF(r io.Reader) ([]ldifEntry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	var (
		entries []ldifEntry
		record  []string // logical lines of the current record
		lineNo  int
	)
	flush := func() error {
		defer func() { record = record[:0] }()
		var lines []string
		for _, l := range record {
			if !strings.HasPrefix(l, "#") {
				lines = append(lines, l)
			}
		}
		if len(lines) == 0 || strings.HasPrefix(lines[0], "version:") || strings.HasPrefix(lines[0], "ref:") {
			return nil
		}
		e := ldifEntry{attrs: map[string][]string{}}
		for i, l := range lines {
			name, value, err := ldifValue(l)
			if err != nil {
				return fmt.Errorf("before line %d: %w", lineNo, err)
			}
			switch {
			case i == 0 && name != "dn":
				return fmt.Errorf("before line %d: record starts with %q, not dn", lineNo, name)
			case i == 0:
				e.dn = value
			case strings.Contains(name, ";"):
				return fmt.Errorf("%s: attribute with options %q", e.dn, name)
			default:
				e.attrs[name] = append(e.attrs[name], value)
			}
		}
		entries = append(entries, e)
		return nil
	}
	for sc.Scan() {
		lineNo++
		line := strings.TrimSuffix(sc.Text(), "\r")
		switch {
		case line == "":
			if err := flush(); err != nil {
				return nil, err
			}
		case strings.HasPrefix(line, " "):
			if len(record) == 0 {
				return nil, fmt.Errorf("line %d: continuation without a line to continue", lineNo)
			}
			record[len(record)-1] += line[1:]
		default:
			record = append(record, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return entries, nil
}

// ldifValue splits "name: value" or "name:: base64" into the lower-case
// name and the value.
func ldifValue(line string) (name, value string, err error) {
	name, rest, ok := strings.Cut(line, ":")
	if !ok {
		return "", "", fmt.Errorf("no colon in %q", line)
	}
	name = strings.ToLower(name)
	switch {
	case strings.HasPrefix(rest, ":"):
		b, err := base64.StdEncoding.DecodeString(strings.TrimLeft(rest[1:], " "))
		if err != nil {
			return "", "", fmt.Errorf("%s: %w", name, err)
		}
		return name, string(b), nil
	case strings.HasPrefix(rest, "<"):
		return "", "", fmt.Errorf("%s: URL value", name)
	}
	return name, strings.TrimLeft(rest, " "), nil
}

func TestParseLDIF(t *testing.T) {
	const in = "version: 1\n\n" +
		"# a comment folded\n  over two lines\n" +
		"dn: CN=svc_web,OU=Web,DC=corp,DC=exam\n ple,DC=test\r\n" +
		"sAMAccountName: svc_web\n" +
		"servicePrincipalName: HTTP/web01.corp.exa\n mple.test\n" +
		"servicePrincipalName:: IEhUVFAvbGVhZGluZy1zcGFjZQ==\n" +
		"servicePrincipalName:HTTP/web01\n" +
		"servicePrincipalName: HTTP/web01\n\n\n" +
		"ref: ldap://DomainDnsZones.corp.example.test/DC=DomainDnsZones,DC=corp,DC=example,DC=test\n\n" +
		"dn:: Q049Wm/DqyxEQz1jb3JwLERDPWV4YW1wbGUsREM9dGVzdA==\n" +
		"servicePrincipalName: HOST/zoe"
	got, err := parseLDIF(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []ldifEntry{
		{"CN=svc_web,OU=Web,DC=corp,DC=example,DC=test", map[string][]string{
			"samaccountname":       {"svc_web"},
			"serviceprincipalname": {"HTTP/web01.corp.example.test", " HTTP/leading-space", "HTTP/web01", "HTTP/web01"},
		}},
		{"CN=Zoë,DC=corp,DC=example,DC=test", map[string][]string{"serviceprincipalname": {"HOST/zoe"}}},
	}
	if len(got) != len(want) {
		t.Fatalf("%d entries %+v; want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i].dn != want[i].dn || fmt.Sprint(got[i].attrs) != fmt.Sprint(want[i].attrs) {
			t.Errorf("entry %d: %q %q; want %q %q", i, got[i].dn, got[i].attrs, want[i].dn, want[i].attrs)
		}
	}
	for _, bad := range []string{
		"dn: CN=x\nservicePrincipalName;range=0-1499: HTTP/a\n",
		"dn: CN=x\ndescription:< file:///etc/passwd\n",
		"sAMAccountName: x\n",
		" continued\n",
		"dn:: not base64!\n",
	} {
		if _, err := parseLDIF(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// kinit obtains a ticket for the audit account from its keytab into a FILE
// credential cache of the test's own: the lab's shared one (l.CCache) is
// rewritten by other test binaries while this one reads it.
func kinit(t *testing.T, l *lab.Lab) string {
	t.Helper()
	if _, err := exec.LookPath("kinit"); err != nil {
		labtest.Unavailable(t, "kinit is not installed")
	}
	path := filepath.Join(t.TempDir(), "audit.ccache")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kinit", "-k", "-t", l.Keytab(), lab.AuditUser+"@"+lab.Realm)
	cmd.Env = append(os.Environ(), "KRB5_CONFIG="+l.Krb5Conf(), "KRB5CCNAME=FILE:"+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kinit: %v: %s", err, out)
	}
	return path
}

// directoryObject is what the equivalence test compares of an object, and
// when it last changed.
type directoryObject struct {
	sam  string
	spns []string // sorted: a multiset
	usn  int64    // uSNChanged
}

// ldapsearchObjects reads the objects with SPNs below base with OpenLDAP's
// ldapsearch -Y GSSAPI as the audit account from ccache, keyed by DN.
func ldapsearchObjects(t *testing.T, l *lab.Lab, ccache, base string) map[string]directoryObject {
	t.Helper()
	if _, err := exec.LookPath("ldapsearch"); err != nil {
		labtest.Unavailable(t, "ldapsearch is not installed")
	}
	// Paged: the DC returns at most MaxPageSize (1000) entries per search.
	entries := ldapsearch(t, l, ccache, "-b", base, "-E", "pr=1000/noprompt",
		"(servicePrincipalName=*)", "sAMAccountName", "servicePrincipalName", "uSNChanged")
	objects := make(map[string]directoryObject, len(entries))
	for _, e := range entries {
		if _, dup := objects[e.dn]; dup {
			t.Fatalf("ldapsearch returned %s twice", e.dn)
		}
		sam := e.attrs["samaccountname"]
		if len(sam) != 1 {
			t.Fatalf("%s: sAMAccountName %q", e.dn, sam)
		}
		usn, err := strconv.ParseInt(strings.Join(e.attrs["usnchanged"], ""), 10, 64)
		if err != nil {
			t.Fatalf("%s: uSNChanged: %v", e.dn, err)
		}
		objects[e.dn] = directoryObject{sam: sam[0], spns: slices.Sorted(slices.Values(e.attrs["serviceprincipalname"])), usn: usn}
	}
	return objects
}

// highestCommittedUSN reads the DC's update sequence number from the
// rootDSE: every change to the directory raises it.
func highestCommittedUSN(t *testing.T, l *lab.Lab, ccache string) int64 {
	t.Helper()
	entries := ldapsearch(t, l, ccache, "-b", "", "-s", "base", "(objectClass=*)", "highestCommittedUSN")
	if len(entries) != 1 {
		t.Fatalf("rootDSE: %d entries", len(entries))
	}
	usn, err := strconv.ParseInt(strings.Join(entries[0].attrs["highestcommittedusn"], ""), 10, 64)
	if err != nil {
		t.Fatalf("rootDSE highestCommittedUSN: %v", err)
	}
	return usn
}

// ldapsearch runs OpenLDAP's ldapsearch -Y GSSAPI against the lab DC as the
// audit account from ccache, and parses its output with parseLDIF.
func ldapsearch(t *testing.T, l *lab.Lab, ccache string, args ...string) []ldifEntry {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// -N: name the DC as written, not by reverse DNS (127.0.0.1 is localhost).
	cmd := exec.CommandContext(ctx, "ldapsearch", append([]string{"-N", "-Q", "-LLL", "-Y", "GSSAPI", "-H", lab.LDAPURL()}, args...)...)
	cmd.Env = append(os.Environ(), "KRB5CCNAME=FILE:"+ccache, "KRB5_CONFIG="+l.Krb5Conf())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ldapsearch: %v: %s", err, stderr.String())
	}
	entries, err := parseLDIF(strings.NewReader(string(out)))
	if err != nil {
		t.Fatalf("ldapsearch output: %v", err)
	}
	return entries
}
