// Command bench is `make bench`: it measures spnaudit against the Unix
// pipeline and ldapsearch on the same data in the same run, and prints
// each ratio of issue 9's goals with the machine's figures.
//
//	go run ./internal/bench -bin bin/spnaudit            # full size, medians of 3
//	SPNBENCH_SCALE=0.01 go run ./internal/bench -bin ... # CI smoke size
//	go run ./internal/bench gen realistic|flood|directory [-n N] > file.ldif
//	go run ./internal/bench profile -ldif file.ldif -cpu cpu.out  # scan's phases
//	go run ./internal/bench profile-live -cpu live.out            # the lab's OU=Bulk
//
// Scenarios (SPNBENCH_ONLY=realistic,flood,linear,live,daemon picks some):
//   - realistic: the 1M-SPN export; scan and inventory --ldif --format json
//     against grep | cut | sort -f | uniq -di.
//   - flood: 250,000 users whose SPNs every rule flags; scan in each format
//     against the same pipeline.
//   - linear: the realistic scan at a tenth of the size against full size.
//   - live: inventory and scan of the lab DC's OU=Bulk against ldapsearch
//     -Y GSSAPI of the same attributes (skipped when the lab is not up).
//   - daemon: RSS of the daemon over a 100,000-object directory, and what
//     a poll that changed nothing costs.
//
// Nothing here asserts a time: the figures are for people. A process that
// grows past SPNBENCH_MAX_RSS (default 6 GiB) is killed so that a
// regression cannot take a shared machine down.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spnaudit/spnaudit/internal/gen"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "gen" {
		os.Exit(genMain(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == profileLiveArg {
		os.Exit(profileLiveMain(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == profileArg {
		os.Exit(profileMain(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == daemonChildArg {
		os.Exit(daemonChild(os.Args[2:]))
	}
	bin := flag.String("bin", "bin/spnaudit", "the spnaudit binary to measure")
	flag.Parse()
	cfg := configFromEnv()
	abs, err := filepath.Abs(*bin)
	if err != nil {
		fail(err)
	}
	cfg.bin = abs
	if _, err := os.Stat(cfg.bin); err != nil {
		fail(fmt.Errorf("%s: build it first (make build)", cfg.bin))
	}
	self, err := os.Executable()
	if err != nil {
		fail(err)
	}
	cfg.self = self
	dir, err := os.MkdirTemp("", "spnbench-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	cfg.dir = dir
	if err := run(cfg, os.Stdout); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(2)
}

// config is what one invocation measures.
type config struct {
	bin, self, dir string
	scale          float64 // of the full sizes
	floodScale     float64
	runs           int
	only           map[string]bool
	maxRSS         int64 // bytes
	floodFormats   []string
}

func configFromEnv() config {
	c := config{scale: 1, runs: 3, maxRSS: 6 << 30, floodFormats: []string{"json"}}
	if v, err := strconv.ParseFloat(os.Getenv("SPNBENCH_SCALE"), 64); err == nil && v > 0 {
		c.scale = v
	}
	c.floodScale = c.scale
	if v, err := strconv.ParseFloat(os.Getenv("SPNBENCH_FLOOD_SCALE"), 64); err == nil && v > 0 {
		c.floodScale = v
	}
	if v, err := strconv.Atoi(os.Getenv("SPNBENCH_RUNS")); err == nil && v > 0 {
		c.runs = v
	}
	if v, err := strconv.ParseInt(os.Getenv("SPNBENCH_MAX_RSS_MIB"), 10, 64); err == nil && v > 0 {
		c.maxRSS = v << 20
	}
	if v := os.Getenv("SPNBENCH_FLOOD_FORMATS"); v != "" {
		c.floodFormats = strings.Split(v, ",")
	}
	if v := os.Getenv("SPNBENCH_ONLY"); v != "" {
		c.only = map[string]bool{}
		for _, s := range strings.Split(v, ",") {
			c.only[strings.TrimSpace(s)] = true
		}
	}
	return c
}

func (c config) wants(scenario string) bool { return c.only == nil || c.only[scenario] }

func scaled(n int, scale float64) int { return max(1, int(float64(n)*scale+0.5)) }

// genMain writes one export to stdout.
func genMain(args []string) int {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	n := fs.Int("n", 0, "computers (realistic), users (flood) or objects (directory); 0: full size")
	if len(args) < 1 {
		fmt.Fprintln(os.Stderr, "usage: bench gen realistic|flood|directory [-n N]")
		return 2
	}
	kind := args[0]
	_ = fs.Parse(args[1:])
	var st gen.Stats
	var err error
	switch kind {
	case "realistic":
		st, err = writeRealistic(os.Stdout, *n)
	case "flood":
		st, err = gen.WriteFlood(os.Stdout, orDefault(*n, gen.FloodUsers))
	case "directory":
		st, err = gen.WriteDirectory(os.Stdout, orDefault(*n, gen.DirectoryObjects))
	default:
		err = fmt.Errorf("unknown export %q: realistic, flood or directory", kind)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench gen:", err)
		return 2
	}
	fmt.Fprintf(os.Stderr, "%d entries, %d objects, %d SPNs, %d duplicates, %d bytes\n", st.Entries, st.Objects, st.SPNs, st.Duplicates, st.Bytes)
	return 0
}

func orDefault(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

// writeRealistic writes the realistic export for computers computers,
// with services and duplicates in the proportion of the full size.
func writeRealistic(w io.Writer, computers int) (gen.Stats, error) {
	computers = orDefault(computers, gen.RealisticComputers)
	scale := float64(computers) / gen.RealisticComputers
	services := scaled(gen.RealisticServices, scale)
	return gen.WriteRealistic(w, computers, services, min(services/2, scaled(gen.RealisticDuplicates, scale)))
}
