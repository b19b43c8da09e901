package metrics

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// singlesWorld is a directory of many accounts with one finding each (a
// single series: most without an SPN, as kerberoastable-account's, some
// with one), under a cap that keeps few of them: the index keeps only the
// dates of the singles in its top (singleDates), and finds the others'
// in their finding when an update needs them.
type singlesWorld struct {
	objects  []*inventory.Object
	findings []audit.Finding
}

func newSinglesWorld(accounts int) *singlesWorld {
	w := &singlesWorld{}
	for i := range accounts {
		dn := fmt.Sprintf("CN=svc%03d,OU=Svc,DC=corp,DC=example,DC=test", i)
		w.objects = append(w.objects, &inventory.Object{
			DN: dn, Domain: "corp.example.test", SAMAccountName: fmt.Sprintf("svc%03d", i), Kind: inventory.KindUser,
		})
		f := audit.Finding{Rule: audit.RuleKerberoastableAccount, Severity: audit.SeverityMedium, Accounts: []string{dn}}
		if i%5 == 0 {
			f.Rule, f.Severity, f.SPN = audit.RuleGhostSPN, audit.SeverityLow, fmt.Sprintf("HTTP/ghost%03d", i)
		}
		w.findings = append(w.findings, w.dated(f, i))
	}
	slices.SortFunc(w.objects, compareObjects)
	w.sort()
	return w
}

// dated gives f the dates of day i, in times of its own (as the daemon's
// history and the audit give each finding its own).
func (w *singlesWorld) dated(f audit.Finding, i int) audit.Finding {
	first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 24 * time.Hour)
	changed := first.Add(time.Hour)
	f.FirstSeen, f.ChangedAt, f.ChangedOn = &first, &changed, "dc1"
	f.Message, f.Remediation, f.References = fmt.Sprintf("finding %d", i), []string{}, []string{}
	return f
}

func (w *singlesWorld) sort() {
	slices.SortStableFunc(w.findings, func(a, b audit.Finding) int { return compareFindings(&a, &b) })
}

func (w *singlesWorld) scan() (*inventory.Snapshot, audit.Result) {
	snap := &inventory.Snapshot{Objects: slices.Clone(w.objects), Directory: inventory.Directory{Domains: []string{"corp.example.test"}}}
	return snap, audit.Result{Findings: slices.Clone(w.findings)}
}

// TestSingleDatesFollowUpdates changes singles in and out of the index's
// top as polls do and checks every updated view against the one rebuilt
// from the same scan (sameViews: the singles' dates included), with caps
// that keep few of the singles: a second finding for a single outside top
// (its dates are found in its finding), a second series in a single's
// group outside top (the group keeps them), singles judged again alike or
// re-dated, and so many series removed
// that the top is ranked again (the dates of its singles found in one
// walk).
func TestSingleDatesFollowUpdates(t *testing.T) {
	for _, maxInfo := range []int{2, 5, 40} {
		w := newSinglesWorld(60)
		order := newSeriesOrder()
		snap, res := w.scan()
		v := newSnapshotView(snap, res, time.Now(), maxInfo, order)
		steps := []struct {
			name   string
			change func()
		}{
			{"a second finding for every fourth account", func() {
				for i := 0; i < 60; i += 4 {
					f := w.findings[i]
					f = w.dated(audit.Finding{Rule: f.Rule, Severity: f.Severity, SPN: f.SPN, Accounts: f.Accounts}, 100+i)
					w.findings = append(w.findings, f)
				}
			}},
			{"a second series in every seventh account's group", func() {
				for i := 1; i < 60; i += 7 {
					f := w.findings[i]
					f = w.dated(audit.Finding{Rule: f.Rule, Severity: f.Severity, SPN: "HTTP/second", Accounts: f.Accounts}, 200+i)
					w.findings = append(w.findings, f)
				}
			}},
			{"every finding judged again alike", func() {
				for i := range w.findings {
					w.findings[i].Message += "'"
				}
			}},
			{"every third finding re-dated", func() {
				for i := 0; i < len(w.findings); i += 3 {
					first := w.findings[i].FirstSeen.Add(-time.Hour)
					w.findings[i].FirstSeen = &first
				}
			}},
			{"the top's series gone", func() {
				// Every finding that gives a series of the top: the top
				// is ranked again from what is left.
				top := map[infoSeries]bool{}
				for _, r := range v.index.top {
					top[r.infoSeries] = true
				}
				names := v.accountNames.names()
				w.findings = slices.DeleteFunc(w.findings, func(f audit.Finding) bool {
					gives := false
					forEachSeries(&f, func(dn string) string { return names[dn] }, func(s infoSeries) { gives = gives || top[s] })
					return gives
				})
			}},
			{"new accounts", func() {
				for i := range 10 {
					dn := fmt.Sprintf("CN=new%03d,OU=Svc,DC=corp,DC=example,DC=test", i)
					w.findings = append(w.findings, w.dated(audit.Finding{Rule: audit.RuleKerberoastableAccount, Severity: audit.SeverityMedium, Accounts: []string{dn}}, 300+i))
				}
			}},
		}
		for _, step := range steps {
			step.change()
			w.sort()
			snap, res = w.scan()
			now := time.Now()
			got := v.updated(snap, res, now, maxInfo, order)
			if got == nil {
				t.Fatalf("cap %d, %s: the update fell back to a rebuild", maxInfo, step.name)
			}
			want := newSnapshotView(snap, res, now, maxInfo, order)
			if err := sameViews(got, want, maxInfo); err != nil {
				t.Fatalf("cap %d, %s: %v", maxInfo, step.name, err)
			}
			checkIndexAgainstReference(t, got, res, order, maxInfo)
			if len(got.index.singleDates) > len(got.index.top) {
				t.Fatalf("cap %d, %s: %d singles' dates for a top of %d", maxInfo, step.name, len(got.index.singleDates), len(got.index.top))
			}
			v = got
		}
	}
}

// TestLabelPairs: the ids of (rule, severity) pairs give the pairs back,
// are the same for equal pairs from any goroutine (run with -race), and
// differ for different ones.
func TestLabelPairs(t *testing.T) {
	pairs := [][2]string{{"ghost-spn", "low"}, {"ghost-spn", "high"}, {"duplicate-spn", "low"}, {"a\x00b", ""}, {"a", "\x00b"}}
	ids := make([][]labelPair, 8)
	var wg sync.WaitGroup
	for g := range ids {
		wg.Go(func() {
			for _, p := range pairs {
				ids[g] = append(ids[g], pairOf(p[0], p[1]))
			}
		})
	}
	wg.Wait()
	seen := map[labelPair]bool{}
	for i, p := range pairs {
		for g := range ids {
			if ids[g][i] != ids[0][i] {
				t.Fatalf("%v: id %d in one goroutine, %d in another", p, ids[g][i], ids[0][i])
			}
		}
		if seen[ids[0][i]] {
			t.Fatalf("%v: id %d is another pair's", p, ids[0][i])
		}
		seen[ids[0][i]] = true
		if rule, severity := ids[0][i].labels(); rule != p[0] || severity != p[1] {
			t.Fatalf("id of %v gives %q, %q", p, rule, severity)
		}
	}
}
