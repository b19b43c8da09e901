package gen

import (
	"bytes"
	"crypto/sha256"
	"io"
	"testing"

	"github.com/spnaudit/spnaudit/ldapscan"
)

// TestExports reads each export back with the LDIF reader the benchmarks
// measure and checks that it holds what Stats says, and that the same
// arguments give the same bytes.
func TestExports(t *testing.T) {
	cases := []struct {
		name                   string
		write                  func(io.Writer) (Stats, error)
		objects, spns, entries int
		forest                 string
	}{
		{"realistic", func(w io.Writer) (Stats, error) { return WriteRealistic(w, 100, 20, 5) }, 120, 100*4 + 20*2 + 5, 122, DNSDomain},
		{"flood", func(w io.Writer) (Stats, error) { return WriteFlood(w, 50) }, 50, 200, 52, DNSDomain},
		{"directory", func(w io.Writer) (Stats, error) { return WriteDirectory(w, 40) }, 40, 100, 45, DNSDomain},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var a, b bytes.Buffer
			st, err := c.write(&a)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.write(&b); err != nil {
				t.Fatal(err)
			}
			if sha256.Sum256(a.Bytes()) != sha256.Sum256(b.Bytes()) {
				t.Fatal("two runs wrote different bytes")
			}
			if st.Objects != c.objects || st.SPNs != c.spns || st.Entries != c.entries || st.Bytes != int64(a.Len()) {
				t.Fatalf("stats %+v, want %d objects, %d SPNs, %d entries, %d bytes", st, c.objects, c.spns, c.entries, a.Len())
			}
			res, err := ldapscan.ReadLDIF(&a, c.name)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Warnings) > 0 {
				t.Errorf("warnings: %q", res.Warnings)
			}
			snap := res.Snapshot
			if len(snap.Objects) != c.objects || snap.SPNCount() != c.spns || res.Entries != c.entries {
				t.Errorf("read %d objects, %d SPNs, %d entries; want %d, %d, %d", len(snap.Objects), snap.SPNCount(), res.Entries, c.objects, c.spns, c.entries)
			}
			if snap.Directory.ForestDNS != c.forest || len(snap.Directory.SPNMappings) == 0 {
				t.Errorf("directory %+v: want forest %s and the sPNMappings", snap.Directory, c.forest)
			}
		})
	}
}

// TestRealisticDuplicates checks that the realistic export holds exactly
// the duplicates it claims: the figure the grep pipeline and the
// duplicate_spn rule are compared on.
func TestRealisticDuplicates(t *testing.T) {
	var buf bytes.Buffer
	st, err := WriteRealistic(&buf, 1000, 200, 50)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ldapscan.ReadLDIF(&buf, "realistic")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, o := range res.Snapshot.Objects {
		for _, s := range o.SPNs {
			seen[s]++
		}
	}
	dups := 0
	for _, n := range seen {
		if n > 1 {
			dups++
		}
	}
	if dups != 50 || st.Duplicates != 50 {
		t.Fatalf("%d duplicated SPNs, stats say %d; want 50", dups, st.Duplicates)
	}
}

// TestDirectoryTellsPrivilege checks that the daemon's directory holds the
// domain's protected groups as a live read does: its first service
// accounts are privileged through Domain Admins, and no account's privilege
// is unknown (the kerberoastable finding would otherwise say so for every
// account, which the live daemon never writes).
func TestDirectoryTellsPrivilege(t *testing.T) {
	var buf bytes.Buffer
	if _, err := WriteDirectory(&buf, 40); err != nil {
		t.Fatal(err)
	}
	res, err := ldapscan.ReadLDIF(&buf, "directory")
	if err != nil {
		t.Fatal(err)
	}
	privileged := 0
	for _, o := range res.Snapshot.Objects {
		if o.PrivilegeUnknown {
			t.Fatalf("%s: privilege unknown", o.DN)
		}
		if o.Privilege != nil {
			privileged++
			if o.Privilege.Group != "Domain Admins" {
				t.Errorf("%s: privileged via %q, want Domain Admins", o.DN, o.Privilege.Group)
			}
		}
	}
	if privileged != directoryAdmins {
		t.Errorf("%d privileged accounts, want %d", privileged, directoryAdmins)
	}
}
