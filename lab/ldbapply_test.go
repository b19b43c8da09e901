package lab

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestLDBFailure: output of ldb tools that exited 0, as Samba 4.x prints it.
func TestLDBFailure(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		fails     bool
	}{
		{"all added", "Added 2 records successfully\n", false},
		{"a record refused", "Added 1 records successfully\nERR: Entry already exists : \"Entry cn=a already exists\" on DN cn=a at block before line 6\n", true},
		{"refused first", "ERR: (No such object) \"ldb_wait from (null) with LDB_WAIT_ALL: No such object (32)\" on DN cn=zz at block before line 5\nModified 0 records successfully\n", true},
		{"ERR inside a value is not a refusal", "Added 1 records successfully (description ERR: none)\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ldbFailure("ldbadd", tc.out)
			if (err != nil) != tc.fails {
				t.Fatalf("ldbFailure(%q) = %v, want failure %v", tc.out, err, tc.fails)
			}
		})
	}
}

// TestLDBApplyRefusedRecord runs the real ldbadd on a scratch database: a
// record it refuses must fail ldbApply although ldbadd exits 0. It fails when
// the check in ldbFailure is removed, or when Samba changes how it reports a
// refusal.
func TestLDBApplyRefusedRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("needs Samba's ldb tools")
	}
	if _, err := exec.LookPath("ldbadd"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ldbadd not installed under CI=true: %v", err)
		}
		t.Skipf("ldbadd not installed (lab/install.sh): %v", err)
	}
	l := &Lab{Dir: t.TempDir()}
	url := "tdb://" + l.Dir + "/scratch.ldb"
	ctx := context.Background()
	if err := l.ldbApply(ctx, "ldbadd", url, "dn: cn=a\ncn: a\n\n"); err != nil {
		t.Fatalf("first add: %v", err)
	}
	err := l.ldbApply(ctx, "ldbadd", url, "dn: cn=a\ncn: a\n\ndn: cn=b\ncn: b\n\n")
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("adding an existing entry: err = %v, want the refusal", err)
	}
}
