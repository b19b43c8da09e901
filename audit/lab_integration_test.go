package audit

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/internal/labtest"
	"github.com/spnaudit/spnaudit/krb"
	"github.com/spnaudit/spnaudit/lab"
	"github.com/spnaudit/spnaudit/ldapscan"
)

// TestLabADAcceptance writes every value of adAcceptance through the lab
// Samba DC's normal write path (samldb's SPN checks) and compares its answer
// with the samba column. The values Samba accepts but Windows refuses (the
// look-alikes) stay on the account; a sealed GSSAPI scan of the lab then
// must show each of them to the audit as a critical duplicate-spn of the
// value it imitates: only the audit catches what Samba lets through.
func TestLabADAcceptance(t *testing.T) {
	sc := &lab.Scenario{Name: "audit-ad-acceptance", OU: "AuditADAcceptance",
		Users: []lab.User{
			{Name: "adacc_held", SPNs: adAcceptanceHeld},
			{Name: "adacc_new"},
		}}
	l := labtest.Scenario(t, sc)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dn := sc.AccountDN("adacc_new")
	var kept []string
	for _, tt := range adAcceptance {
		t.Run(tt.spn, func(t *testing.T) {
			err := l.AddSPN(ctx, dn, tt.spn)
			accepted := err == nil
			if accepted != tt.samba {
				t.Errorf("lab Samba DC accepted=%v for %q (err %v), want %v", accepted, tt.spn, err, tt.samba)
			}
			if !accepted {
				t.Logf("refused: %v", err)
				return
			}
			if !tt.windows {
				t.Logf("Samba accepts %q, Windows refuses it (%s)", tt.spn, tt.cite)
				kept = append(kept, tt.spn)
				return
			}
			if err := l.RemoveSPN(ctx, dn, tt.spn); err != nil {
				t.Fatalf("clean up: %v", err)
			}
		})
	}
	if len(kept) == 0 {
		t.Fatal("Samba accepted no look-alike: the table or the lab changed")
	}

	kc, err := krb.New(krb.Config{Realm: lab.Realm, Principal: lab.AuditUser, KeytabFile: l.Keytab(), KDCs: []string{"127.0.0.1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	scanner, err := ldapscan.New(ldapscan.Config{URLs: []string{lab.LDAPURL()}, SASLSecurity: ldapscan.SASLSeal,
		Logger: slog.New(slog.DiscardHandler)}, ldapscan.Kerberos{Client: kc})
	if err != nil {
		t.Fatal(err)
	}
	defer scanner.Close()
	scan, err := scanner.Scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	held := sc.AccountDN("adacc_held")
	res := Run(scan.Snapshot, Config{})
	for _, spn := range kept {
		found := slices.ContainsFunc(res.Findings, func(f Finding) bool {
			return f.Rule == RuleDuplicateSPN && f.Severity == SeverityCritical &&
				containsFold(f.Accounts, held) && containsFold(f.Accounts, dn) && strings.Contains(f.Message, "look-alike") &&
				slices.ContainsFunc(adAcceptanceHeld, func(h string) bool { return looseEqual(h, spn) && looseEqual(f.SPN, h) })
		})
		if !found {
			t.Errorf("the audit of the lab does not report look-alike %q as a critical duplicate-spn of adacc_held's SPN", spn)
		}
	}
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(v string) bool { return strings.EqualFold(v, s) })
}
