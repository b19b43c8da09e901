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
// Adding and removing a unique scratch value through the normal path
// stamps the attribute (Samba's uniqueness check looks only at the values
// a modify names) and leaves its values as they were.
func (l *Lab) stampSPNChange(ctx context.Context, dn string) error {
	scratch := fmt.Sprintf("spnaudit-lab-stamp/%d.invalid", time.Now().UnixNano())
	if err := l.AddSPN(ctx, dn, scratch); err != nil {
		return fmt.Errorf("stamp the SPN change on %s: %w", dn, err)
	}
	if err := l.RemoveSPN(ctx, dn, scratch); err != nil {
		return fmt.Errorf("stamp the SPN change on %s: %w", dn, err)
	}
	return nil
}
