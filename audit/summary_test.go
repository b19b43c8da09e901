package audit

import (
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

// TestSummarizeAnswersThePredicates: every bit of an object's summary is
// the predicate the rules skip on, for every combination of kind, flags
// and lists, so a skipped object is one the rule would have skipped.
func TestSummarizeAnswersThePredicates(t *testing.T) {
	kinds := []inventory.Kind{inventory.KindUser, inventory.KindComputer, inventory.Kind("other")}
	uacs := []uint32{0, inventory.UACAccountDisable, inventory.UACTrustedForDelegation,
		inventory.UACTrustedForDelegation | inventory.UACServerTrustAccount, inventory.UACTrustedForDelegation | inventory.UACAccountDisable}
	for _, kind := range kinds {
		for _, uac := range uacs {
			for lists := range 8 {
				o := inventory.Object{Kind: kind, UserAccountControl: uac}
				if lists&1 != 0 {
					o.SPNs = []string{"HTTP/x"}
				}
				if lists&2 != 0 {
					o.SetAllowedToDelegateTo([]string{"HTTP/y"})
				}
				if lists&4 != 0 {
					o.SetAllowedToActOnBehalf(make([]inventory.Principal, 1))
				}
				s := summarize(&o)
				for _, c := range []struct {
					bit  objSummary
					want bool
				}{
					{sumUser, o.Kind == inventory.KindUser},
					{sumComputer, o.Kind == inventory.KindComputer},
					{sumEnabled, o.Enabled()},
					{sumSPNs, len(o.SPNs) > 0},
					{sumDelegatesTo, len(o.AllowedToDelegateTo()) > 0},
					{sumActOnBehalf, len(o.AllowedToActOnBehalf()) > 0},
					{sumTrustedForDelegation, o.UserAccountControl&inventory.UACTrustedForDelegation != 0 && !o.IsDC()},
				} {
					if got := s&c.bit != 0; got != c.want {
						t.Errorf("%s uac %#x lists %d: bit %#x = %v, want %v", kind, uac, lists, c.bit, got, c.want)
					}
				}
				if got := s&(sumEnabled|sumSPNs|sumTrustedForDelegation) == sumEnabled|sumSPNs|sumTrustedForDelegation; got != delegatesUnconstrained(&o) {
					t.Errorf("%s uac %#x lists %d: summary says unconstrained %v", kind, uac, lists, got)
				}
				if got := s&(sumEnabled|sumDelegatesTo) == sumEnabled|sumDelegatesTo; got != delegates(&o) {
					t.Errorf("%s uac %#x lists %d: summary says delegates %v", kind, uac, lists, got)
				}
			}
		}
	}
}
