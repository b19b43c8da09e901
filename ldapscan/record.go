package ldapscan

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// record is one directory entry as the LDAP and the LDIF paths both see it:
// attribute names folded to lower case and stripped of options, values merged
// across AD range retrieval (";range=0-1499", ";range=1500-*").
type record struct {
	dn string
	// known holds the values of the attributes the code reads
	// (ldifAttributes), by their index in knownAttrs: one slice each, found
	// without hashing on the LDIF path (issue 9); attrs the others, by
	// lower-case name.
	known [][][]byte
	used  []int // indexes of known that hold values, for reset
	// classes memoises which of objectClassNames the objectClass values
	// name (classesSet: computed), for has and kindOf (issue 9).
	classes    uint16
	classesSet bool
	// classKey is the objectClass values classKeyBits was computed from,
	// each after its length in a byte: the entries of an export repeat
	// the same classes, compared here byte for byte (issue 9).
	classKey     []byte
	classKeyBits uint16
	attrs        map[string][][]byte
	// ranges tracks attributes whose values arrive in ranges; an attribute
	// stays here until its "-*" terminator has been merged.
	ranges map[string]*rangeState
}

// valueRange is a parsed ";range=low-high" option; last means high is "*".
type valueRange struct {
	low, high int
	last      bool
}

type rangeState struct {
	desc    string // attribute name as the server spelt it, for follow-up requests
	current valueRange
}

// next is the low bound of the range to request after the current one.
func (s *rangeState) next() int { return s.current.high + 1 }

func newRecord(dn string) *record {
	return &record{dn: dn, known: make([][][]byte, len(knownAttrs))}
}

// knownAttrs are ldifAttributes in lower case; knownAttrIDs maps each, in
// lower case and as spelt in the code, to its index.
var knownAttrs, knownAttrIDs = func() ([]string, map[string]int) {
	var names []string
	ids := map[string]int{}
	for _, a := range ldifAttributes() {
		l := strings.ToLower(a)
		if _, dup := ids[l]; !dup {
			ids[l] = len(names)
			names = append(names, l)
		}
		ids[a] = ids[l]
	}
	return names, ids
}()

// putKnown appends values to the attribute of index id in knownAttrs.
func (r *record) putKnown(id int, values ...[]byte) {
	if id == objectClassID {
		r.classesSet = false
	}
	if len(r.known[id]) == 0 {
		r.used = append(r.used, id)
	}
	r.known[id] = append(r.known[id], values...)
}

// putKnown1 is putKnown of one value, without the variadic slice and its
// copy: called for every kept line of an export (issue 9).
func (r *record) putKnown1(id int, value []byte) {
	if id == objectClassID {
		r.classesSet = false
	}
	k := &r.known[id]
	if len(*k) == 0 {
		r.used = append(r.used, id)
	}
	*k = append(*k, value)
}

// get returns the values stored under key (a lower-case name).
func (r *record) get(key string) [][]byte {
	if id, ok := knownAttrIDs[key]; ok {
		return r.known[id]
	}
	return r.attrs[key]
}

// put appends values under key (a lower-case name).
func (r *record) put(key string, values [][]byte) {
	if id, ok := knownAttrIDs[key]; ok {
		r.putKnown(id, values...)
		return
	}
	if r.attrs == nil {
		r.attrs = make(map[string][][]byte)
	}
	r.attrs[key] = append(r.attrs[key], values...)
}

// parseAttrDesc splits an attribute description such as
// "servicePrincipalName;range=0-1499" into its name and range option. Other
// options (";binary", language tags) are dropped: the inventory ignores them.
func parseAttrDesc(desc string) (string, *valueRange, error) {
	name, opts, _ := strings.Cut(desc, ";")
	if name == "" {
		return "", nil, fmt.Errorf("empty attribute name in %q", desc)
	}
	var rng *valueRange
	for opt := range strings.SplitSeq(opts, ";") {
		spec, ok := strings.CutPrefix(strings.ToLower(opt), "range=")
		if !ok {
			continue
		}
		r, err := parseRange(spec)
		if err != nil {
			return "", nil, fmt.Errorf("attribute %q: %w", desc, err)
		}
		rng = &r
	}
	return name, rng, nil
}

func parseRange(spec string) (valueRange, error) {
	lowText, highText, ok := strings.Cut(spec, "-")
	if !ok {
		return valueRange{}, fmt.Errorf("range %q: want low-high", spec)
	}
	low, err := strconv.Atoi(lowText)
	if err != nil || low < 0 {
		return valueRange{}, fmt.Errorf("range %q: bad low bound", spec)
	}
	if highText == "*" {
		return valueRange{low: low, high: low - 1, last: true}, nil
	}
	high, err := strconv.Atoi(highText)
	if err != nil || high < low || high == int(^uint(0)>>1) {
		return valueRange{}, fmt.Errorf("range %q: bad high bound", spec)
	}
	return valueRange{low: low, high: high}, nil
}

// add merges values of the attribute description desc. Ranged values must
// arrive in order, starting at 0, each range following the previous one;
// values of the same range may come in several calls (one per LDIF line).
func (r *record) add(desc string, values [][]byte) error {
	name, rng, err := parseAttrDesc(desc)
	if err != nil {
		return err
	}
	key := strings.ToLower(name)
	if rng != nil {
		if err := r.advanceRange(key, name, *rng); err != nil {
			return fmt.Errorf("%s: %w", r.dn, err)
		}
	}
	r.put(key, values)
	return nil
}

func (r *record) advanceRange(key, name string, rng valueRange) error {
	if r.ranges == nil {
		r.ranges = make(map[string]*rangeState)
	}
	st, seen := r.ranges[key]
	switch {
	case seen && st.current == rng:
		return nil // another value of the range being read
	case seen && st.current.last:
		return fmt.Errorf("%s: range starting at %d after the last range", name, rng.low)
	case seen && rng.low == st.next():
	case !seen && rng.low == 0 && len(r.get(key)) == 0:
		st = &rangeState{desc: name}
		r.ranges[key] = st
	case !seen && len(r.get(key)) > 0:
		return fmt.Errorf("%s: range=%d after its values were complete", name, rng.low)
	default:
		return fmt.Errorf("%s: range starting at %d does not follow the values read so far", name, rng.low)
	}
	st.current = rng
	return nil
}

// incomplete lists, in a stable order, the attributes (lower-case keys of
// r.ranges) still waiting for further ranges.
func (r *record) incomplete() []string {
	var open []string
	for key, st := range r.ranges {
		if !st.current.last {
			open = append(open, key)
		}
	}
	slices.Sort(open)
	return open
}

// values returns the values of attribute name (case-insensitive).
func (r *record) values(name string) [][]byte {
	if id, ok := knownAttrID(name); ok {
		return r.known[id]
	}
	return r.get(strings.ToLower(name))
}

// knownAttrID is knownAttrIDs[name], first through a table indexed by a
// hash of the name's length and three of its bytes: the inventory asks
// about 25 attributes of each of 255,000 entries of a large export, and a
// map lookup hashes the whole name (issue 9).
func knownAttrID(name string) (int, bool) {
	if len(name) > 0 {
		if slot := &knownAttrSlots[attrSlot(name)]; slot.name == name {
			return slot.id, true
		}
	}
	id, ok := knownAttrIDs[name]
	return id, ok
}

type attrSlotEntry struct {
	name string
	id   int
}

func attrSlot(name string) int { return attrSlotOf(name, attrSlotSeed) }

func attrSlotOf(name string, seed uint32) int {
	n := len(name)
	h := uint32(n*131 + int(name[0])*7 + int(name[n-1])*13 + int(name[n/2])*17 + int(name[n/3])*29 + int(name[2*n/3])*3)
	return int((h * seed) >> 16 & (attrSlots - 1))
}

// attrSlotSeed spreads the names of ldifAttributes over the slots of
// knownAttrSlots each in its own: a name whose slot another took was
// looked up in the map (objectSid, asked of every entry, was one: issue 9).
var attrSlotSeed = func() uint32 {
	names := slices.Compact(slices.Sorted(slices.Values(ldifAttributes())))
	seed := uint32(1)
	for ; seed < 1<<20; seed += 2 {
		taken := map[int]bool{}
		unique := true
		for _, name := range names {
			k := attrSlotOf(name, seed)
			if taken[k] {
				unique = false
				break
			}
			taken[k] = true
		}
		if unique {
			break
		}
	}
	return seed
}()

const attrSlots = 1024 // a power of two

// knownAttrSlots holds the names of ldifAttributes, as spelt, whose slot no
// other takes; the others, and other spellings, are found in the map.
var knownAttrSlots = func() (t [attrSlots]attrSlotEntry) {
	// The names as the code spells them: those it asks for, each once
	// (objectSid is listed twice, and took its own slot away).
	names := slices.Compact(slices.Sorted(slices.Values(ldifAttributes())))
	taken := map[int]int{}
	for _, name := range names {
		taken[attrSlot(name)]++
	}
	for _, name := range names {
		if k := attrSlot(name); taken[k] == 1 {
			t[k] = attrSlotEntry{name: name, id: knownAttrIDs[name]}
		}
	}
	return t
}()

// reset empties r for the next entry of dn, keeping its slices for reuse.
func (r *record) reset(dn string) {
	r.dn = dn
	r.classesSet = false
	r.ranges = nil
	for _, id := range r.used {
		r.known[id] = r.known[id][:0]
	}
	r.used = r.used[:0]
	if len(r.attrs) > 64 { // an entry of many odd attribute names: start afresh
		r.attrs = nil
		return
	}
	for k, v := range r.attrs {
		r.attrs[k] = v[:0]
	}
}

// detach returns a copy of r that shares no memory with the buffers r's
// values point into.
func (r *record) detach() *record {
	c := newRecord(r.dn)
	c.ranges = r.ranges
	clone := func(vs [][]byte) [][]byte {
		if len(vs) == 0 {
			return nil
		}
		cp := make([][]byte, len(vs))
		for i, v := range vs {
			cp[i] = slices.Clone(v)
		}
		return cp
	}
	for i, vs := range r.known {
		c.known[i] = clone(vs)
	}
	for k, vs := range r.attrs {
		if len(vs) > 0 {
			if c.attrs == nil {
				c.attrs = make(map[string][][]byte)
			}
			c.attrs[k] = clone(vs)
		}
	}
	return c
}

// strings returns the values of attribute name as strings.
func (r *record) strings(name string) []string {
	raw := r.values(name)
	if len(raw) == 0 {
		return nil
	}
	out := make([]string, len(raw))
	for i, v := range raw {
		out[i] = string(v)
	}
	return out
}

// first returns the first value of attribute name as a string, "" if absent.
func (r *record) first(name string) string {
	if v := r.values(name); len(v) > 0 {
		return string(v[0])
	}
	return ""
}

// has reports whether any value of attribute name equals want, ignoring case.
func (r *record) has(name, want string) bool {
	if name == "objectClass" {
		if bit := objectClassBit(want); bit != 0 {
			return r.objectClasses()&bit != 0
		}
	}
	for _, v := range r.values(name) {
		if strings.EqualFold(string(v), want) {
			return true
		}
	}
	return false
}

// objectClassNames are the object classes the code asks records about;
// bit i of record.classes stands for the i-th.
var objectClassNames = [...]string{
	"group", "domain", "domainDNS", "crossRef", "dnsNode", "nTDSDSA", "server",
	"computer", "user", "msDS-GroupManagedServiceAccount", "msDS-ManagedServiceAccount",
	"msDS-DelegatedManagedServiceAccount",
}

var objectClassID = knownAttrIDs["objectClass"]

// classesByLength lists, for each length, the indexes of the
// objectClassNames of that length.
var classesByLength = func() (t [40][]int) {
	for i, n := range objectClassNames {
		t[len(n)] = append(t[len(n)], i)
	}
	return t
}()

// objectClassBit returns the bit of class in record.classes, or 0 when the
// class is not one of objectClassNames (as spelt there).
func objectClassBit(class string) uint16 {
	// A switch, not a loop over the names: asked about eight times per
	// entry (TestObjectClassBit holds it to objectClassNames).
	switch class {
	case "group":
		return 1 << 0
	case "domain":
		return 1 << 1
	case "domainDNS":
		return 1 << 2
	case "crossRef":
		return 1 << 3
	case "dnsNode":
		return 1 << 4
	case "nTDSDSA":
		return 1 << 5
	case "server":
		return 1 << 6
	case "computer":
		return 1 << 7
	case "user":
		return 1 << 8
	case "msDS-GroupManagedServiceAccount":
		return 1 << 9
	case "msDS-ManagedServiceAccount":
		return 1 << 10
	case "msDS-DelegatedManagedServiceAccount":
		return 1 << 11
	}
	return 0
}

// objectClasses returns the bits of the objectClassNames the objectClass
// values name, ignoring case as has does: one pass over the values instead
// of one per question.
func (r *record) objectClasses() uint16 {
	if r.classesSet {
		return r.classes
	}
	values := r.known[objectClassID]
	if r.sameClassKey(values) {
		r.classes, r.classesSet = r.classKeyBits, true
		return r.classes
	}
	var bits uint16
	for _, v := range values {
		if len(v) < len(classesByLength) && isASCII(v) {
			// Values of another length can match only through a
			// non-ASCII fold (U+212A for k, U+017F for s): an ASCII
			// value is compared with the names of its length only
			// ("top", "person": none or two of twelve, issue 9).
			for _, i := range classesByLength[len(v)] {
				if strings.EqualFold(string(v), objectClassNames[i]) {
					bits |= 1 << i
				}
			}
			continue
		}
		for i, n := range objectClassNames {
			if strings.EqualFold(string(v), n) {
				bits |= 1 << i
			}
		}
	}
	r.classes, r.classesSet = bits, true
	r.setClassKey(values, bits)
	return bits
}

// sameClassKey reports whether values are those classKey holds.
func (r *record) sameClassKey(values [][]byte) bool {
	k := r.classKey
	for _, v := range values {
		if len(k) == 0 || int(k[0]) != len(v) || len(k) < 1+len(v) || string(k[1:1+len(v)]) != string(v) {
			return false
		}
		k = k[1+len(v):]
	}
	return len(k) == 0
}

// setClassKey remembers that values give bits; values longer than a byte
// can count are not remembered (no key: only no value matches it, whose
// bits are 0).
func (r *record) setClassKey(values [][]byte, bits uint16) {
	r.classKey, r.classKeyBits = r.classKey[:0], 0
	for _, v := range values {
		if len(v) > 255 {
			r.classKey = r.classKey[:0]
			return
		}
		r.classKey = append(r.classKey, byte(len(v)))
		r.classKey = append(r.classKey, v...)
	}
	r.classKeyBits = bits
}
