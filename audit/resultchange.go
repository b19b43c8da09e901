package audit

import (
	"fmt"
	"weak"

	"github.com/spnaudit/spnaudit/inventory"
)

// ResultChange is how an incremental audit (Next) made its result from the
// result before it (its base): the base's findings except those at
// RemovedFindings, in their order, merged with those at AddedFindings, and
// the same for the suppressed findings; every other finding is the base's
// value as it was. A consumer that holds the base (the metrics view, the
// history) reads only these instead of comparing every finding, so that a
// poll that changed k objects costs in proportion to k (issue 9).
// inventory.KeptPosition maps a kept finding's position between the two.
type ResultChange struct {
	// RemovedFindings are ascending positions in the base's Findings,
	// AddedFindings ascending positions in the result's Findings.
	RemovedFindings, AddedFindings []int32
	// RemovedSuppressed and AddedSuppressed are the same for Suppressed.
	RemovedSuppressed, AddedSuppressed []int32

	// The base's lists, named without keeping them alive (a strong
	// pointer would keep every earlier result through its own change),
	// and the result's lists the change describes: a copy of the result
	// whose findings were replaced carries a change that no longer
	// describes it, and ChangeFrom refuses it.
	baseFindings   weak.Pointer[Finding]
	baseSuppressed weak.Pointer[SuppressedFinding]
	baseLens       [2]int
	findings       []Finding
	suppressed     []SuppressedFinding
}

// SetChange records that r was made from base by the removals and
// additions given (ascending positions: removed in base's lists, added in
// r's). The producer calls it once, before it hands r out. It refuses
// positions out of order or out of range and counts that do not add up.
func (r *Result) SetChange(base Result, removedFindings, addedFindings, removedSuppressed, addedSuppressed []int32) error {
	if err := checkChange(len(base.Findings), len(r.Findings), removedFindings, addedFindings); err != nil {
		return fmt.Errorf("audit: change of the findings: %w", err)
	}
	if err := checkChange(len(base.Suppressed), len(r.Suppressed), removedSuppressed, addedSuppressed); err != nil {
		return fmt.Errorf("audit: change of the suppressed findings: %w", err)
	}
	r.change = &ResultChange{
		RemovedFindings: removedFindings, AddedFindings: addedFindings,
		RemovedSuppressed: removedSuppressed, AddedSuppressed: addedSuppressed,
		baseFindings: first(base.Findings), baseSuppressed: first(base.Suppressed),
		baseLens: [2]int{len(base.Findings), len(base.Suppressed)},
		findings: r.Findings, suppressed: r.Suppressed,
	}
	return nil
}

// ChangeFrom returns how r was made from base, or nil when r does not say:
// a full audit, an audit from another result, or a copy of r whose lists
// were replaced. The caller must hold base (a ResultChange does not keep
// it).
func (r Result) ChangeFrom(base Result) *ResultChange {
	c := r.change
	if c == nil || c.baseLens != [2]int{len(base.Findings), len(base.Suppressed)} ||
		!sameSlice(c.findings, r.Findings) || !sameSlice(c.suppressed, r.Suppressed) ||
		c.baseFindings != first(base.Findings) || c.baseSuppressed != first(base.Suppressed) {
		return nil
	}
	return c
}

// checkChange checks the positions of a change from a list of n items to
// one of m.
func checkChange(n, m int, removed, added []int32) error {
	if err := inventory.CheckPositions(removed, n); err != nil {
		return fmt.Errorf("removed: %w", err)
	}
	if err := inventory.CheckPositions(added, m); err != nil {
		return fmt.Errorf("added: %w", err)
	}
	if n-len(removed)+len(added) != m {
		return fmt.Errorf("%d items, %d removed and %d added, cannot make %d", n, len(removed), len(added), m)
	}
	return nil
}

// first is the weak pointer that names a list.
func first[T any](list []T) weak.Pointer[T] {
	if len(list) == 0 {
		return weak.Pointer[T]{}
	}
	return weak.Make(&list[0])
}
