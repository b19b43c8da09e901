package daemon

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unsafe"

	"reflect"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/internal/farmtest"
	"github.com/spnaudit/spnaudit/internal/gen"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/ldapscan"
)

// TestCompactedEqualsAudit checks that packing an audit's strings changes
// no value (findings, suppressed findings, nil and empty lists alike),
// leaves the audit's own result untouched, and does pack: the messages
// and remediation lines move into shared chunks, and a rule's fixed lines
// are stored once.
func TestCompactedEqualsAudit(t *testing.T) {
	var ldif bytes.Buffer
	if _, err := gen.WriteDirectory(&ldif, 2000); err != nil {
		t.Fatal(err)
	}
	read, err := ldapscan.ReadLDIF(&ldif, "gen")
	if err != nil {
		t.Fatal(err)
	}
	generated := audit.Run(read.Snapshot, audit.Config{})
	long := strings.Repeat("x", arenaChunk)
	mixed := audit.Result{
		Findings: append(farmtest.Findings(), // nil lists
			audit.Finding{Rule: "r", Accounts: []string{}, Message: long, Remediation: []string{long, "a"}, References: []string{}},
			audit.Finding{Rule: "r", Accounts: make([]string, 2000), Message: "m", Remediation: make([]string, 3000), References: nil},
		),
		Suppressed: []audit.SuppressedFinding{{Finding: generated.Findings[0], SuppressedBy: audit.Suppression{Rule: "x"}}},
	}
	for name, res := range map[string]audit.Result{"generated directory": generated, "mixed": mixed} {
		t.Run(name, func(t *testing.T) {
			if len(res.Findings) < 2 {
				t.Fatalf("only %d findings", len(res.Findings))
			}
			before := deepCopy(res)
			messages := make([]*byte, len(res.Findings))
			for i, f := range res.Findings {
				messages[i] = unsafe.StringData(f.Message)
			}
			got := compacted(res)
			if !reflect.DeepEqual(got, before) {
				t.Fatal("compacted result differs from the audit's")
			}
			if !reflect.DeepEqual(res, before) {
				t.Fatal("the audit's result was modified")
			}
			moved := 0
			for i, f := range res.Findings {
				if unsafe.StringData(f.Message) != messages[i] {
					t.Fatalf("finding %d: the audit's message was modified", i)
				}
				if unsafe.StringData(got.Findings[i].Message) != messages[i] {
					moved++
				}
			}
			if moved == 0 {
				t.Error("no message was packed")
			}
		})
	}
	// A rule's fixed remediation line is stored once.
	got := compacted(generated)
	var first *byte
	shared := 0
	for _, f := range got.Findings {
		if f.Rule != audit.RuleKerberoastableAccount {
			continue
		}
		if first == nil {
			first = unsafe.StringData(f.Remediation[0])
		} else if unsafe.StringData(f.Remediation[0]) == first {
			shared++
		}
	}
	if first == nil || shared == 0 {
		t.Errorf("kerberoastable-account's first remediation line shared by %d findings", shared)
	}
}

// deepCopy copies every list of res, so that a change made to res in place
// shows in a comparison.
func deepCopy(res audit.Result) audit.Result {
	cp := func(ss []string) []string {
		if ss == nil {
			return nil
		}
		return append([]string{}, ss...)
	}
	out := res
	out.Findings = res.Findings[:0:0]
	for _, f := range res.Findings {
		f.Accounts, f.Remediation, f.References = cp(f.Accounts), cp(f.Remediation), cp(f.References)
		out.Findings = append(out.Findings, f)
	}
	out.Suppressed = res.Suppressed[:0:0]
	for _, s := range res.Suppressed {
		s.Accounts, s.Remediation, s.References = cp(s.Accounts), cp(s.Remediation), cp(s.References)
		out.Suppressed = append(out.Suppressed, s)
	}
	return out
}

// TestCompactedScanEqualsScan checks that packing a full scan's objects
// changes no value and leaves the scanner's result untouched.
func TestCompactedScanEqualsScan(t *testing.T) {
	var ldif bytes.Buffer
	if _, err := gen.WriteDirectory(&ldif, 2000); err != nil {
		t.Fatal(err)
	}
	read, err := ldapscan.ReadLDIF(&ldif, "gen")
	if err != nil {
		t.Fatal(err)
	}
	farm := farmtest.Snapshot(farmtest.NewClock().Now())
	for name, snap := range map[string]*inventory.Snapshot{"generated directory": read.Snapshot, "farm": farm} {
		t.Run(name, func(t *testing.T) {
			res := &ldapscan.Result{Snapshot: snap, Stats: ldapscan.Stats{Mode: inventory.FullScan, Entries: 7}}
			want, err := json.Marshal(snap)
			if err != nil {
				t.Fatal(err)
			}
			dn := unsafe.StringData(snap.Objects[0].DN)
			got := compactedScan(res)
			if !reflect.DeepEqual(got.Snapshot, snap) || !reflect.DeepEqual(got.Stats, res.Stats) {
				t.Fatal("compacted scan differs from the scanner's")
			}
			if again, _ := json.Marshal(snap); !bytes.Equal(again, want) || unsafe.StringData(snap.Objects[0].DN) != dn {
				t.Fatal("the scanner's snapshot was modified")
			}
			if unsafe.StringData(got.Snapshot.Objects[0].DN) == dn {
				t.Error("the DN was not packed")
			}
		})
	}
}

// BenchmarkCompact packs the bench's directory (internal/gen, 100,000
// objects) and its audit, as the daemon does after a full scan.
func BenchmarkCompact(b *testing.B) {
	var ldif bytes.Buffer
	if _, err := gen.WriteDirectory(&ldif, gen.DirectoryObjects); err != nil {
		b.Fatal(err)
	}
	read, err := ldapscan.ReadLDIF(&ldif, "gen")
	if err != nil {
		b.Fatal(err)
	}
	res := &ldapscan.Result{Snapshot: read.Snapshot}
	findings := audit.Run(read.Snapshot, audit.Config{})
	b.Run("snapshot", func(b *testing.B) {
		for b.Loop() {
			compactedScan(res)
		}
	})
	b.Run("audit", func(b *testing.B) {
		for b.Loop() {
			compacted(findings)
		}
	})
}
