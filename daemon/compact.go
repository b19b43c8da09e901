package daemon

import (
	"slices"
	"unsafe"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/ldapscan"
)

// The daemon keeps the last audit until the next one replaces it: at
// 100,000 objects, 40 MB of message and remediation strings, one or more
// small allocations per finding. An audit allocates them among its own
// short-lived garbage (the index, the formatting), so once that garbage is
// collected the spans holding the findings stay in use a third full, and
// after a few polls that changed objects the heap in use was 180 MiB for
// 107 MiB live (issue 9: steady RSS 201 MiB for a 150 MiB goal). Packing a
// fresh audit's strings into large chunks keeps them apart from the
// garbage: the chunks of one audit are freed together when the next one
// replaces it.

// arenaChunk is the size of one chunk: large enough to be a span of its
// own, small enough that the last, partly filled one wastes little.
const arenaChunk = 256 << 10

// stringArena packs strings into chunks of arenaChunk bytes.
type stringArena struct{ buf []byte }

// pack returns s, copied into the arena when it is small enough to share a
// chunk. Bytes once written are never written again, so the string stays
// immutable.
func (a *stringArena) pack(s string) string {
	if len(s) == 0 || len(s) > arenaChunk/16 {
		return s
	}
	if cap(a.buf)-len(a.buf) < len(s) {
		a.buf = make([]byte, 0, arenaChunk)
	}
	start := len(a.buf)
	a.buf = append(a.buf, s...)
	return unsafe.String(&a.buf[start], len(s))
}

// sliceArena packs string slices into chunks of arenaChunk/16 entries.
type sliceArena struct{ buf []string }

// pack returns a copy of ss in the arena, with its capacity cut to its
// length so that appending to it copies rather than overwrites a
// neighbour. An empty slice is returned as it is (nil stays nil, empty
// stays empty: the JSON shows [] and null differently).
func (a *sliceArena) pack(ss []string) []string {
	const entries = arenaChunk / 16
	if len(ss) == 0 || len(ss) > entries/16 {
		return ss
	}
	if cap(a.buf)-len(a.buf) < len(ss) {
		a.buf = make([]string, 0, entries)
	}
	start := len(a.buf)
	a.buf = append(a.buf, ss...)
	return a.buf[start:len(a.buf):len(a.buf)]
}

// findingPacker packs the strings of a fresh audit's findings. A text equal
// to the one at the same place in the previous finding (a rule's fixed
// remediation lines and references) is shared instead of copied again.
type findingPacker struct {
	strs   stringArena
	slices sliceArena
	prev   audit.Finding
}

func (p *findingPacker) pack(f *audit.Finding) {
	f.Message = p.strs.pack(f.Message)
	f.Accounts = p.slices.pack(f.Accounts) // DNs: the snapshot's strings
	if f.Rule == p.prev.Rule && equalStrings(f.References, p.prev.References) {
		f.References = p.prev.References
	} else {
		f.References = p.packStrings(f.References, nil)
	}
	f.Remediation = p.packStrings(f.Remediation, p.prev.Remediation)
	p.prev = *f
}

// packStrings packs ss, each element shared with the same element of prev
// when equal.
func (p *findingPacker) packStrings(ss, prev []string) []string {
	if len(ss) == 0 {
		return ss
	}
	out := p.slices.pack(ss)
	if len(out) > 0 && len(ss) > 0 && &out[0] == &ss[0] {
		out = append([]string(nil), ss...) // too long for the arena: do not modify the audit's slice
	}
	for i, s := range out {
		if i < len(prev) && prev[i] == s {
			out[i] = prev[i]
		} else {
			out[i] = p.strs.pack(s)
		}
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) || (a == nil) != (b == nil) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// compacted returns res with its findings' strings packed: equal in every
// value, res itself unchanged (the findings are copied, which also drops
// the slack the audit's appends left).
func compacted(res audit.Result) audit.Result {
	var p findingPacker
	res.Findings = slices.Clone(res.Findings)
	for i := range res.Findings {
		p.pack(&res.Findings[i])
	}
	res.Suppressed = slices.Clone(res.Suppressed)
	for i := range res.Suppressed {
		p.pack(&res.Suppressed[i].Finding)
	}
	return res
}

// A full scan leaves the same pattern: the objects' strings are allocated
// among the reader's garbage (every attribute value decoded, every record),
// and are kept until the next full scan. They are packed the same way,
// before the audit, whose findings name them (SPNs, DNs).

// objectPacker packs the strings of a fresh snapshot's objects. The values
// most objects share (their domain, their kind) are stored once.
type objectPacker struct {
	strs   stringArena
	slices sliceArena
	common map[string]string
}

func (p *objectPacker) shared(s string) string {
	if v, ok := p.common[s]; ok {
		return v
	}
	if p.common == nil {
		p.common = map[string]string{}
	}
	v := p.strs.pack(s)
	p.common[v] = v
	return v
}

// packAll packs ss and each of its strings, into a new slice.
func (p *objectPacker) packAll(ss []string) []string {
	if len(ss) == 0 {
		return ss
	}
	out := p.slices.pack(ss)
	if &out[0] == &ss[0] {
		out = append([]string(nil), ss...) // too long for the arena
	}
	for i, s := range out {
		out[i] = p.strs.pack(s)
	}
	return out
}

func (p *objectPacker) pack(o *inventory.Object) {
	o.DN = p.strs.pack(o.DN)
	o.Domain = p.shared(o.Domain)
	o.SAMAccountName = p.strs.pack(o.SAMAccountName)
	o.Kind = inventory.Kind(p.shared(string(o.Kind)))
	o.DNSHostName = p.strs.pack(o.DNSHostName)
	o.ObjectSID = p.strs.pack(o.ObjectSID)
	o.SPNs = p.packAll(o.SPNs)
	if d := o.AllowedToDelegateTo(); len(d) > 0 {
		o.SetAllowedToDelegateTo(p.packAll(d)) // a new Delegation: res's object keeps its own
	}
}

// compactedScan returns res with a copy of its snapshot whose objects'
// strings are packed: equal in every value, res itself unchanged. The
// copies lie in one array in the snapshot's order, as the audit walks them.
func compactedScan(res *ldapscan.Result) *ldapscan.Result {
	snap := *res.Snapshot
	packed := make([]inventory.Object, len(snap.Objects))
	var p objectPacker
	for i, o := range snap.Objects {
		packed[i] = *o
		p.pack(&packed[i])
	}
	snap.Objects = inventory.Pointers(packed)
	out := *res
	out.Snapshot = &snap
	return &out
}
