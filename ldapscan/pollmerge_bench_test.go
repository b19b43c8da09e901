package ldapscan

import (
	"fmt"
	"maps"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

// BenchmarkPollMerge measures a poll's merge of k changed objects into a
// 100,000-object snapshot (issue 9: in proportion to k): apply with the
// scanner's memo, the privileges of the objects read (membership as
// before) and the change's positions. The parts that stay O(n) are
// measured apart: the copy of the object array (the snapshot is an
// immutable []Object), the privilege walk a membership change needs, and
// the memo's build after a full scan.
func BenchmarkPollMerge(b *testing.B) {
	const n = 100_000
	prev, m := benchDirectory(n)
	memo := (&Scanner{}).memoFor(prev)
	for _, k := range []int{10, 100, 1000} {
		c := benchChanges(prev, k)
		b.Run(fmt.Sprintf("k=%d", k), func(b *testing.B) {
			cpuLoop(b, func() {
				mg := c.apply(prev, memo.dns)
				objs, changed := inventory.UpdatePrivilegesAt(mg.objects, m, true, mg.added)
				_, _ = withPrivilegeChanges(mg.removed, mg.added, changed)
				_ = objs
			})
		})
		b.Run(fmt.Sprintf("k=%d/no-memo", k), func(b *testing.B) {
			cpuLoop(b, func() {
				mg := c.apply(prev, nil)
				_, _ = inventory.UpdatePrivileges(mg.objects, m, true)
			})
		})
	}
	b.Run("copy-objects", func(b *testing.B) {
		cpuLoop(b, func() {
			out := make([]*inventory.Object, len(prev))
			copy(out, prev)
		})
	})
	b.Run("copy-objects-no-alloc", func(b *testing.B) {
		out := make([]*inventory.Object, len(prev))
		cpuLoop(b, func() {
			copy(out, prev)
		})
	})
	b.Run("privileges-walk", func(b *testing.B) {
		objs := append([]*inventory.Object(nil), prev...)
		cpuLoop(b, func() {
			_, _ = inventory.UpdatePrivileges(objs, m, true)
		})
	})
	b.Run("memo-build", func(b *testing.B) {
		cpuLoop(b, func() {
			_ = (&Scanner{}).memoFor(prev)
		})
	})
	b.Run("memo-advance-k=1000", func(b *testing.B) {
		c := benchChanges(prev, 1000)
		mg := c.apply(prev, memo.dns)
		for b.Loop() {
			b.StopTimer()
			mm := *memo
			mm.dns = maps.Clone(memo.dns)
			b.StartTimer()
			mm.advance(prev, mg.objects, mg.removed, mg.added, m)
		}
	})
}
