package ldapscan

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"

	"github.com/spnaudit/spnaudit/internal/labtest"
	"github.com/spnaudit/spnaudit/lab"
)

// aesScenario holds, in its own OU, an account whose password was set years
// before the lab domain existed (written beneath Samba's checks), one whose
// password was never set (pwdLastSet=0), and one created now.
func aesScenario() (*lab.Scenario, time.Time) {
	old := time.Date(2005, 6, 1, 8, 0, 0, 0, time.UTC)
	never := time.Time{}
	return &lab.Scenario{Name: "ldapscan-aes", OU: "LdapscanAES",
		Users: []lab.User{
			{Name: "aes_old", SPNs: []string{"HTTP/aes-old.corp.example.test"}, PwdLastSet: &old},
			{Name: "aes_never", SPNs: []string{"HTTP/aes-never.corp.example.test"}, PwdLastSet: &never},
			{Name: "aes_new", SPNs: []string{"HTTP/aes-new.corp.example.test"}},
		}}, old
}

// TestLabAESThreshold: the read-only audit account reads the whenCreated of
// the lab domain's RID-521 group (found by objectSid = domain SID + "-521",
// MS-DTYP 2.4.2.4), the same value the database holds, and the pwdLastSet
// values written beneath Samba's checks read back as written.
func TestLabAESThreshold(t *testing.T) {
	sc, old := aesScenario()
	l := labtest.Scenario(t, sc)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	scanner := labScanner(t, l, lab.LDAPURL(), SASLSeal, false)
	res, err := scanner.Scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := res.Snapshot.Directory.AESThresholds[lab.DNSDomain]
	if !ok || len(res.Snapshot.Directory.AESThresholds) != 1 {
		t.Fatalf("thresholds %v: the audit account did not read the RID-521 group of %s", res.Snapshot.Directory.AESThresholds, lab.DNSDomain)
	}

	// The database's own value, read as root with ldbsearch, beside go-ldap
	// (by name here: the lab's group has its English name).
	out, err := exec.CommandContext(ctx, "ldbsearch", "-H", filepath.Join(l.Dir, "private", "sam.ldb"), "-b", lab.BaseDN,
		"(sAMAccountName=Read-only Domain Controllers)", "whenCreated", "objectSid").CombinedOutput()
	if err != nil {
		t.Fatalf("ldbsearch: %v: %s", err, out)
	}
	var want time.Time
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "whenCreated: "); ok {
			if want, err = ber.ParseGeneralizedTime([]byte(v)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !got.Equal(want) || !strings.Contains(string(out), "-521\n") {
		t.Errorf("threshold %s; the database says %s:\n%s", got, want, out)
	}

	byName := map[string]time.Time{}
	for _, o := range res.Snapshot.Objects {
		if strings.HasSuffix(strings.ToLower(o.DN), ","+strings.ToLower(sc.OUDN())) {
			byName[o.SAMAccountName] = o.PwdLastSet
		}
	}
	if !byName["aes_old"].Equal(old) || !byName["aes_never"].IsZero() ||
		!byName["aes_new"].After(got) {
		t.Errorf("pwdLastSet read back %v; want aes_old %s, aes_never 0, aes_new after %s", byName, old, got)
	}

	// A poll keeps the thresholds (the group's whenCreated never changes).
	poll, err := scanner.Poll(ctx, res)
	if err != nil {
		t.Fatal(err)
	}
	if !poll.Snapshot.Directory.AESThresholds[lab.DNSDomain].Equal(got) {
		t.Errorf("poll thresholds %v, want %s", poll.Snapshot.Directory.AESThresholds, got)
	}
}
