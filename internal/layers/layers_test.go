// Package layers checks the code's structure: it reads top-down, cmd wires,
// daemon schedules, web presents, metrics exports, ldapscan reads, audit
// judges, krb authenticates, inventory is the model, and no import points
// from a lower package back up (README, "Layout").
package layers

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/spnaudit/spnaudit/"

// layer ranks the product's packages, top (0) to bottom. A package may import
// only packages of a higher rank: siblings do not know each other. A new
// package gets its rank here, which is where its place in the design is
// decided.
var layer = map[string]int{
	"cmd/spnaudit": 0,
	"daemon":       1,
	"web":          2,
	"metrics":      3,
	"ldapscan":     4,
	"config":       4,
	"report":       4,
	// state keeps the history (first_seen, the change journal) in state.dir.
	"state": 4,
	"audit": 5,
	// iisconfig reads IIS configuration files into the model; config checks
	// iis.config_files with it.
	"iisconfig": 5,
	"krb":       6,
	"hostdns":   6,

	"inventory":        7,
	"internal/secdesc": 7,
}

// forbidden are imports the ranks allow but the design does not: the daemon
// reports to a Sink it states in its own terms and never depends on how
// results are exported or shown.
var forbidden = map[string][]string{
	"daemon": {"metrics", "web"},
}

// notProduct are the packages outside the product's layers: the lab DC and
// its tool, the deploy and end-to-end tests, test helpers. The product must
// not import them.
var notProduct = []string{"lab", "deploy", "e2e", "internal/labtest", "internal/promtooltest",
	"internal/farmtest", "internal/unprivileged", "internal/golden", "internal/layers",
	"internal/gen", "internal/bench"} // make bench's data generators and harness

func isNotProduct(pkg string) bool {
	for _, p := range notProduct {
		if pkg == p || strings.HasPrefix(pkg, p+"/") {
			return true
		}
	}
	return false
}

// TestImportsPointDown lists every package's non-test imports (go list) and
// checks each against the layers.
func TestImportsPointDown(t *testing.T) {
	out, err := exec.Command(goTool(), "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		if isNotProduct(pkg) {
			continue
		}
		rank, ok := layer[pkg]
		if !ok {
			t.Errorf("%s has no layer: give it its rank in internal/layers", pkg)
			continue
		}
		for _, imp := range fields[1:] {
			dep, ours := strings.CutPrefix(imp, module)
			if !ours {
				continue
			}
			switch depRank, known := layer[dep]; {
			case isNotProduct(dep):
				t.Errorf("%s imports %s, which is not part of the product", pkg, dep)
			case !known:
				t.Errorf("%s imports %s, which has no layer", pkg, dep)
			case slices.Contains(forbidden[pkg], dep):
				t.Errorf("%s imports %s: it must not (see forbidden)", pkg, dep)
			case depRank <= rank:
				t.Errorf("%s (layer %d) imports %s (layer %d): imports point down, to a higher layer number", pkg, rank, dep, depRank)
			}
		}
	}
}

func goTool() string {
	if path, err := exec.LookPath("go"); err == nil {
		return path
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}
