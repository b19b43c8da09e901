package audit

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/inventory"
)

// TestIncrementalEqualsRun is the incremental audit's differential test:
// over random directories and random sequences of changes (SPNs added,
// removed, duplicated, made look-alike; hosts renamed; computers and
// accounts added and deleted; delegation, privilege, enctypes,
// userAccountControl and passwords changed; time moving on), Next's result
// must equal Run's, finding for finding, in the same order.
func TestIncrementalEqualsRun(t *testing.T) {
	seeds := 60
	if testing.Short() {
		seeds = 15
	}
	defer func(limit func(int) int) { judgedLimit = limit }(judgedLimit)
	judgedLimit = func(n int) int { return n }
	var cases, incremental, judged, objects int
	for seed := range seeds {
		n := 40 + seed%7*25
		// Dense directories (few host names) stress the relations; sparse
		// ones give small neighbourhoods.
		g := &dirGen{r: rand.New(rand.NewPCG(uint64(seed), 9)), hosts: 4 + seed%5*n/5, away: []int{20, 3}[seed%2]}
		snap := g.directory(n, seed%3 == 0)
		cfg := Config{}
		if seed%4 == 1 {
			cfg.Ignore = []Suppression{
				{Rule: "kerberoastable-account", Account: "svc1.*", Reason: "test", Owner: "test"},
				{Rule: "ghost-spn", SPN: "HTTP/gone1*", Reason: "test", Owner: "test"},
			}
		}
		state := RunState(snap, cfg)
		for step := range 25 {
			next, what := g.change(snap, 1+g.r.IntN(4))
			switch g.r.IntN(5) {
			case 0:
				next.Started = next.Started.Add(time.Duration(1+g.r.IntN(72)) * time.Hour)
			case 1:
				next.Started = next.Started.Add(5 * time.Minute)
			}
			state = Next(state, next, cfg)
			want := Run(next, cfg)
			cases++
			if st := state.Stats(); st.Incremental {
				incremental++
				judged += st.Judged
				objects += len(next.Objects)
			}
			if !reflect.DeepEqual(state.Result(), want) {
				t.Fatalf("seed %d step %d (%+v) after %s:\n%s", seed, step, state.Stats(), strings.Join(what, "; "),
					describeDiff(state.Result(), want))
			}
			snap = next
		}
	}
	t.Logf("%d changes, %d audited incrementally, judging %d of %d objects", cases, incremental, judged, objects)
	if incremental < cases*3/4 {
		t.Errorf("only %d of %d changes were audited incrementally", incremental, cases)
	}
}

// describeDiff names the first finding that differs.
func describeDiff(got, want Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "findings: got %d, want %d; suppressed: got %d, want %d\n",
		len(got.Findings), len(want.Findings), len(got.Suppressed), len(want.Suppressed))
	for i := range max(len(got.Findings), len(want.Findings)) {
		var g, w Finding
		if i < len(got.Findings) {
			g = got.Findings[i]
		}
		if i < len(want.Findings) {
			w = want.Findings[i]
		}
		if !reflect.DeepEqual(g, w) {
			gj, _ := json.Marshal(g)
			wj, _ := json.Marshal(w)
			fmt.Fprintf(&b, "finding %d:\n got  %s\n want %s\n", i, gj, wj)
			break
		}
	}
	return b.String()
}

// TestIncrementalFallsBack checks the changes that reach the whole
// directory run the full audit, and that a change to a few objects of a
// large directory does not.
func TestIncrementalFallsBack(t *testing.T) {
	g := &dirGen{r: rand.New(rand.NewPCG(1, 2)), hosts: 200, away: 3}
	snap := g.directory(600, false)
	state := RunState(snap, Config{})
	changed, _ := g.change(snap, 2)
	if s := Next(state, changed, Config{}); !s.Stats().Incremental || s.Stats().Judged >= len(changed.Objects)/4 {
		t.Errorf("two edits: %+v, want incremental over a small neighbourhood", s.Stats())
	}
	dir := *changed
	dir.Directory.DSHeuristics = "0000002"
	tests := []struct {
		name string
		snap *inventory.Snapshot
		cfg  Config
		want string
	}{
		{"directory settings", &dir, Config{}, fullDirectory},
		{"configuration", changed, Config{MaxPasswordAge: time.Hour}, fullConfig},
		{"farms", changed, Config{Farms: []Farm{{Name: "f", Account: "svc1", VIP: "web.corp.example.com", Classes: []string{"HTTP"}}}}, fullFarms},
		{"suppression expired", changed, Config{Ignore: []Suppression{{Rule: "*", Reason: "r", Owner: "o", Until: "2020-01-01"}}}, fullConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Next(state, tt.snap, tt.cfg)
			if s.Stats().Incremental || s.Stats().FullReason != tt.want {
				t.Errorf("stats %+v, want a full audit because %s", s.Stats(), tt.want)
			}
			if !reflect.DeepEqual(s.Result(), Run(tt.snap, tt.cfg)) {
				t.Error("result differs from Run")
			}
		})
	}
}
