package audit

import (
	"slices"
	"testing"
)

// TestResultChangeFromNamesItsBase: a change describes one base and the
// result's own lists; another base, or a copy of the result whose findings
// were replaced, gets none.
func TestResultChangeFromNamesItsBase(t *testing.T) {
	base := Result{Findings: []Finding{{Rule: "a"}, {Rule: "b"}, {Rule: "c"}}, Suppressed: []SuppressedFinding{{}}}
	r := Result{Findings: []Finding{base.Findings[0], {Rule: "x"}, base.Findings[2]}, Suppressed: base.Suppressed}
	if err := r.SetChange(base, []int32{1}, []int32{1}, nil, nil); err != nil {
		t.Fatal(err)
	}
	replaced := r
	replaced.Findings = slices.Clone(r.Findings)
	otherBase := base
	otherBase.Findings = slices.Clone(base.Findings)
	for _, tc := range []struct {
		name    string
		r, base Result
		want    bool
	}{
		{"its base", r, base, true},
		{"another base with equal findings", r, otherBase, false},
		{"a copy whose findings were replaced", replaced, base, false},
		{"a result without a change", base, base, false},
	} {
		if got := tc.r.ChangeFrom(tc.base) != nil; got != tc.want {
			t.Errorf("%s: ChangeFrom gave a change %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestResultSetChangeRefusesBadPositions: positions a consumer would
// misread are refused and leave no change behind.
func TestResultSetChangeRefusesBadPositions(t *testing.T) {
	base := Result{Findings: make([]Finding, 3), Suppressed: make([]SuppressedFinding, 1)}
	for _, tc := range []struct {
		name                   string
		findings, suppressed   int
		remF, addF, remS, addS []int32
	}{
		{"findings do not add up", 3, 1, []int32{0}, nil, nil, nil},
		{"suppressed do not add up", 3, 2, nil, nil, nil, nil},
		{"added out of range", 3, 1, []int32{0}, []int32{3}, nil, nil},
		{"removed not ascending", 3, 1, []int32{1, 0}, []int32{0, 1}, nil, nil},
	} {
		r := Result{Findings: make([]Finding, tc.findings), Suppressed: make([]SuppressedFinding, tc.suppressed)}
		if err := r.SetChange(base, tc.remF, tc.addF, tc.remS, tc.addS); err == nil {
			t.Errorf("%s: SetChange accepted it", tc.name)
		}
		if r.ChangeFrom(base) != nil {
			t.Errorf("%s: a refused change was kept", tc.name)
		}
	}
}
