package state

import (
	"hash/maphash"
	"strings"
	"unicode/utf8"

	"github.com/spnaudit/spnaudit/inventory"
)

// samIndex answers, for a new finding's record, the sAMAccountName of the
// snapshot's object whose DN equals an account DN in lower case (the last
// object's, for DNs that differ only in case). It is built when a new
// finding first needs it and then follows the snapshots' changes (follow),
// so that a poll that changed k objects costs O(k) here (issue 9).
//
// Its entries are keyed by a hash of the lower-case DN and hold the
// object's own strings: 100,000 lower-case copies of the DNs kept 9.6 MiB.
// An entry is checked against the DN it holds, so a hash shared by two
// strings never answers wrong.
type samIndex struct {
	snap *inventory.Snapshot
	// byHash is nil when two objects' DNs share a lower-case form or a
	// hash: plain (lower-case DN -> sAMAccountName) answers instead, and
	// the index cannot follow changes.
	byHash map[uint64]dnEntry
	plain  map[string]string
}

type dnEntry struct{ dn, sam string }

var dnSeed = maphash.MakeSeed()

// lowerHash hashes strings.ToLower(dn), without the copy for an ASCII DN.
func lowerHash(dn string) uint64 {
	for i := 0; i < len(dn); i++ {
		if dn[i] >= utf8.RuneSelf {
			return maphash.String(dnSeed, strings.ToLower(dn))
		}
	}
	var h maphash.Hash
	h.SetSeed(dnSeed)
	var buf [128]byte
	for dn != "" {
		n := copy(buf[:], dn)
		for i, c := range buf[:n] {
			if 'A' <= c && c <= 'Z' {
				buf[i] = c + ('a' - 'A')
			}
		}
		_, _ = h.Write(buf[:n])
		dn = dn[n:]
	}
	return h.Sum64()
}

// sameLower reports whether strings.ToLower(a) == strings.ToLower(b).
func sameLower(a, b string) bool {
	if len(a) != len(b) {
		return strings.ToLower(a) == strings.ToLower(b)
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if ca >= utf8.RuneSelf || cb >= utf8.RuneSelf {
			return strings.ToLower(a[i:]) == strings.ToLower(b[i:])
		}
		if 'A' <= ca && ca <= 'Z' {
			ca += 'a' - 'A'
		}
		if 'A' <= cb && cb <= 'Z' {
			cb += 'a' - 'A'
		}
		if ca != cb {
			return false
		}
	}
	return true
}

func newSAMIndex(snap *inventory.Snapshot) *samIndex {
	ix := &samIndex{snap: snap, byHash: make(map[uint64]dnEntry, len(snap.Objects))}
	for i := range snap.Objects {
		if !ix.add(snap.Objects[i]) {
			ix.byHash = nil
			ix.plain = make(map[string]string, len(snap.Objects))
			for i := range snap.Objects {
				ix.plain[strings.ToLower(snap.Objects[i].DN)] = snap.Objects[i].SAMAccountName
			}
			break
		}
	}
	return ix
}

// add enters o; false when its hash is taken.
func (ix *samIndex) add(o *inventory.Object) bool {
	h := lowerHash(o.DN)
	if _, taken := ix.byHash[h]; taken {
		return false
	}
	ix.byHash[h] = dnEntry{o.DN, o.SAMAccountName}
	return true
}

func (ix *samIndex) lookup(dn string) string {
	if ix.byHash == nil {
		return ix.plain[strings.ToLower(dn)]
	}
	if e, ok := ix.byHash[lowerHash(dn)]; ok && sameLower(e.dn, dn) {
		return e.sam
	}
	return ""
}

// follow brings the index to snap along its change from the index's
// snapshot; false when it cannot (no such change, or DNs no longer
// distinct), and the index must be dropped.
func (ix *samIndex) follow(snap *inventory.Snapshot) bool {
	base := ix.snap
	if base == snap {
		return true
	}
	if ix.byHash == nil {
		return false
	}
	if sameObjects(snap.Objects, base.Objects) {
		ix.snap = snap
		return true
	}
	c := snap.ChangeFrom(base)
	if c == nil {
		return false
	}
	for _, r := range c.Removed {
		delete(ix.byHash, lowerHash(base.Objects[r].DN))
	}
	for _, a := range c.Added {
		if !ix.add(snap.Objects[a]) {
			return false
		}
	}
	ix.snap = snap
	return true
}
