package lab

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/spnaudit/spnaudit/internal/secdesc"
)

// Delegation is the constrained delegation of a scenario account.
type Delegation struct {
	// AllowedToDelegateTo are the SPNs of msDS-AllowedToDelegateTo.
	AllowedToDelegateTo []string `yaml:"allowed_to_delegate_to"`
	// TrustedToAuthForDelegation sets TRUSTED_TO_AUTH_FOR_DELEGATION
	// (protocol transition).
	TrustedToAuthForDelegation bool `yaml:"trusted_to_auth_for_delegation"`
}

const uacTrustedToAuthForDelegation = 0x1000000

func (d Delegation) uacBits() uint32 {
	if d.TrustedToAuthForDelegation {
		return uacTrustedToAuthForDelegation
	}
	return 0
}

func (d Delegation) appendAttrs(attrs [][2]string) [][2]string {
	for _, s := range d.AllowedToDelegateTo {
		attrs = append(attrs, [2]string{"msDS-AllowedToDelegateTo", s})
	}
	return attrs
}

// rbcdMask is the access mask Set-ADComputer -PrincipalsAllowedToDelegateToAccount
// grants (SDDL CCDCLCSWRPWPDTLOCRSDRCWDWO).
const rbcdMask = 0xF01FF

// applyDelegation writes what needs the SIDs of accounts Apply just created:
// msDS-AllowedToActOnBehalfOfOtherIdentity (a security descriptor naming
// them) and mS-DS-CreatorSID. It writes through sam.ldb as the system, as
// the rest of Apply does: an admin's Set-ADComputer does the same over LDAP.
func (l *Lab) applyDelegation(ctx context.Context, sc *Scenario) error {
	for _, c := range sc.Computers {
		if len(c.AllowedToAct) == 0 && c.CreatedBy == "" {
			continue
		}
		var mods []string
		if len(c.AllowedToAct) > 0 {
			sids := make([]string, len(c.AllowedToAct))
			for i, sam := range c.AllowedToAct {
				sid, err := l.accountSID(ctx, sc, sam)
				if err != nil {
					return err
				}
				sids[i] = sid
			}
			sd, err := secdesc.AllowDescriptor("S-1-5-32-544", rbcdMask, sids...)
			if err != nil {
				return err
			}
			mods = append(mods, "replace: msDS-AllowedToActOnBehalfOfOtherIdentity\nmsDS-AllowedToActOnBehalfOfOtherIdentity:: "+
				base64.StdEncoding.EncodeToString(sd)+"\n-\n")
		}
		if c.CreatedBy != "" {
			sid, err := l.accountSID(ctx, sc, c.CreatedBy)
			if err != nil {
				return err
			}
			// In string form: Samba 4.17's ldbmodify takes a base64 binary
			// SID here without error and modifies nothing ("Modified 0 records").
			mods = append(mods, "replace: mS-DS-CreatorSID\nmS-DS-CreatorSID: "+sid+"\n-\n")
		}
		dn := sc.AccountDN(c.Name + "$")
		ldif := "dn: " + dn + "\nchangetype: modify\n" + strings.Join(mods, "")
		if err := l.ldbApply(ctx, "ldbmodify", l.samLDB(), ldif); err != nil {
			return fmt.Errorf("scenario %s: delegation of %s: %w", sc.Name, dn, err)
		}
	}
	return nil
}

// accountSID reads the objectSid of a scenario account.
func (l *Lab) accountSID(ctx context.Context, sc *Scenario, sam string) (string, error) {
	dn := sc.AccountDN(sam)
	if dn == "" {
		return "", fmt.Errorf("scenario %s: unknown account %q", sc.Name, sam)
	}
	out, err := l.run(ctx, "ldbsearch", "-H", l.samLDB(), "-b", dn, "-s", "base", "objectSid")
	if err != nil {
		return "", fmt.Errorf("ldbsearch %s: %w: %s", dn, err, tail([]byte(out)))
	}
	for line := range strings.SplitSeq(out, "\n") {
		if sid, ok := strings.CutPrefix(strings.TrimSpace(line), "objectSid: "); ok {
			return sid, nil
		}
	}
	return "", fmt.Errorf("scenario %s: no objectSid for %s", sc.Name, dn)
}
