package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/internal/gen"
)

// grepPipeline is the baseline of the LDIF goals: the duplicates a shell
// one-liner finds. LC_ALL=C: the byte-order sort, the fastest baseline.
const grepPipeline = `grep -i '^servicePrincipalName: ' "$1" | cut -d' ' -f2 | sort -f | uniq -di`

// scanExit accepts scan's exit statuses: 0, and 1 (a finding at or above
// --fail-on).
func scanExit(code int) bool { return code == 0 || code == 1 }

func run(cfg config, w io.Writer) error {
	fmt.Fprintf(w, "spnaudit benchmarks (issue 9): scale %g, medians of %d, %s\n", cfg.scale, cfg.runs, machine())
	fmt.Fprintln(w, "Figures on a shared or busy machine are noisy; the ratios compare runs made side by side.")
	var realistic *realisticResult
	if cfg.wants("realistic") || cfg.wants("linear") {
		r, err := cfg.realistic(w, cfg.scale, cfg.wants("realistic"))
		if err != nil {
			return err
		}
		realistic = r
	}
	if cfg.wants("linear") {
		if err := cfg.linear(w, realistic); err != nil {
			return err
		}
	}
	if cfg.wants("flood") {
		if err := cfg.flood(w); err != nil {
			return err
		}
	}
	if cfg.wants("live") {
		if err := cfg.live(w); err != nil {
			return err
		}
	}
	if cfg.wants("daemon") {
		if err := cfg.daemon(w); err != nil {
			return err
		}
	}
	return nil
}

func machine() string {
	b, _ := os.ReadFile("/proc/loadavg")
	load, _, _ := strings.Cut(string(b), " ")
	return fmt.Sprintf("%d CPUs, load %s", numCPU(), load)
}

// export writes a generated export into the temp dir.
func (cfg config) export(name string, write func(io.Writer) (gen.Stats, error)) (string, gen.Stats, error) {
	path := filepath.Join(cfg.dir, name)
	f, err := os.Create(path)
	if err != nil {
		return "", gen.Stats{}, err
	}
	st, err := write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return path, st, err
}

func pipelineCommand(path string) command {
	return command{
		name: "grep | cut | sort -f | uniq -di", argv: []string{"bash", "-c", grepPipeline, "bench", path},
		env: []string{"LC_ALL=C"}, keepStdout: true,
	}
}

func (cfg config) pipeline(path string, runs int) (measurement, error) {
	return cfg.measure(pipelineCommand(path), runs)
}

func (cfg config) spnauditCommand(name string, args ...string) command {
	return command{
		name: name, argv: append([]string{cfg.bin}, args...), ok: scanExit, countRules: true,
		// No configuration file of the user's, no color.
		env: []string{"HOME=" + cfg.dir, "NO_COLOR=1"},
	}
}

func (cfg config) spnaudit(name string, runs int, args ...string) (measurement, error) {
	return cfg.measure(cfg.spnauditCommand(name, args...), runs)
}

type realisticResult struct {
	stats gen.Stats
	scan  measurement
}

func printRow(w io.Writer, m measurement) {
	extra := ""
	if m.killed() {
		extra = "  KILLED (RSS limit)"
	}
	fmt.Fprintf(w, "  %-44s %9s  cpu %9s  peak RSS %9s  out %9s%s\n", m.name, secs(m.wall()), secs(m.cpu()), mib(m.rss()),
		fmt.Sprintf("%.1f MB", float64(m.last().out)/1e6), extra)
}

func describe(st gen.Stats) string {
	return fmt.Sprintf("%d objects, %d SPNs, %d duplicates, %.0f MB of LDIF", st.Objects, st.SPNs, st.Duplicates, float64(st.Bytes)/1e6)
}

// realistic measures the realistic export; with report false it only
// measures the scan, for the linearity check.
func (cfg config) realistic(w io.Writer, scale float64, report bool) (*realisticResult, error) {
	computers := scaled(gen.RealisticComputers, scale)
	path, st, err := cfg.export(fmt.Sprintf("realistic-%d.ldif", computers), func(f io.Writer) (gen.Stats, error) { return writeRealistic(f, computers) })
	if err != nil {
		return nil, err
	}
	defer os.Remove(path)
	res := &realisticResult{stats: st}
	if !report {
		res.scan, err = cfg.spnaudit("scan --ldif --format json", cfg.runs, "scan", "--ldif", path, "--format", "json")
		return res, err
	}
	fmt.Fprintf(w, "\n== Realistic export: %s\n", describe(st))
	ms, err := cfg.measureInterleaved([]command{
		pipelineCommand(path),
		cfg.spnauditCommand("spnaudit scan --ldif --format json", "scan", "--ldif", path, "--format", "json"),
		cfg.spnauditCommand("spnaudit inventory --ldif --format json", "inventory", "--ldif", path, "--format", "json"),
	}, cfg.runs)
	if err != nil {
		return nil, err
	}
	grep, scan, inv := ms[0], ms[1], ms[2]
	res.scan = scan
	for _, m := range []measurement{grep, scan, inv} {
		printRow(w, m)
	}
	dups := len(strings.Fields(grep.last().stdout))
	found := scan.last().rules[audit.RuleDuplicateSPN]
	fmt.Fprintf(w, "  duplicates: grep %d, spnaudit %d, generated %d\n", dups, found, st.Duplicates)
	if dups != st.Duplicates || found != st.Duplicates {
		return nil, fmt.Errorf("realistic export: grep found %d duplicates and spnaudit %d, want %d", dups, found, st.Duplicates)
	}
	fmt.Fprintf(w, "  (CPU, steadier on a loaded machine: scan / grep %s, inventory / grep %s)\n",
		ratio(scan.cpu().Seconds(), grep.cpu().Seconds()), ratio(inv.cpu().Seconds(), grep.cpu().Seconds()))
	goal(w, "realistic scan / grep wall", scan.wall().Seconds(), grep.wall().Seconds(), 1.0)
	goal(w, "realistic inventory / grep wall", inv.wall().Seconds(), grep.wall().Seconds(), 1.5)
	memGoal(w, "realistic scan peak RSS", scan.rss(), 500<<20)
	memGoal(w, "realistic inventory peak RSS", inv.rss(), 500<<20)
	return res, nil
}

// goal prints a ratio and whether it meets its goal.
func goal(w io.Writer, what string, a, b, max float64) {
	fmt.Fprintf(w, "  RATIO %-40s %8s  (goal <= %.2fx)  %s\n", what, ratio(a, b), max, verdict(b > 0 && a/b <= max))
}

func memGoal(w io.Writer, what string, rss, max int64) {
	fmt.Fprintf(w, "  MEM   %-40s %8s  (goal <= %s)  %s\n", what, mib(rss), mib(max), verdict(rss <= max))
}

// linear compares the realistic scan at a tenth of the size with the full
// one.
func (cfg config) linear(w io.Writer, full *realisticResult) error {
	if full == nil {
		var err error
		if full, err = cfg.realistic(w, cfg.scale, false); err != nil {
			return err
		}
	}
	small, err := cfg.realistic(w, cfg.scale/10, false)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n== Linearity: realistic scan at %d and %d SPNs\n", small.stats.SPNs, full.stats.SPNs)
	small.scan.name = "scan, 1x: " + describe(small.stats)
	full.scan.name = "scan, 10x: " + describe(full.stats)
	printRow(w, small.scan)
	printRow(w, full.scan)
	goal(w, "time 10x / 1x", full.scan.wall().Seconds(), small.scan.wall().Seconds(), 10.5)
	goal(w, "peak RSS 10x / 1x", float64(full.scan.rss()), float64(small.scan.rss()), 10.5)
	fmt.Fprintf(w, "  (CPU 10x / 1x: %s)\n", ratio(full.scan.cpu().Seconds(), small.scan.cpu().Seconds()))
	return nil
}

// flood measures the export on which every rule fires on every SPN.
func (cfg config) flood(w io.Writer) error {
	users := scaled(gen.FloodUsers, cfg.floodScale)
	path, st, err := cfg.export("flood.ldif", func(f io.Writer) (gen.Stats, error) { return gen.WriteFlood(f, users) })
	if err != nil {
		return err
	}
	defer os.Remove(path)
	runs := 1
	fmt.Fprintf(w, "\n== Flood export: %s (one run each)\n", describe(st))
	grep, err := cfg.pipeline(path, cfg.runs)
	if err != nil {
		return err
	}
	printRow(w, grep)
	for _, format := range cfg.floodFormats {
		m, err := cfg.spnaudit("spnaudit scan --ldif --format "+format, runs, "scan", "--ldif", path, "--format", format)
		if err != nil {
			return err
		}
		printRow(w, m)
		if m.killed() {
			fmt.Fprintf(w, "  killed past SPNBENCH_MAX_RSS_MIB=%d\n", cfg.maxRSS>>20)
		}
		if format == "json" && !m.killed() {
			fmt.Fprintf(w, "  findings by rule: %s\n", formatCounts(m.last().rules))
		}
		goal(w, "flood scan "+format+" / grep wall", m.wall().Seconds(), grep.wall().Seconds(), 10)
		memGoal(w, "flood scan "+format+" peak RSS", m.rss(), 2<<30)
	}
	return nil
}

func formatCounts(m map[string]int) string {
	var keys []string
	total := 0
	for k, n := range m {
		keys = append(keys, k)
		total += n
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return fmt.Sprintf("%d: %s", total, strings.Join(parts, ", "))
}
