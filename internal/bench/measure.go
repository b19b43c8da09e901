package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// sample is one run of a command.
type sample struct {
	wall    time.Duration
	cpu     time.Duration // user + system, children included
	peakRSS int64         // bytes; for a pipeline, its largest process
	out     int64         // bytes written to stdout
	rules   map[string]int
	stdout  string // kept when asked (small outputs)
	killed  bool   // past the RSS limit
}

// measurement is the median of a command's runs.
type measurement struct {
	name    string
	samples []sample
}

func (m measurement) median(f func(sample) float64) float64 {
	v := make([]float64, len(m.samples))
	for i, s := range m.samples {
		v[i] = f(s)
	}
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	return v[len(v)/2]
}

func (m measurement) wall() time.Duration {
	return time.Duration(m.median(func(s sample) float64 { return float64(s.wall) }))
}
func (m measurement) cpu() time.Duration {
	return time.Duration(m.median(func(s sample) float64 { return float64(s.cpu) }))
}
func (m measurement) rss() int64 {
	return int64(m.median(func(s sample) float64 { return float64(s.peakRSS) }))
}
func (m measurement) killed() bool {
	return slices.ContainsFunc(m.samples, func(s sample) bool { return s.killed })
}
func (m measurement) last() sample { return m.samples[len(m.samples)-1] }

// command describes how to run one measured program.
type command struct {
	name string
	argv []string
	env  []string
	// ok accepts an exit status (scan exits 1 when it finds something).
	ok         func(code int) bool
	keepStdout bool
	countRules bool // count `"rule": "..."` lines of a JSON report
}

// measure runs c runs times and returns its samples.
func (cfg config) measure(c command, runs int) (measurement, error) {
	m := measurement{name: c.name}
	for range runs {
		s, err := cfg.runOnce(c)
		if err != nil {
			return m, fmt.Errorf("%s: %w", c.name, err)
		}
		m.samples = append(m.samples, s)
		if s.killed {
			break
		}
	}
	return m, nil
}

// measureInterleaved runs the commands in turn, runs rounds: on a shared
// machine or DC the load that slows one slows the others alike, so their
// ratios stay meaningful when the absolute figures are noisy.
func (cfg config) measureInterleaved(cmds []command, runs int) ([]measurement, error) {
	ms := make([]measurement, len(cmds))
	for i, c := range cmds {
		ms[i].name = c.name
	}
	for range runs {
		for i, c := range cmds {
			s, err := cfg.runOnce(c)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.name, err)
			}
			ms[i].samples = append(ms[i].samples, s)
		}
	}
	return ms, nil
}

func (cfg config) runOnce(c command) (sample, error) {
	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	cmd.Env = append(os.Environ(), c.env...)
	out := &countingWriter{rules: c.countRules, keep: c.keepStdout}
	cmd.Stdout = out
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return sample{}, err
	}
	var killed atomic.Bool
	stop := make(chan struct{})
	go watchRSS(cmd.Process, cfg.maxRSS, &killed, stop)
	err := cmd.Wait()
	wall := time.Since(start)
	close(stop)
	out.flushLine()
	s := sample{wall: wall, out: out.n, rules: out.counts, stdout: out.buf.String(), killed: killed.Load()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		s.peakRSS = ru.Maxrss << 10 // KiB on Linux
	}
	if s.killed {
		return s, nil
	}
	code := cmd.ProcessState.ExitCode()
	if err != nil && (c.ok == nil || !c.ok(code)) {
		return s, fmt.Errorf("exit %d: %v: %s", code, err, lastLines(stderr.String(), 5))
	}
	return s, nil
}

// watchRSS kills the process when its resident set passes limit.
func watchRSS(p *os.Process, limit int64, killed *atomic.Bool, stop <-chan struct{}) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if rss := vmRSS(p.Pid); rss > limit {
				killed.Store(true)
				_ = p.Kill()
				return
			}
		}
	}
}

// vmRSS is the resident set of a process in bytes, 0 when unknown.
func vmRSS(pid int) int64 {
	return statusField(fmt.Sprintf("/proc/%d/status", pid), "VmRSS:")
}

func statusField(path, field string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// countingWriter counts stdout and, for JSON reports, the findings of each
// rule, without keeping the document.
type countingWriter struct {
	n      int64
	rules  bool
	keep   bool
	buf    bytes.Buffer // kept output, or the current line when counting
	counts map[string]int
}

var ruleKey = []byte(`"rule":`)

func (w *countingWriter) Write(p []byte) (int, error) {
	n := len(p)
	w.n += int64(n)
	if w.keep {
		w.buf.Write(p)
		return n, nil
	}
	if !w.rules {
		return n, nil
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if w.buf.Len() < 4096 {
				w.buf.Write(p)
			}
			return n, nil
		}
		if w.buf.Len() < 4096 {
			w.buf.Write(p[:i])
		}
		w.flushLine()
		p = p[i+1:]
	}
	return n, nil
}

// flushLine counts the line held, if it is a finding's rule.
func (w *countingWriter) flushLine() {
	if !w.rules {
		return
	}
	line := bytes.TrimSpace(w.buf.Bytes())
	w.buf.Reset()
	if rest, ok := bytes.CutPrefix(line, ruleKey); ok {
		id := strings.Trim(strings.TrimSpace(string(rest)), `",`)
		if w.counts == nil {
			w.counts = map[string]int{}
		}
		w.counts[id]++
	}
}

// Formatting.

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func ratio(a, b float64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

// verdict says whether a figure meets its goal; the goals are printed, not
// asserted.
func verdict(ok bool) string {
	if ok {
		return "meets goal"
	}
	return "MISSES goal"
}
