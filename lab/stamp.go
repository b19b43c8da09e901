package lab

import (
	"context"
	"fmt"
	"time"
)

// stampSPNChange makes the replication metadata of servicePrincipalName on
// dn say what a replicated write says: changed now, on this DC. A write to
// the raw partition file (InjectCollision) bypasses the module that keeps
// that metadata, so the lab DC would date the injected value to the
// account's previous SPN change; on a real forest each holder of a
// duplicate carries the time and DC of the write that gave it the value.
// One modify through the normal path that adds and deletes a unique
// scratch value stamps the attribute (measured on Samba 4.17: its version
// goes up by two) and leaves its values as they were, with no moment at
// which a scan could see the scratch value; Samba's uniqueness check looks
// only at the values a modify names.
func (l *Lab) stampSPNChange(ctx context.Context, dn string) error {
	scratch := fmt.Sprintf("spnaudit-lab-stamp/%d.invalid", time.Now().UnixNano())
	ldif := fmt.Sprintf("dn: %s\nchangetype: modify\nadd: servicePrincipalName\nservicePrincipalName: %s\n-\n"+
		"delete: servicePrincipalName\nservicePrincipalName: %s\n-\n", dn, scratch, scratch)
	if err := l.ldbApply(ctx, "ldbmodify", l.samLDB(), ldif); err != nil {
		return fmt.Errorf("stamp the SPN change on %s: %w", dn, err)
	}
	return nil
}
