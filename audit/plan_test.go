package audit

import (
	"slices"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

// runSetspn applies a plan to a copy of snap the way setspn would: -D removes
// the SPN from the account if present, -S adds it unless some account holds
// it already (the duplicate check), comments do nothing.
func runSetspn(t *testing.T, snap *inventory.Snapshot, script []string) *inventory.Snapshot {
	t.Helper()
	out := *snap
	out.Objects = make([]*inventory.Object, len(snap.Objects))
	for i, o := range snap.Objects { // copies: snap's objects stay as they were
		c := *o
		c.SPNs = slices.Clone(o.SPNs)
		out.Objects[i] = &c
	}
	find := func(account string) *inventory.Object {
		for i := range out.Objects {
			if strings.EqualFold(newIndex(&out, Config{}).accountName(out.Objects[i]), account) {
				return out.Objects[i]
			}
		}
		t.Fatalf("script names unknown account %q", account)
		return nil
	}
	for _, line := range script {
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 4 || f[0] != "setspn" {
			t.Fatalf("not a setspn line: %q", line)
		}
		o := find(f[3])
		switch f[1] {
		case "-D":
			o.SPNs = slices.DeleteFunc(o.SPNs, func(s string) bool { return strings.EqualFold(s, f[2]) })
		case "-S":
			held := slices.ContainsFunc(out.Objects, func(x *inventory.Object) bool {
				return slices.ContainsFunc(x.SPNs, func(s string) bool { return strings.EqualFold(s, f[2]) })
			})
			if !held {
				o.SPNs = append(o.SPNs, f[2])
			}
		default:
			t.Fatalf("unexpected switch in %q", line)
		}
	}
	return &out
}

func TestPlan(t *testing.T) {
	snap := snapshot(
		user("svc_iispool", append(without(iisFarmSPNs, "HTTP/svnlb301", "HTTP/svexpgg311.corp.example.test"), "HTTP/svexpgg310:8080")),
		user("svc_other", []string{"HTTP/svnlb301", "HTTP/unrelated"}),
		user("svc_legacyweb", []string{"HTTP/svexpgg310.corp.example.test"}),
	)
	farms := []Farm{iisFarm()}
	want := []string{
		"# spnaudit plan: converge SPNs to the farms in the configuration.",
		"# Safe to re-run: setspn -D of an absent SPN and setspn -S of an SPN already on the account change nothing.",
		`setspn -D HTTP/svexpgg310.corp.example.test CORP\svc_legacyweb`,
		`setspn -D HTTP/svexpgg310:8080 CORP\svc_iispool`,
		`setspn -D HTTP/svnlb301 CORP\svc_other`,
		`setspn -S HTTP/svexpgg311.corp.example.test CORP\svc_iispool`,
		`setspn -S HTTP/svnlb301 CORP\svc_iispool`,
	}
	got := Plan(snap, farms)
	if !slices.Equal(got, want) {
		t.Fatalf("Plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	converged := runSetspn(t, snap, got)
	if again := Plan(converged, farms); !slices.Equal(again[2:], []string{"# Nothing to do: every farm's SPNs are in place."}) {
		t.Errorf("plan after running it is not empty:\n%s", strings.Join(again, "\n"))
	}
	if fs := checkRule(farmDrift{}, converged, Config{Farms: farms}); len(fs) != 0 {
		t.Errorf("farm-drift still fires after the plan ran: %v", summaries(fs))
	}
	twice := runSetspn(t, converged, got)
	for i := range twice.Objects {
		if !slices.Equal(twice.Objects[i].SPNs, converged.Objects[i].SPNs) {
			t.Errorf("re-running the plan changed %s: %q -> %q", twice.Objects[i].DN, converged.Objects[i].SPNs, twice.Objects[i].SPNs)
		}
	}
	if !slices.Contains(converged.Objects[1].SPNs, "HTTP/unrelated") {
		t.Error("the plan removed an SPN the farm does not own")
	}
}

func TestPlanReportsUnusableFarms(t *testing.T) {
	got := Plan(snapshot(), []Farm{iisFarm()})
	if !slices.ContainsFunc(got, func(l string) bool { return strings.HasPrefix(l, "# Farm iis skipped: account") }) {
		t.Errorf("plan does not say why the farm was skipped:\n%s", strings.Join(got, "\n"))
	}
}
