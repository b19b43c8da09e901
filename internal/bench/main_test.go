package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	// The daemon scenario re-executes this binary as its child.
	if len(os.Args) > 1 && os.Args[1] == daemonChildArg {
		os.Exit(daemonChild(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// TestSmoke runs `make bench` at a tiny size, as CI does: every scenario
// but the live one (it seeds the lab's OU=Bulk) must run, check its
// output (the duplicates grep and spnaudit find) and print each ratio.
// No time is asserted.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds spnaudit")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "spnaudit")
	build := exec.Command("go", "build", "-o", bin, "github.com/spnaudit/spnaudit/cmd/spnaudit")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg := config{bin: bin, self: self, dir: dir, scale: 0.002, floodScale: 0.002, runs: 1, maxRSS: 2 << 30,
		floodFormats: []string{"json", "table", "csv", "sarif"},
		only:         map[string]bool{"realistic": true, "linear": true, "flood": true, "daemon": true}}
	var out strings.Builder
	if err := run(cfg, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Log("\n" + out.String())
	for _, want := range []string{
		"RATIO realistic scan / grep wall", "RATIO realistic inventory / grep wall", "MEM   realistic scan peak RSS",
		"RATIO time 10x / 1x", "RATIO peak RSS 10x / 1x",
		"RATIO flood scan json / grep wall", "RATIO flood scan sarif / grep wall", "MEM   flood scan json peak RSS",
		"MEM   daemon steady RSS", "MEM   daemon steady RSS (state.dir, 460MiB)", "findings by rule: ", "RATIO k-change audit CPU: k=1000 / k=100",
		"a poll that changed k=10    objects: ", "RATIO daemon k-change poll: k=1000 / k=100", "RATIO daemon k-change poll: k=100 / full scan",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q", want)
		}
	}
}
