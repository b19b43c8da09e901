package audit

import (
	"context"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/lab"
	"github.com/spnaudit/spnaudit/lab/labtest"
)

// TestLabADAcceptance writes every value of adAcceptance through the lab
// Samba DC's normal write path (samldb's SPN checks) and compares its answer
// with the samba column; where that differs from the windows column, Samba
// accepts what Windows refuses and only the audit catches it.
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
	for _, tt := range adAcceptance {
		t.Run(tt.spn, func(t *testing.T) {
			err := l.AddSPN(ctx, dn, tt.spn)
			accepted := err == nil
			if accepted {
				if err := l.RemoveSPN(ctx, dn, tt.spn); err != nil {
					t.Fatalf("clean up: %v", err)
				}
			}
			if accepted != tt.samba {
				t.Errorf("lab Samba DC accepted=%v for %q (err %v), want %v", accepted, tt.spn, err, tt.samba)
			}
			if !accepted {
				t.Logf("refused: %v", err)
			}
			if tt.samba && !tt.windows {
				t.Logf("Samba accepts %q, Windows refuses it (%s)", tt.spn, tt.cite)
			}
		})
	}
}
