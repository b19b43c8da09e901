package metrics

import (
	"maps"
	"sync"
)

// nameTable is a view's account names (accountNames: DN → the name an
// admin types) as a map shared with the views before it and the DNs that
// changed since: a poll whose findings name a new account, or no longer
// name one, used to copy the whole map (issue 9: 2.6 MB and ~3 ms at
// 50,000 names, for any k). Views never modify a table: an update makes a
// new one.
type nameTable struct {
	// base is immutable and shared.
	base map[string]string
	// over are the DNs that entered, were renamed or left (gone) since
	// base; never more than overLimit(len(base)) of them, so an update
	// copies a few of them, and compacts them into a new base once in a
	// while (amortised: a change costs O(1)).
	over map[string]nameEntry

	// all is base with over applied, made once when someone reads every
	// name (Status: the web pages), not on the publishing path.
	once sync.Once
	all  map[string]string
}

type nameEntry struct {
	name string
	gone bool
}

func newNameTable(names map[string]string) *nameTable { return &nameTable{base: names} }

// overLimit is how many changed DNs a table over base names keeps beside
// it: copying them costs each update at most 1/32 of a compaction, which
// costs a copy of base every len(base)/32 changes.
func overLimit(base int) int { return base/32 + 64 }

// get returns dn's name and whether findings name dn.
func (t *nameTable) get(dn string) (string, bool) {
	if e, ok := t.over[dn]; ok {
		return e.name, !e.gone
	}
	name, ok := t.base[dn]
	return name, ok
}

// names returns every name, as accountNames gives them. The map is shared:
// callers must not modify it.
func (t *nameTable) names() map[string]string {
	if len(t.over) == 0 {
		return t.base
	}
	t.once.Do(func() { t.all = t.applied() })
	return t.all
}

// applied is a new map of base with over applied.
func (t *nameTable) applied() map[string]string {
	out := maps.Clone(t.base)
	if out == nil {
		out = map[string]string{}
	}
	for dn, e := range t.over {
		if e.gone {
			delete(out, dn)
		} else {
			out[dn] = e.name
		}
	}
	return out
}

// with returns the table of t with the DNs entering (new, or renamed) and
// leaving; t when none does.
func (t *nameTable) with(entering map[string]string, leaving []string) *nameTable {
	if len(entering) == 0 && len(leaving) == 0 {
		return t
	}
	limit := overLimit(len(t.base))
	if len(t.over)+len(entering) > limit {
		return t.compacted(entering, leaving)
	}
	over := make(map[string]nameEntry, len(t.over)+len(entering)+len(leaving))
	maps.Copy(over, t.over)
	for dn, name := range entering {
		over[dn] = nameEntry{name: name}
	}
	for _, dn := range leaving {
		if _, inBase := t.base[dn]; inBase {
			over[dn] = nameEntry{gone: true}
		} else {
			delete(over, dn) // entered since base: nothing to hide
		}
	}
	if len(over) > limit {
		return t.compacted(entering, leaving)
	}
	return &nameTable{base: t.base, over: over}
}

// compacted is with's table as one new base.
func (t *nameTable) compacted(entering map[string]string, leaving []string) *nameTable {
	out := t.applied()
	maps.Copy(out, entering)
	for _, dn := range leaving {
		delete(out, dn)
	}
	return &nameTable{base: out}
}
