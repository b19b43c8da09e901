package ldapscan

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func TestReadLDIFGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/ldif/*.ldif")
	if err != nil || len(files) == 0 {
		t.Fatalf("no LDIF test files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			res, err := ReadLDIF(f, filepath.Base(file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(res, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := strings.TrimSuffix(file, ".ldif") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("ReadLDIF(%s) differs from %s (go test -update rewrites it):\n%s", file, golden, got)
			}
		})
	}
}

// TestReadLDIFSemantics pins, independently of the golden files, what the
// formats require.
func TestReadLDIFSemantics(t *testing.T) {
	read := func(t *testing.T, name string) *LDIFResult {
		t.Helper()
		f, err := os.Open(filepath.Join("testdata/ldif", name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		res, err := ReadLDIF(f, name)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	t.Run("ldifde", func(t *testing.T) {
		res := read(t, "ldifde.ldif")
		snap := res.Snapshot
		if len(snap.Objects) != 3 {
			t.Fatalf("objects = %d, want 3", len(snap.Objects))
		}
		svc := objectByName(t, snap, "svc_iis_farm")
		if last := svc.SPNs[2]; !strings.HasSuffix(last, "folds the line at seventy-eight columns") || strings.Contains(last, "\r") {
			t.Errorf("folded value = %q", last)
		}
		if svc.GUID.String() != "0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d" || !svc.PwdLastSet.IsZero() || svc.AdminCount != 1 {
			t.Errorf("svc_iis_farm = %+v", svc)
		}
		if g := objectByName(t, snap, "gmsa_sql$"); g.Domain != "child.corp.example.test" || g.Kind != "gmsa" {
			t.Errorf("gMSA = %+v", g)
		}
		d := snap.Directory
		if d.ForestDNS != "corp.example.test" || !slices.Equal(d.Domains, []string{"child.corp.example.test", "corp.example.test"}) ||
			len(d.SPNMappings) != 1 || !strings.HasPrefix(d.SPNMappings[0], "host=alerter,") || d.DSHeuristics == "" {
			t.Errorf("directory = %+v", d)
		}
		if want := []string{"*.corp.example.test", "svexpgg310.corp.example.test", "svnlb301.corp.example.test"}; !slices.Equal(d.DNSNames, want) {
			t.Errorf("DNS names = %q, want %q", d.DNSNames, want)
		}
	})
	t.Run("ldapsearch", func(t *testing.T) {
		res := read(t, "ldapsearch.ldif")
		snap := res.Snapshot
		if got := objectByName(t, snap, "svc_many").SPNs; !slices.Equal(got, []string{"HTTP/a0", "HTTP/a1", "HTTP/a2", "HTTP/a3", "HTTP/a4", "HTTP/a5", "HTTP/a6"}) {
			t.Errorf("merged ranges = %q", got)
		}
		zoe := objectByName(t, snap, "zoe")
		if zoe.DN != "CN=Zoë Service,CN=Users,DC=corp,DC=example,DC=test" ||
			!slices.Equal(zoe.SPNs, []string{"HTTP/intra\u200bnet.corp.example.test", " HTTP/leading-space"}) {
			t.Errorf("base64 values: %+v", zoe)
		}
		if len(res.Warnings) != 2 || !strings.Contains(res.Warnings[0], "grp_truncated") || !strings.Contains(res.Warnings[1], "URL") {
			t.Errorf("warnings = %q", res.Warnings)
		}
		if snap.Directory.ForestDNS != "corp.example.test" || len(snap.Directory.SPNMappings) != 0 {
			t.Errorf("directory without config entries = %+v", snap.Directory)
		}
	})
}

func TestReadLDIFErrors(t *testing.T) {
	tests := []struct {
		name, ldif, want string
	}{
		{"continuation first", " dn: x\n", "line 1: continuation"},
		{"no colon", "dn: CN=a,DC=x\nservicePrincipalName\n", "line 2"},
		{"bad base64", "dn: CN=a,DC=x\nservicePrincipalName:: !!!\n", "bad base64"},
		{"range not from zero", "dn: CN=a,DC=x\nservicePrincipalName;range=3-*: a\n", "does not follow"},
		{"range gap", "dn: CN=a,DC=x\nservicePrincipalName;range=0-1: a\nservicePrincipalName;range=0-1: b\nservicePrincipalName;range=5-*: c\n", "does not follow"},
		{"range after last", "dn: CN=a,DC=x\nmember;range=0-*: a\nmember;range=1-*: b\n", "after the last range"},
		{"bad range", "dn: CN=a,DC=x\nmember;range=9-1: a\n", "bad high bound"},
		{"bad integer", "dn: CN=a,DC=x\nservicePrincipalName: HTTP/a\nuserAccountControl: lots\n", "userAccountControl"},
		{"bad GUID", "dn: CN=a,DC=x\nservicePrincipalName: HTTP/a\nobjectGUID:: AAEC\n", "objectGUID"},
		// RFC 2849: records are separated by an empty line. Without one, the
		// next record's SPNs would be attributed to the account before it.
		{"no blank line between records", "dn: CN=a,DC=x\nservicePrincipalName: HTTP/a\ndn: CN=b,DC=x\nservicePrincipalName: HTTP/b\n",
			"ldif line 3: dn: inside the record that starts at line 1; records must be separated by an empty line"},
		{"a line of spaces between records", "dn: CN=a,DC=x\nservicePrincipalName: HTTP/a\n   \ndn: CN=b,DC=x\nservicePrincipalName: HTTP/b\n",
			"ldif line 4: dn: inside the record that starts at line 1; records must be separated by an empty line (line 3 holds only spaces"},
		{"a single space between records", "dn: CN=a,DC=x\r\nservicePrincipalName: HTTP/a\r\n \r\ndn: CN=b,DC=x\r\nservicePrincipalName: HTTP/b\r\n",
			"ldif line 4: dn: inside the record that starts at line 1; records must be separated by an empty line (line 3 holds only spaces"},
		{"base64 dn inside a record", "dn: CN=a,DC=x\nservicePrincipalName: HTTP/a\ndn:: Q049YixEQz14\nservicePrincipalName: HTTP/b\n", "ldif line 3: dn: inside"},
		{"upper-case DN inside a record", "dn: CN=a,DC=x\nDN: CN=b,DC=x\n", "ldif line 2: dn: inside"},
		{"dn inside a later record", "version: 1\ndn: CN=a,DC=x\nservicePrincipalName: HTTP/a\n\ndn: CN=b,DC=x\nservicePrincipalName: HTTP/b\n# comment\ndn: CN=c,DC=x\n",
			"ldif line 8: dn: inside the record that starts at line 5"},
		// The mirror image of a merge: an empty line inside an entry cuts it,
		// and the SPNs after it would be lost.
		{"record without dn", "dn: CN=a,DC=x\nsAMAccountName: a\n\nservicePrincipalName: HTTP/a\n",
			"ldif line 4: record without dn: (an empty line inside an entry splits it in two"},
		{"SPNs cut by range retrieval", "dn: CN=a,DC=x\nservicePrincipalName;range=0-1: HTTP/a0\nservicePrincipalName;range=0-1: HTTP/a1\n",
			"ldif line 1: CN=a,DC=x: servicePrincipalName holds only the values up to range 1: the export did not retrieve the remaining ones (servicePrincipalName;range=2-*)"},
		{"delegation targets cut by range retrieval", "dn: CN=a,DC=x\nservicePrincipalName: HTTP/a\nmsDS-AllowedToDelegateTo;range=0-0: cifs/b\n",
			"msDS-AllowedToDelegateTo holds only the values up to range 0"},
		{"SPN given by URL", "dn: CN=a,DC=x\nservicePrincipalName: HTTP/a\nservicePrincipalName:< file:///etc/spns\n",
			"ldif line 3: CN=a,DC=x: servicePrincipalName given by URL, which is never read"},
		{"version, entry and dn without separators", "version: 1\ndn: CN=a,DC=x\nservicePrincipalName: HTTP/a\ndn: CN=b,DC=x\n", "ldif line 4: dn: inside"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ReadLDIF(strings.NewReader(tc.ldif), "test")
			if err == nil || !strings.Contains(err.Error(), tc.want) || res != nil {
				t.Fatalf("error %v, want one containing %q and no result", err, tc.want)
			}
		})
	}
}

func TestReadLDIFSkips(t *testing.T) {
	tests := []struct {
		name, ldif   string
		objects      int
		wantWarnings int
	}{
		{"empty", "", 0, 0},
		{"only comments", "# nothing\n#\n", 0, 0},
		{"version only", "version: 1\n", 0, 0},
		{"version then entry", "version: 1\ndn: CN=a,DC=x\nservicePrincipalName: HTTP/a\n", 1, 0},
		{"values cut on an object without SPNs", "dn: CN=g,DC=x\nmember;range=0-1: CN=a\nmember;range=0-1: CN=b\n", 0, 1},
		{"a value by URL the inventory does not read", "dn: CN=a,DC=x\nservicePrincipalName: HTTP/a\ndescription:< file:///etc/passwd\n", 1, 1},
		{"version then entries", "version: 1\ndn: CN=a,DC=x\nservicePrincipalName: HTTP/a\n\ndn: CN=b,DC=x\nservicePrincipalName: HTTP/b\n", 2, 0},
		// A value folded at a run of spaces: a continuation line of spaces
		// inside a record is still a continuation.
		{"continuation of spaces inside a record", "dn: CN=a,DC=x\ndescription: a\n   \nservicePrincipalName: HTTP/a\n", 1, 0},
		{"modify record", "dn: CN=a,DC=x\nchangetype: modify\nadd: servicePrincipalName\nservicePrincipalName: HTTP/a\n-\n", 0, 1},
		{"no trailing newline", "dn: CN=a,DC=x\nservicePrincipalName: HTTP/a", 1, 0},
		{"many blank lines", "\n\n\ndn: CN=a,DC=x\r\nservicePrincipalName: HTTP/a\r\n\r\n\r\n", 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ReadLDIF(strings.NewReader(tc.ldif), "test")
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Snapshot.Objects) != tc.objects || len(res.Warnings) != tc.wantWarnings {
				t.Fatalf("objects %d warnings %q; want %d objects, %d warnings", len(res.Snapshot.Objects), res.Warnings, tc.objects, tc.wantWarnings)
			}
		})
	}
}

// TestLDIFNeverMergesRecords: whatever separates two records (an empty
// line, several, one with CR, a line of spaces, nothing), the reader either
// refuses the export naming the line or gives each account exactly its own
// SPNs: never one account's SPN to another.
func TestLDIFNeverMergesRecords(t *testing.T) {
	for _, sep := range []struct {
		text  string
		valid bool // RFC 2849 separates records with it
	}{
		{"\n", true}, {"\n\n", true}, {"\r\n", true}, {"", false}, {" \n", false}, {"    \n", false},
		{"# comment\n", false}, {"\n# comment\n", true}, {" \n\n", true},
	} {
		t.Run(strconv.Quote(sep.text), func(t *testing.T) {
			ldif := "dn: CN=a,DC=x\nsAMAccountName: a\nservicePrincipalName: HTTP/a\n" + sep.text +
				"dn: CN=b,DC=x\nsAMAccountName: b\nservicePrincipalName: HTTP/b\n"
			res, err := ReadLDIF(strings.NewReader(ldif), "test")
			if !sep.valid {
				if err == nil || !strings.Contains(err.Error(), "ldif line ") {
					t.Fatalf("records without a separator: error %v, want one naming the line", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for _, o := range res.Snapshot.Objects {
				got[o.SAMAccountName] = o.SPNs
			}
			want := map[string][]string{"a": {"HTTP/a"}, "b": {"HTTP/b"}}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("SPNs by account = %q, want %q", got, want)
			}
		})
	}
}

// TestLDIFMatchesLDAP: an export of the directory read as LDIF gives the
// same objects as the LDAP scan of it, the conversion being shared.
func TestLDIFMatchesLDAP(t *testing.T) {
	fa := newFakeAD()
	dn := fa.account("farm", "user", spnList("HTTP", 1700)...)
	fa.modify(dn, func(a map[string][]string) {
		a["pwdLastSet"] = []string{"133485408000000000"}
		a["msDS-SupportedEncryptionTypes"] = []string{"24"}
	})
	fa.account("WEB01$", "computer", "HOST/web01")
	sc := newTestScanner(t, []string{"ldap://" + fa.serve(t, nil, false)}, nil)
	scanned := scanOK(t, sc).Snapshot

	export := exportLDIF(fa)
	read, err := ReadLDIF(strings.NewReader(export), "export")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(read.Snapshot.Objects, scanned.Objects) {
		t.Fatalf("LDIF objects differ from LDAP objects:\nLDIF %+v\nLDAP %+v", read.Snapshot.Objects, scanned.Objects)
	}
	if !reflect.DeepEqual(read.Snapshot.Directory, scanned.Directory) {
		t.Fatalf("directory differs:\nLDIF %+v\nLDAP %+v", read.Snapshot.Directory, scanned.Directory)
	}
}

// exportLDIF writes the live entries as a range-aware export would: binary
// values in base64, CRLF line ends, attributes with more than MaxValRange
// values as consecutive ranges ending with "-*".
func exportLDIF(fa *fakeAD) string {
	var b strings.Builder
	b.WriteString("version: 1\r\n\r\n")
	for _, e := range fa.entries {
		if e.deleted {
			continue
		}
		fmt.Fprintf(&b, "dn: %s\r\n", e.dn)
		for name, values := range e.view() {
			for low := 0; low < len(values); low += fa.maxValRange {
				high := min(low+fa.maxValRange, len(values))
				desc := name
				if len(values) > fa.maxValRange {
					last := strconv.Itoa(high - 1)
					if high == len(values) {
						last = "*"
					}
					desc = fmt.Sprintf("%s;range=%d-%s", name, low, last)
				}
				for _, v := range values[low:high] {
					if name == "objectGUID" || name == "invocationId" || name == "objectSid" {
						fmt.Fprintf(&b, "%s:: %s\r\n", desc, base64.StdEncoding.EncodeToString([]byte(v)))
					} else {
						fmt.Fprintf(&b, "%s: %s\r\n", desc, v)
					}
				}
			}
		}
		b.WriteString("\r\n")
	}
	return b.String()
}

// TestObjectBeforeMatchesCompareObjects: objectBefore, which starts the
// fold past the ASCII bytes two DNs share, orders as compareObjects does,
// over DNs that share prefixes and differ in case, in multi-byte letters
// (the Kelvin sign folds to k, the long s to s), in invalid UTF-8 and in
// length.
func TestObjectBeforeMatchesCompareObjects(t *testing.T) {
	parts := []string{"", "a", "A", "k", "K", "\u212a", "s", "\u017f", "é", "É", "\xff", "\xc3", ",", "0", "z"}
	var dns []string
	for _, p := range parts {
		for _, q := range parts {
			dns = append(dns, "CN=srv"+p+q, "CN=SRV"+p+q+",DC=x", "cn=srv"+p)
		}
	}
	for _, a := range dns {
		for _, b := range dns {
			for _, guids := range [][2]inventory.GUID{{}, {testGUID(1), testGUID(2)}, {testGUID(2), testGUID(1)}} {
				x := inventory.Object{DN: a, GUID: guids[0]}
				y := inventory.Object{DN: b, GUID: guids[1]}
				if got, want := objectBefore(&x, &y), compareObjects(new(x), new(y)) < 0; got != want {
					t.Fatalf("objectBefore(%q %s, %q %s) = %v, compareObjects says %v", a, guids[0], b, guids[1], got, want)
				}
			}
		}
	}
}
