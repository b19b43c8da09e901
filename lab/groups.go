package lab

import (
	"context"
	"fmt"
	"strings"
)

// Group is a global security group of a scenario, created in its OU. Its
// Name is also its sAMAccountName, which must be unique in the domain:
// prefix it in each scenario (ldbadd reports a clash on stderr but exits 0).
type Group struct {
	Name string `yaml:"name"`
	// MemberOf names the groups this group is nested in, as User.MemberOf.
	MemberOf []string `yaml:"member_of,omitempty"`
}

// wellKnownGroups are the default locations of the domain's built-in
// groups that scenarios may add members to.
var wellKnownGroups = map[string]string{
	"domain admins":     "CN=Domain Admins,CN=Users,",
	"enterprise admins": "CN=Enterprise Admins,CN=Users,",
	"schema admins":     "CN=Schema Admins,CN=Users,",
	"administrators":    "CN=Administrators,CN=Builtin,",
	"account operators": "CN=Account Operators,CN=Builtin,",
	"server operators":  "CN=Server Operators,CN=Builtin,",
	"print operators":   "CN=Print Operators,CN=Builtin,",
	"backup operators":  "CN=Backup Operators,CN=Builtin,",
}

// WellKnownGroupDN returns the DN of a built-in group of the lab domain by
// its default name, or "" when it is not one the lab knows.
func WellKnownGroupDN(name string) string {
	if prefix, ok := wellKnownGroups[strings.ToLower(name)]; ok {
		return prefix + BaseDN
	}
	return ""
}

// GroupDN returns the DN of the scenario's group name, or of the well-known
// group of that name, or "".
func (sc *Scenario) GroupDN(name string) string {
	for _, g := range sc.Groups {
		if strings.EqualFold(g.Name, name) {
			return "CN=" + g.Name + "," + sc.OUDN()
		}
	}
	return WellKnownGroupDN(name)
}

func (sc *Scenario) groupsLDIF(b *strings.Builder) {
	for _, g := range sc.Groups {
		entry(b, "CN="+g.Name+","+sc.OUDN(), [][2]string{
			{"objectClass", "group"},
			{"sAMAccountName", g.Name},
			{"groupType", "-2147483646"}, // global security group
		})
	}
}

// applyMemberships adds the scenario's users and groups to the groups they
// name, then sets the users' primaryGroupID. It writes with the DC's
// administrative access (sam.ldb), as adding to BUILTIN groups needs.
func (l *Lab) applyMemberships(ctx context.Context, sc *Scenario) error {
	add := func(member string, groups []string) error {
		for _, name := range groups {
			dn := sc.GroupDN(name)
			if dn == "" {
				return fmt.Errorf("scenario %s: %s is member of unknown group %q", sc.Name, member, name)
			}
			if err := l.AddMember(ctx, dn, member); err != nil {
				return fmt.Errorf("scenario %s: %w", sc.Name, err)
			}
		}
		return nil
	}
	for _, g := range sc.Groups {
		if err := add("CN="+g.Name+","+sc.OUDN(), g.MemberOf); err != nil {
			return err
		}
	}
	for _, u := range sc.Users {
		if err := add("CN="+u.Name+","+sc.OUDN(), u.MemberOf); err != nil {
			return err
		}
	}
	for _, u := range sc.Users {
		if u.PrimaryGroupID == 0 {
			continue
		}
		ldif := fmt.Sprintf("dn: CN=%s,%s\nchangetype: modify\nreplace: primaryGroupID\nprimaryGroupID: %d\n", u.Name, sc.OUDN(), u.PrimaryGroupID)
		if err := l.ldbApply(ctx, "ldbmodify", l.samLDB(), ldif); err != nil {
			return fmt.Errorf("scenario %s: primaryGroupID of %s: %w", sc.Name, u.Name, err)
		}
	}
	return nil
}

// AddMember adds member to the group groupDN through the normal write path:
// the group's uSNChanged moves, the member's does not.
func (l *Lab) AddMember(ctx context.Context, groupDN, member string) error {
	return l.modifyMember(ctx, "add", groupDN, member)
}

// RemoveMember removes member from the group groupDN.
func (l *Lab) RemoveMember(ctx context.Context, groupDN, member string) error {
	return l.modifyMember(ctx, "delete", groupDN, member)
}

func (l *Lab) modifyMember(ctx context.Context, op, groupDN, member string) error {
	ldif := fmt.Sprintf("dn: %s\nchangetype: modify\n%s: member\nmember: %s\n", groupDN, op, member)
	if err := l.ldbApply(ctx, "ldbmodify", l.samLDB(), ldif); err != nil {
		return fmt.Errorf("%s member %s of %s: %w", op, member, groupDN, err)
	}
	return nil
}
