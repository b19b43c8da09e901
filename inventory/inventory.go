// Package inventory holds the directory data model that ldapscan produces and
// audit consumes. It has no I/O and no dependency on an LDAP connection or
// Prometheus (go-ldap only parses DNs), so the audit rules can be tested (and
// an LDIF dump analysed) without a directory.
package inventory

import "time"

// Kind is the kind of directory object that holds SPNs.
type Kind string

const (
	KindUser     Kind = "user"
	KindComputer Kind = "computer"
	// KindMSA is a standalone managed service account (msDS-ManagedServiceAccount).
	KindMSA Kind = "msa"
	// KindGMSA is a group managed service account (msDS-GroupManagedServiceAccount).
	KindGMSA  Kind = "gmsa"
	KindOther Kind = "other"
)

// Kinds lists every kind, in a stable order, for pre-initialised metrics.
var Kinds = []Kind{KindUser, KindComputer, KindMSA, KindGMSA, KindOther}

// userAccountControl bits used by the audit (MS-ADTS 2.2.16).
const (
	UACAccountDisable             uint32 = 0x0002
	UACWorkstationTrustAccount    uint32 = 0x1000
	UACServerTrustAccount         uint32 = 0x2000 // domain controller
	UACDontExpirePassword         uint32 = 0x10000
	UACTrustedForDelegation       uint32 = 0x80000 // unconstrained delegation
	UACTrustedToAuthForDelegation uint32 = 0x1000000
	// UACUseDESKeyOnly restricts the account to DES keys.
	UACUseDESKeyOnly uint32 = 0x200000
)

// msDS-SupportedEncryptionTypes bits (MS-KILE 2.2.7).
const (
	EncDESCBCCRC      uint32 = 0x01
	EncDESCBCMD5      uint32 = 0x02
	EncRC4HMAC        uint32 = 0x04
	EncAES128         uint32 = 0x08
	EncAES256         uint32 = 0x10
	EncAESSessionKeys uint32 = 0x20
)

// Object is one directory object that holds at least one SPN, with the
// attributes the audit needs, as read from a domain controller or an LDIF dump.
//
// Its fields are laid out for size, not in the order of its JSON: the
// daemon holds one per object of the forest (issue 9: 312 bytes each,
// now 256). objectJSON (objectjson.go) fixes the JSON's keys and their
// order; the tags here name each field's key.
type Object struct {
	// GUID is the objectGUID; it survives renames and deletion, so
	// incremental scans key objects by it. Zero when not read.
	GUID           GUID   `json:"guid,omitzero"`
	DN             string `json:"dn"`
	Domain         string `json:"domain"` // DNS name of the object's domain, lower case
	SAMAccountName string `json:"sam_account_name"`
	Kind           Kind   `json:"kind"`
	// UserAccountControl is 0 when the attribute is absent.
	UserAccountControl uint32 `json:"user_account_control"`
	// AdminCount, PrimaryGroupID and PrivilegeUnknown (described below)
	// share UserAccountControl's 8-byte word.
	AdminCount int32 `json:"admin_count,omitempty"`
	// PrimaryGroupID is the RID of the account's primary group (0 when not
	// read): a membership that no group's member attribute shows.
	PrimaryGroupID int32 `json:"primary_group_id,omitempty"`
	// PrivilegeUnknown says the source could not tell whether the account
	// is privileged through group membership (an LDIF export without the
	// group objects, a domain read through the Global Catalog).
	PrivilegeUnknown bool   `json:"privilege_unknown,omitempty"`
	DNSHostName      string `json:"dns_host_name,omitempty"`
	// Additional holds a computer's other names, nil when it has none (a
	// pointer: almost no object has them, and the inventory of a large forest
	// stays small).
	Additional *AdditionalNames `json:"additional_names,omitempty"`
	// SupportedEncryptionTypes is nil when msDS-SupportedEncryptionTypes is not set
	// (the KDC then assumes RC4 for user accounts).
	SupportedEncryptionTypes *uint32 `json:"supported_encryption_types,omitempty"`
	// PwdLastSet is the zero time when the password was never set.
	PwdLastSet time.Time `json:"pwd_last_set,omitempty"`
	// Delegation holds the account's delegation settings, nil when it has
	// none (a pointer, as Additional: few accounts delegate). Read them
	// with AllowedToDelegateTo and AllowedToActOnBehalf; its fields are
	// written in the JSON as the object's own.
	Delegation *Delegation `json:"-"`
	USNChanged int64       `json:"usn_changed"`
	// SPNs are the servicePrincipalName values exactly as stored.
	SPNs []string `json:"spns"`

	// Privilege says how the account is privileged through (transitive)
	// group membership in a protected group; nil when it is not, or when
	// that is unknown (PrivilegeUnknown).
	Privilege *Privilege `json:"privileged_via,omitempty"`
	// ObjectSID is the objectSid in string form (S-1-5-21-...); "" when not read.
	ObjectSID string `json:"object_sid,omitempty"`

	// SPNChanged is when servicePrincipalName last changed, on the DC where
	// the change was made (AD's replication metadata of the attribute); the
	// zero time when the metadata was not read.
	SPNChanged time.Time `json:"spn_changed,omitzero"`
	// SPNChangedBy names the DC that made that change as the metadata does:
	// its invocation ID (replPropertyMetaData) or its NTDS Settings DN
	// (msDS-ReplAttributeMetaData). Directory.DCName turns it into a name.
	SPNChangedBy string `json:"spn_changed_by,omitempty"`
}

// Delegation is what an account may delegate to, or who may delegate to
// it. An Object's Delegation is shared by its copies: replace it (see
// SetAllowedToDelegateTo) rather than modify it.
type Delegation struct {
	// AllowedToDelegateTo are the SPNs of msDS-AllowedToDelegateTo:
	// constrained delegation from this account.
	AllowedToDelegateTo []string `json:"allowed_to_delegate_to,omitempty"`
	// AllowedToActOnBehalf are the principals the DACL of
	// msDS-AllowedToActOnBehalfOfOtherIdentity allows: resource-based
	// constrained delegation to this account's services. A missing or NULL
	// DACL allows everyone, recorded as Everyone (S-1-1-0).
	AllowedToActOnBehalf []Principal `json:"allowed_to_act_on_behalf,omitempty"`
}

// AllowedToDelegateTo returns msDS-AllowedToDelegateTo (nil when unset).
func (o *Object) AllowedToDelegateTo() []string {
	if o.Delegation == nil {
		return nil
	}
	return o.Delegation.AllowedToDelegateTo
}

// AllowedToActOnBehalf returns the principals
// msDS-AllowedToActOnBehalfOfOtherIdentity allows (nil when unset).
func (o *Object) AllowedToActOnBehalf() []Principal {
	if o.Delegation == nil {
		return nil
	}
	return o.Delegation.AllowedToActOnBehalf
}

// SetAllowedToDelegateTo sets msDS-AllowedToDelegateTo in a new
// Delegation (o's copies keep theirs).
func (o *Object) SetAllowedToDelegateTo(spns []string) {
	d := o.delegationCopy()
	d.AllowedToDelegateTo = spns
	o.setDelegation(d)
}

// SetAllowedToActOnBehalf sets the principals
// msDS-AllowedToActOnBehalfOfOtherIdentity allows in a new Delegation.
func (o *Object) SetAllowedToActOnBehalf(principals []Principal) {
	d := o.delegationCopy()
	d.AllowedToActOnBehalf = principals
	o.setDelegation(d)
}

func (o *Object) delegationCopy() Delegation {
	if o.Delegation == nil {
		return Delegation{}
	}
	return *o.Delegation
}

// setDelegation sets d, or nil when both its lists are nil.
func (o *Object) setDelegation(d Delegation) {
	if d.AllowedToDelegateTo == nil && d.AllowedToActOnBehalf == nil {
		o.Delegation = nil
		return
	}
	o.Delegation = &d
}

// Principal is a security principal named by a SID in a security descriptor,
// with what the directory said about it ("" and zero values when the SID
// could not be resolved: deleted, in another forest, or unreadable).
type Principal struct {
	SID            string `json:"sid"`
	DN             string `json:"dn,omitempty"`
	Domain         string `json:"domain,omitempty"`
	SAMAccountName string `json:"sam_account_name,omitempty"`
	// WellKnown is the name of a well-known SID (Everyone, Authenticated
	// Users, Domain Users...).
	WellKnown string `json:"well_known,omitempty"`
	Kind      Kind   `json:"kind,omitempty"`
	Group     bool   `json:"group,omitempty"`
	// CreatorSID is mS-DS-CreatorSID: set when a non-admin user created the
	// computer account through ms-DS-MachineAccountQuota, and so controls it.
	CreatorSID string `json:"creator_sid,omitempty"`
	// Creator is the account CreatorSID names, when the scan found it.
	Creator *Principal `json:"creator,omitempty"`
}

// Resolved reports whether the directory named the principal.
func (p *Principal) Resolved() bool { return p.DN != "" || p.WellKnown != "" }

// AdditionalNames are a computer's msDS-AdditionalDnsHostName and
// msDS-AdditionalSamAccountName values: AD takes its own SPNs for them as for
// its dNSHostName and sAMAccountName (MS-ADTS 3.1.1.5.3.1.1.4).
type AdditionalNames struct {
	DNSHostNames    []string `json:"dns_host_names,omitempty"`
	SAMAccountNames []string `json:"sam_account_names,omitempty"`
}

// AdditionalDNSHostNames returns msDS-AdditionalDnsHostName (nil when unset).
func (o *Object) AdditionalDNSHostNames() []string {
	if o.Additional == nil {
		return nil
	}
	return o.Additional.DNSHostNames
}

// AdditionalSAMAccountNames returns msDS-AdditionalSamAccountName (nil when
// unset).
func (o *Object) AdditionalSAMAccountNames() []string {
	if o.Additional == nil {
		return nil
	}
	return o.Additional.SAMAccountNames
}

// Enabled reports whether the account is not disabled.
func (o *Object) Enabled() bool { return o.UserAccountControl&UACAccountDisable == 0 }

// IsDC reports whether the object is a domain controller's computer account.
func (o *Object) IsDC() bool { return o.UserAccountControl&UACServerTrustAccount != 0 }

// Directory is the forest-wide configuration the audit rules need.
type Directory struct {
	// ForestDNS is the DNS name of the forest root domain, lower case.
	ForestDNS string `json:"forest"`
	// Domains are the DNS names of the forest's domains, lower case.
	Domains []string `json:"domains"`
	// NetBIOSDomains maps a domain's DNS name (lower case) to its NetBIOS name
	// (e.g. "corp.example.test" -> "CORP"), for commands such as setspn CORP\svc.
	NetBIOSDomains map[string]string `json:"netbios_domains,omitempty"`
	// SPNMappings are the raw sPNMappings values of
	// CN=Directory Service,CN=Windows NT,CN=Services,CN=Configuration,...,
	// e.g. "host=alerter,http,...".
	SPNMappings []string `json:"spn_mappings"`
	// DSHeuristics is the raw dSHeuristics value ("" when unset).
	DSHeuristics string `json:"ds_heuristics"`
	// DNSNames are the fully qualified, lower-case owner names of the records in
	// the forest's AD-integrated DNS zones (dnsNode objects).
	DNSNames []string `json:"dns_names,omitempty"`
	// AESThresholds maps a domain's DNS name (lower case) to the whenCreated
	// of its Read-only Domain Controllers group (objectSid domain SID + "-521"),
	// created when the domain's first Windows Server 2008 domain controller
	// came: a password set before it has no AES keys. A domain is absent when
	// the group could not be read (its threshold is unknown).
	AESThresholds map[string]time.Time `json:"aes_thresholds,omitempty"`
	// DCs maps a DC's invocation ID (lower case) and its NTDS Settings DN
	// (lower case) to the DC's DNS host name, for naming the DC that made
	// a change (Object.SPNChangedBy).
	DCs map[string]string `json:"dcs,omitempty"`
}

// Snapshot is one complete, consistent inventory: what a successful scan read.
// It is never modified after it is built.
type Snapshot struct {
	Directory Directory `json:"directory"`
	Objects   []*Object `json:"objects"`
	// Server is the domain controller the scan read from.
	Server   string        `json:"server"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration"`
	// NamingContexts are the DNs of the naming contexts the scan read (each
	// domain of the forest, or the configured base DN), so that one holding
	// no object counts 0 in ObjectsByNamingContext; empty for LDIF exports.
	NamingContexts []string `json:"naming_contexts,omitempty"`

	// change is how a poll made the snapshot from the one before it, nil
	// for a full scan (SetChange, ChangeFrom).
	change *Change
}

// SPNCount returns the number of SPN values in the snapshot.
func (s *Snapshot) SPNCount() int {
	n := 0
	for i := range s.Objects {
		n += len(s.Objects[i].SPNs)
	}
	return n
}

// Pointers returns a pointer to each of objs, in order. A reader builds its
// objects in one array, where they lie together in memory in the order the
// audit walks them, and the snapshot lists them through pointers, which a
// poll copies instead of the objects (issue 9).
func Pointers(objs []Object) []*Object {
	out := make([]*Object, len(objs))
	for i := range objs {
		out[i] = &objs[i]
	}
	return out
}
