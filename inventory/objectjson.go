package inventory

import (
	"bytes"
	"encoding/json"
	"time"
)

// objectJSON is Object's JSON form: its fields, in the order of the JSON
// contract (`inventory --format json`, report's hand-written encoder, the
// goldens), which is no longer Object's own (laid out for size).
// TestObjectJSONRoundTrip fails when Object gains a field this form does
// not carry.
type objectJSON struct {
	GUID                     GUID             `json:"guid,omitzero"`
	DN                       string           `json:"dn"`
	Domain                   string           `json:"domain"`
	SAMAccountName           string           `json:"sam_account_name"`
	Kind                     Kind             `json:"kind"`
	UserAccountControl       uint32           `json:"user_account_control"`
	DNSHostName              string           `json:"dns_host_name,omitempty"`
	Additional               *AdditionalNames `json:"additional_names,omitempty"`
	SupportedEncryptionTypes *uint32          `json:"supported_encryption_types,omitempty"`
	PwdLastSet               time.Time        `json:"pwd_last_set,omitempty"`
	AdminCount               int32            `json:"admin_count,omitempty"`
	AllowedToDelegateTo      []string         `json:"allowed_to_delegate_to,omitempty"`
	USNChanged               int64            `json:"usn_changed"`
	SPNs                     []string         `json:"spns"`
	PrimaryGroupID           int32            `json:"primary_group_id,omitempty"`
	Privilege                *Privilege       `json:"privileged_via,omitempty"`
	PrivilegeUnknown         bool             `json:"privilege_unknown,omitempty"`
	ObjectSID                string           `json:"object_sid,omitempty"`
	AllowedToActOnBehalf     []Principal      `json:"allowed_to_act_on_behalf,omitempty"`
	SPNChanged               time.Time        `json:"spn_changed,omitzero"`
	SPNChangedBy             string           `json:"spn_changed_by,omitempty"`
}

// MarshalJSON writes o as encoding/json wrote it when Object's fields were
// in the JSON's order. HTML escaping is left to the caller's encoder
// (encoding/json escapes a MarshalJSON's output as its own setting says).
func (o Object) MarshalJSON() ([]byte, error) {
	w := objectJSON{
		GUID: o.GUID, DN: o.DN, Domain: o.Domain, SAMAccountName: o.SAMAccountName, Kind: o.Kind,
		UserAccountControl: o.UserAccountControl, DNSHostName: o.DNSHostName, Additional: o.Additional,
		SupportedEncryptionTypes: o.SupportedEncryptionTypes, PwdLastSet: o.PwdLastSet, AdminCount: o.AdminCount,
		AllowedToDelegateTo: o.AllowedToDelegateTo(), USNChanged: o.USNChanged, SPNs: o.SPNs,
		PrimaryGroupID: o.PrimaryGroupID, Privilege: o.Privilege, PrivilegeUnknown: o.PrivilegeUnknown,
		ObjectSID: o.ObjectSID, AllowedToActOnBehalf: o.AllowedToActOnBehalf(), SPNChanged: o.SPNChanged,
		SPNChangedBy: o.SPNChangedBy,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&w); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (o *Object) UnmarshalJSON(b []byte) error {
	var w objectJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*o = Object{
		GUID: w.GUID, DN: w.DN, Domain: w.Domain, SAMAccountName: w.SAMAccountName, Kind: w.Kind,
		UserAccountControl: w.UserAccountControl, DNSHostName: w.DNSHostName, Additional: w.Additional,
		SupportedEncryptionTypes: w.SupportedEncryptionTypes, PwdLastSet: w.PwdLastSet, AdminCount: w.AdminCount,
		USNChanged: w.USNChanged, SPNs: w.SPNs, PrimaryGroupID: w.PrimaryGroupID, Privilege: w.Privilege,
		PrivilegeUnknown: w.PrivilegeUnknown, ObjectSID: w.ObjectSID, SPNChanged: w.SPNChanged,
		SPNChangedBy: w.SPNChangedBy,
	}
	o.setDelegation(Delegation{AllowedToDelegateTo: w.AllowedToDelegateTo, AllowedToActOnBehalf: w.AllowedToActOnBehalf})
	return nil
}
