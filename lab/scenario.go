package lab

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf16"

	"go.yaml.in/yaml/v3"
)

// Scenario declares the accounts, SPNs and DNS records of one lab
// organisational unit. Applying it replaces whatever the OU held before.
type Scenario struct {
	Name string `yaml:"name"`
	// OU is the organisational unit (directly below the domain) that holds
	// the scenario's objects.
	OU        string     `yaml:"ou"`
	DNS       []DNSName  `yaml:"dns"`
	Computers []Computer `yaml:"computers"`
	Users     []User     `yaml:"users"`
	// Collisions are SPNs written beneath Samba's uniqueness check, as a
	// replication collision between two DCs leaves them: duplicates that
	// neither Samba nor Windows would accept over LDAP.
	Collisions []Collision `yaml:"collisions"`
	// Groups are security groups created in the OU (see groups.go).
	Groups []Group `yaml:"groups,omitempty"`
}

// DNSName is a host record in the domain's AD-integrated DNS zone.
type DNSName struct {
	Name string `yaml:"name"`
	IP   string `yaml:"ip"`
}

// Computer is a computer account; its sAMAccountName is Name + "$".
type Computer struct {
	Name string   `yaml:"name"`
	SPNs []string `yaml:"spns"`
	// DNSHostName defaults to Name.<domain>.
	DNSHostName             string  `yaml:"dns_host_name"`
	EncryptionTypes         *uint32 `yaml:"encryption_types"`
	UnconstrainedDelegation bool    `yaml:"unconstrained_delegation"`
	DomainController        bool    `yaml:"domain_controller"`
	Disabled                bool    `yaml:"disabled"`
	Delegation              `yaml:",inline"`
	// AllowedToAct names (sAMAccountNames of this scenario) the principals
	// allowed resource-based constrained delegation to this computer
	// (msDS-AllowedToActOnBehalfOfOtherIdentity); see lab/delegation.go.
	AllowedToAct []string `yaml:"allowed_to_act"`
	// CreatedBy is the sAMAccountName of the scenario user recorded as the
	// computer's creator (mS-DS-CreatorSID), as when an ordinary user
	// creates it through ms-DS-MachineAccountQuota.
	CreatedBy string `yaml:"created_by"`
}

// User is a user (service) account.
type User struct {
	Name            string   `yaml:"name"`
	SPNs            []string `yaml:"spns"`
	EncryptionTypes *uint32  `yaml:"encryption_types"`
	AdminCount      int      `yaml:"admin_count"`
	Disabled        bool     `yaml:"disabled"`
	Description     string   `yaml:"description"`
	// MemberOf names the groups the user is added to: the scenario's
	// groups, or well-known ones ("Domain Admins", "Administrators"; see
	// WellKnownGroupDN), which adds members outside the OU.
	MemberOf []string `yaml:"member_of,omitempty"`
	// PrimaryGroupID, when set, becomes the user's primaryGroupID after its
	// memberships (Samba, like AD, wants the user in the group first).
	PrimaryGroupID int `yaml:"primary_group_id,omitempty"`
	Delegation     `yaml:",inline"`
	// PwdLastSet, when set, is written as the account's pwdLastSet beneath
	// Samba's checks (which refuse it over LDAP), as a password set years ago
	// leaves it; the zero time writes 0 (never set).
	PwdLastSet *time.Time `yaml:"pwd_last_set,omitempty"`
}

// Collision is one SPN value added to Account (a sAMAccountName) beneath the
// uniqueness check.
type Collision struct {
	Account string `yaml:"account"`
	SPN     string `yaml:"spn"`
}

// LoadScenario reads a scenario file.
func LoadScenario(path string) (*Scenario, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var sc Scenario
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&sc); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", path, err)
	}
	if sc.OU == "" {
		return nil, fmt.Errorf("scenario %s: ou is required", path)
	}
	return &sc, nil
}

// Fingerprint identifies the scenario's content; Apply stores it on the OU so
// that Applied can tell whether the directory holds this exact scenario.
func (sc *Scenario) Fingerprint() string {
	raw, _ := yaml.Marshal(sc)
	sum := sha256.Sum256(raw)
	return "spnaudit lab scenario " + sc.Name + " " + hex.EncodeToString(sum[:8])
}

// Applied reports whether the directory holds this scenario, unchanged since
// Apply wrote it (the OU's description carries the fingerprint).
func (l *Lab) Applied(ctx context.Context, sc *Scenario) bool {
	out, err := l.run(ctx, "ldbsearch", "-H", l.samLDB(), "-b", sc.OUDN(), "-s", "base", "description")
	return err == nil && strings.Contains(out, sc.Fingerprint())
}

// OUDN is the distinguished name of the scenario's organisational unit.
func (sc *Scenario) OUDN() string { return "OU=" + sc.OU + "," + BaseDN }

// AccountDN returns the DN of the scenario account with the given
// sAMAccountName, or "" when the scenario has none.
func (sc *Scenario) AccountDN(sam string) string {
	for _, c := range sc.Computers {
		if strings.EqualFold(c.Name+"$", sam) || strings.EqualFold(c.Name, sam) {
			return "CN=" + strings.ToUpper(c.Name) + "," + sc.OUDN()
		}
	}
	for _, u := range sc.Users {
		if strings.EqualFold(u.Name, sam) {
			return "CN=" + u.Name + "," + sc.OUDN()
		}
	}
	return ""
}

// Apply replaces the scenario's OU and DNS records with the declared ones.
// It is idempotent: applying the same scenario twice gives the same directory
// (with new uSNChanged values).
func (l *Lab) Apply(ctx context.Context, sc *Scenario) error {
	if err := l.Reset(ctx, sc); err != nil {
		return err
	}
	if err := l.ldbApply(ctx, "ldbadd", l.samLDB(), sc.ldif()); err != nil {
		return fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	if err := l.applyMemberships(ctx, sc); err != nil {
		return err
	}
	for _, c := range sc.Collisions {
		dn := sc.AccountDN(c.Account)
		if dn == "" {
			return fmt.Errorf("scenario %s: collision names unknown account %q", sc.Name, c.Account)
		}
		if err := l.InjectCollision(ctx, dn, c.SPN); err != nil {
			return err
		}
	}
	for _, u := range sc.Users {
		if u.PwdLastSet != nil {
			if err := l.SetPwdLastSet(ctx, sc.AccountDN(u.Name), *u.PwdLastSet); err != nil {
				return err
			}
		}
	}
	return l.applyDelegation(ctx, sc)
}

// Reset deletes the scenario's OU and DNS records, if present.
func (l *Lab) Reset(ctx context.Context, sc *Scenario) error {
	targets := []string{sc.OUDN()}
	for _, d := range sc.DNS {
		targets = append(targets, dnsNodeDN(d.Name))
	}
	for _, dn := range targets {
		out, err := l.run(ctx, "ldbdel", "-r", "-H", l.samLDB(), dn)
		if err != nil && !strings.Contains(out, "No such object") {
			return fmt.Errorf("ldbdel %s: %w: %s", dn, err, tail([]byte(out)))
		}
	}
	return nil
}

func (sc *Scenario) ldif() string {
	var b strings.Builder
	entry(&b, sc.OUDN(), [][2]string{{"objectClass", "organizationalUnit"}, {"description", sc.Fingerprint()}})
	for _, d := range sc.DNS {
		entry(&b, dnsNodeDN(d.Name), [][2]string{
			{"objectClass", "dnsNode"},
			{"dnsRecord:", base64.StdEncoding.EncodeToString(dnsARecord(d.IP))},
		})
	}
	for _, c := range sc.Computers {
		uac := uint32(0x1000) // WORKSTATION_TRUST_ACCOUNT
		if c.DomainController {
			uac = 0x2000 | 0x80000 // SERVER_TRUST_ACCOUNT | TRUSTED_FOR_DELEGATION
		}
		if c.UnconstrainedDelegation {
			uac |= 0x80000
		}
		if c.Disabled {
			uac |= 0x2
		}
		uac |= c.Delegation.uacBits()
		host := c.DNSHostName
		if host == "" {
			host = strings.ToLower(c.Name) + "." + DNSDomain
		}
		attrs := [][2]string{
			{"objectClass", "computer"},
			{"sAMAccountName", strings.ToUpper(c.Name) + "$"},
			{"userAccountControl", fmt.Sprint(uac)},
			{"dNSHostName", host},
			{"unicodePwd:", encodePassword(randomPassword())},
		}
		attrs = appendCommon(attrs, c.SPNs, c.EncryptionTypes, 0)
		attrs = c.Delegation.appendAttrs(attrs)
		entry(&b, "CN="+strings.ToUpper(c.Name)+","+sc.OUDN(), attrs)
	}
	for _, u := range sc.Users {
		uac := uint32(0x200 | 0x10000) // NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD
		if u.Disabled {
			uac |= 0x2
		}
		uac |= u.Delegation.uacBits()
		attrs := [][2]string{
			{"objectClass", "user"},
			{"sAMAccountName", u.Name},
			{"userAccountControl", fmt.Sprint(uac)},
			{"unicodePwd:", encodePassword(randomPassword())},
		}
		if u.Description != "" {
			attrs = append(attrs, [2]string{"description", u.Description})
		}
		attrs = appendCommon(attrs, u.SPNs, u.EncryptionTypes, u.AdminCount)
		attrs = u.Delegation.appendAttrs(attrs)
		entry(&b, "CN="+u.Name+","+sc.OUDN(), attrs)
	}
	sc.groupsLDIF(&b)
	return b.String()
}

func appendCommon(attrs [][2]string, spns []string, enc *uint32, adminCount int) [][2]string {
	for _, s := range spns {
		attrs = append(attrs, [2]string{"servicePrincipalName", s})
	}
	if enc != nil {
		attrs = append(attrs, [2]string{"msDS-SupportedEncryptionTypes", fmt.Sprint(*enc)})
	}
	if adminCount != 0 {
		attrs = append(attrs, [2]string{"adminCount", fmt.Sprint(adminCount)})
	}
	return attrs
}

// entry writes one LDIF record. An attribute name ending in ":" carries a
// base64 value already.
func entry(b *strings.Builder, dn string, attrs [][2]string) {
	fmt.Fprintf(b, "dn: %s\n", dn)
	for _, a := range attrs {
		fmt.Fprintf(b, "%s: %s\n", a[0], a[1])
	}
	b.WriteString("\n")
}

// encodePassword is the unicodePwd form: the quoted password in UTF-16LE.
func encodePassword(p string) string {
	u := utf16.Encode([]rune(`"` + p + `"`))
	raw := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(raw[2*i:], c)
	}
	return base64.StdEncoding.EncodeToString(raw)
}

func dnsNodeDN(name string) string {
	return "DC=" + name + ",DC=" + DNSDomain + ",CN=MicrosoftDNS,DC=DomainDnsZones," + BaseDN
}

// dnsARecord encodes a DNS_RPC_RECORD of type A (MS-DNSP 2.3.2.2).
func dnsARecord(ip string) []byte {
	addr := net.ParseIP(ip).To4()
	if addr == nil {
		addr = net.IPv4(127, 0, 0, 1).To4()
	}
	rec := make([]byte, 24+4)
	binary.LittleEndian.PutUint16(rec[0:], 4) // DataLength
	binary.LittleEndian.PutUint16(rec[2:], 1) // Type A
	rec[4] = 5                                // Version
	rec[5] = 0xF0                             // Rank: zone
	binary.LittleEndian.PutUint32(rec[8:], 1) // Serial
	binary.BigEndian.PutUint32(rec[12:], 900) // TtlSeconds
	copy(rec[24:], addr)
	return rec
}

// InjectCollision adds spn to the object dn directly in the domain partition
// file, beneath the SPN uniqueness check, then touches the object through the
// normal path so that uSNChanged moves as a replicated write would make it.
func (l *Lab) InjectCollision(ctx context.Context, dn, spn string) error {
	ldif := fmt.Sprintf("dn: %s\nchangetype: modify\nadd: servicePrincipalName\nservicePrincipalName: %s\n", dn, spn)
	if err := l.ldbApply(ctx, "ldbmodify", "tdb://"+l.partitionLDB(), ldif); err != nil {
		return fmt.Errorf("inject %s on %s: %w", spn, dn, err)
	}
	if err := l.stampSPNChange(ctx, dn); err != nil { // stamp.go
		return err
	}
	return l.Touch(ctx, dn)
}

// RemoveCollision removes a value that InjectCollision wrote, the same way:
// Samba runs its uniqueness check on the values a modify deletes too, so it
// refuses to delete one copy of a duplicate through the normal path (Windows
// takes setspn -D there). The touch bumps uSNChanged.
func (l *Lab) RemoveCollision(ctx context.Context, dn, spn string) error {
	ldif := fmt.Sprintf("dn: %s\nchangetype: modify\ndelete: servicePrincipalName\nservicePrincipalName: %s\n", dn, spn)
	if err := l.ldbApply(ctx, "ldbmodify", "tdb://"+l.partitionLDB(), ldif); err != nil {
		return fmt.Errorf("remove %s from %s: %w", spn, dn, err)
	}
	if err := l.stampSPNChange(ctx, dn); err != nil { // stamp.go
		return err
	}
	return l.Touch(ctx, dn)
}

// AddSPN adds spn to dn through Samba's normal write path (uniqueness checked).
func (l *Lab) AddSPN(ctx context.Context, dn, spn string) error {
	return l.modifySPN(ctx, "add", dn, spn)
}

// RemoveSPN removes one value of spn from dn through the normal write path.
// For a value injected beneath the uniqueness check that is the way a real
// admin removes it too (setspn -D).
func (l *Lab) RemoveSPN(ctx context.Context, dn, spn string) error {
	return l.modifySPN(ctx, "delete", dn, spn)
}

func (l *Lab) modifySPN(ctx context.Context, op, dn, spn string) error {
	value := "servicePrincipalName: " + spn
	if !ldifSafe(spn) {
		// RFC 2849: a value with non-ASCII or control bytes (look-alike
		// SPNs) travels base64-encoded.
		value = "servicePrincipalName:: " + base64.StdEncoding.EncodeToString([]byte(spn))
	}
	ldif := fmt.Sprintf("dn: %s\nchangetype: modify\n%s: servicePrincipalName\n%s\n", dn, op, value)
	if err := l.ldbApply(ctx, "ldbmodify", l.samLDB(), ldif); err != nil {
		return fmt.Errorf("%s %s on %s: %w", op, spn, dn, err)
	}
	return nil
}

// ldifSafe reports whether v may be written as a plain LDIF value (RFC 2849
// SAFE-STRING): printable ASCII, not starting with a space, ':' or '<'.
func ldifSafe(v string) bool {
	if v == "" || v[0] == ' ' || v[0] == ':' || v[0] == '<' {
		return v == ""
	}
	for i := 0; i < len(v); i++ {
		if v[i] < ' ' || v[i] > '~' {
			return false
		}
	}
	return true
}

// Touch rewrites the object's description through the normal write path,
// which bumps its uSNChanged. The value changes every time: Samba does not
// bump uSNChanged for a write that changes nothing.
func (l *Lab) Touch(ctx context.Context, dn string) error {
	ldif := fmt.Sprintf("dn: %s\nchangetype: modify\nreplace: description\ndescription: touched by spnaudit lab at %s\n",
		dn, time.Now().UTC().Format(time.RFC3339Nano))
	return l.ldbApply(ctx, "ldbmodify", l.samLDB(), ldif)
}

// FarmScenarioPath is the IIS farm scenario shipped in lab/scenarios, found
// relative to this source file's module so that tests and labctl agree.
func FarmScenarioPath() string { return filepath.Join(moduleDir(), "lab", "scenarios", "farm.yaml") }

// moduleDir is the repository root: the nearest parent of the working
// directory that holds go.mod (tests run in their package directory).
func moduleDir() string {
	dir, err := os.Getwd()
	if err != nil {
		return "."
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// SetPwdLastSet writes pwdLastSet directly in the domain partition file
// (Samba accepts only 0 and -1 over LDAP, as AD does), then touches the
// object through the normal path so that uSNChanged moves. The zero time
// writes 0.
func (l *Lab) SetPwdLastSet(ctx context.Context, dn string, t time.Time) error {
	ft := int64(0)
	if !t.IsZero() {
		const unixEpoch = 116444736000000000 // 1970-01-01 as a FILETIME
		ft = unixEpoch + t.UnixNano()/100
	}
	ldif := fmt.Sprintf("dn: %s\nchangetype: modify\nreplace: pwdLastSet\npwdLastSet: %d\n", dn, ft)
	if err := l.ldbApply(ctx, "ldbmodify", "tdb://"+l.partitionLDB(), ldif); err != nil {
		return fmt.Errorf("set pwdLastSet of %s: %w", dn, err)
	}
	return l.Touch(ctx, dn)
}
