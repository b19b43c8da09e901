package report

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/spnaudit/spnaudit/inventory"
)

// appendInventoryObject appends o as json.MarshalIndent with an indent of
// two spaces writes it (HTML escaping on, as the inventory always had), the
// object at nesting depth (its fields at depth+1), except that nil SPNs are
// written [] as the inventory has always written them. It is hand-written,
// field by field without reflection: encoding/json's reflection and a second
// pass to indent its output were most of the CPU of `inventory --format
// json` on a large forest (issue 9). TestInventoryEncoderFollowsEveryField
// fails when inventory.Object, or a type inside it, gains a field this
// function does not write as encoding/json does; FuzzInventoryJSON holds its
// strings to encoding/json's.
func appendInventoryObject(dst []byte, o *inventory.Object, depth int) ([]byte, error) {
	var err error
	f := fields{dst: dst, depth: depth}
	f.open()
	if !o.GUID.IsZero() {
		f.key("guid")
		f.dst = append(f.dst, '"')
		f.dst, _ = o.GUID.AppendText(f.dst) // hex digits and dashes: nothing to escape
		f.dst = append(f.dst, '"')
	}
	f.str("dn", o.DN)
	f.str("domain", o.Domain)
	f.str("sam_account_name", o.SAMAccountName)
	f.str("kind", string(o.Kind))
	f.uint("user_account_control", uint64(o.UserAccountControl))
	if o.DNSHostName != "" {
		f.str("dns_host_name", o.DNSHostName)
	}
	if a := o.Additional; a != nil {
		f.key("additional_names")
		g := fields{dst: f.dst, depth: f.depth + 1}
		g.open()
		if len(a.DNSHostNames) > 0 {
			g.strs("dns_host_names", a.DNSHostNames)
		}
		if len(a.SAMAccountNames) > 0 {
			g.strs("sam_account_names", a.SAMAccountNames)
		}
		f.dst = g.close()
	}
	if o.SupportedEncryptionTypes != nil {
		f.uint("supported_encryption_types", uint64(*o.SupportedEncryptionTypes))
	}
	// omitempty never omits a struct: the zero time is written.
	f.key("pwd_last_set")
	if f.dst, err = appendJSONTime(f.dst, o.PwdLastSet); err != nil {
		return dst, err
	}
	if o.AdminCount != 0 {
		f.int("admin_count", int64(o.AdminCount))
	}
	if to := o.AllowedToDelegateTo(); len(to) > 0 {
		f.strs("allowed_to_delegate_to", to)
	}
	f.int("usn_changed", o.USNChanged)
	if o.SPNs == nil {
		f.key("spns")
		f.dst = append(f.dst, "[]"...)
	} else {
		f.strs("spns", o.SPNs)
	}
	if o.PrimaryGroupID != 0 {
		f.int("primary_group_id", int64(o.PrimaryGroupID))
	}
	if p := o.Privilege; p != nil {
		f.key("privileged_via")
		g := fields{dst: f.dst, depth: f.depth + 1}
		g.open()
		g.str("group", p.Group)
		g.str("sid", p.SID)
		g.strs("chain", p.Chain)
		if p.PrimaryGroup {
			g.bool("primary_group", true)
		}
		f.dst = g.close()
	}
	if o.PrivilegeUnknown {
		f.bool("privilege_unknown", true)
	}
	if o.ObjectSID != "" {
		f.str("object_sid", o.ObjectSID)
	}
	if rbcd := o.AllowedToActOnBehalf(); len(rbcd) > 0 {
		f.key("allowed_to_act_on_behalf")
		f.dst = append(f.dst, '[')
		for i := range rbcd {
			if i > 0 {
				f.dst = append(f.dst, ',')
			}
			f.dst = appendNewline(f.dst, f.depth+2)
			f.dst = appendPrincipal(f.dst, &rbcd[i], f.depth+2)
		}
		f.dst = appendNewline(f.dst, f.depth+1)
		f.dst = append(f.dst, ']')
	}
	if !o.SPNChanged.IsZero() { // omitzero: time.Time's IsZero
		f.key("spn_changed")
		if f.dst, err = appendJSONTime(f.dst, o.SPNChanged); err != nil {
			return dst, err
		}
	}
	if o.SPNChangedBy != "" {
		f.str("spn_changed_by", o.SPNChangedBy)
	}
	return f.close(), nil
}

// appendPrincipal appends p as encoding/json writes an inventory.Principal
// at nesting depth.
func appendPrincipal(dst []byte, p *inventory.Principal, depth int) []byte {
	f := fields{dst: dst, depth: depth}
	f.open()
	f.str("sid", p.SID)
	if p.DN != "" {
		f.str("dn", p.DN)
	}
	if p.Domain != "" {
		f.str("domain", p.Domain)
	}
	if p.SAMAccountName != "" {
		f.str("sam_account_name", p.SAMAccountName)
	}
	if p.WellKnown != "" {
		f.str("well_known", p.WellKnown)
	}
	if p.Kind != "" {
		f.str("kind", string(p.Kind))
	}
	if p.Group {
		f.bool("group", true)
	}
	if p.CreatorSID != "" {
		f.str("creator_sid", p.CreatorSID)
	}
	if p.Creator != nil {
		f.key("creator")
		f.dst = appendPrincipal(f.dst, p.Creator, f.depth+1)
	}
	return f.close()
}

// fields writes the members of one JSON object, indented: open, then each
// key and value in order, then close.
type fields struct {
	dst   []byte
	depth int // the object's; its members are at depth+1
	n     int // members written
}

func (f *fields) open() { f.dst = append(f.dst, '{') }

// key starts a member: the comma after the previous one, a new line, the
// quoted name (plain ASCII, written as is) and the colon.
func (f *fields) key(name string) {
	if f.n > 0 {
		f.dst = append(f.dst, ',')
	}
	f.n++
	f.dst = appendNewline(f.dst, f.depth+1)
	f.dst = append(f.dst, '"')
	f.dst = append(f.dst, name...)
	f.dst = append(f.dst, '"', ':', ' ')
}

func (f *fields) str(name, v string) {
	f.key(name)
	f.dst = appendJSONStringHTML(f.dst, v)
}

func (f *fields) uint(name string, v uint64) {
	f.key(name)
	f.dst = strconv.AppendUint(f.dst, v, 10)
}

func (f *fields) int(name string, v int64) {
	f.key(name)
	f.dst = strconv.AppendInt(f.dst, v, 10)
}

func (f *fields) bool(name string, v bool) {
	f.key(name)
	f.dst = strconv.AppendBool(f.dst, v)
}

// strs writes a []string member: null when nil, [] when empty, else one
// element a line.
func (f *fields) strs(name string, v []string) {
	f.key(name)
	switch {
	case v == nil:
		f.dst = append(f.dst, "null"...)
		return
	case len(v) == 0:
		f.dst = append(f.dst, "[]"...)
		return
	}
	f.dst = append(f.dst, '[')
	for i, s := range v {
		if i > 0 {
			f.dst = append(f.dst, ',')
		}
		f.dst = appendNewline(f.dst, f.depth+2)
		f.dst = appendJSONStringHTML(f.dst, s)
	}
	f.dst = appendNewline(f.dst, f.depth+1)
	f.dst = append(f.dst, ']')
}

// close ends the object: {} when it has no member, as json.Indent writes it.
func (f *fields) close() []byte {
	if f.n > 0 {
		f.dst = appendNewline(f.dst, f.depth)
	}
	return append(f.dst, '}')
}

// appendJSONTime appends t as time.Time's MarshalJSON writes it (RFC 3339
// with nanoseconds, quoted). The times it refuses (a year outside 0-9999, a
// zone offset of 24 hours or more) go through encoding/json for its error.
func appendJSONTime(dst []byte, t time.Time) ([]byte, error) {
	_, offset := t.Zone()
	if y := t.Year(); y < 0 || y > 9999 || offset <= -24*60*60 || offset >= 24*60*60 {
		b, err := json.Marshal(t)
		if err != nil {
			return dst, err
		}
		return append(dst, b...), nil
	}
	dst = append(dst, '"')
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"'), nil
}
