package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/ldapscan"
	"github.com/spnaudit/spnaudit/report"
)

const profileArg = "profile"

// profileMain runs what `spnaudit scan --ldif` (or inventory) runs, phase
// by phase, with the time, the allocations and the live heap after each
// phase, and optional CPU and heap profiles for go tool pprof:
//
//	go run ./internal/bench gen realistic > r.ldif
//	go run ./internal/bench profile -ldif r.ldif -cpu cpu.out -heap heap.out
//	go tool pprof -top cpu.out
func profileMain(args []string) int {
	fs := flag.NewFlagSet(profileArg, flag.ExitOnError)
	path := fs.String("ldif", "", "LDIF export")
	format := fs.String("format", "json", "findings format, or \"inventory\" for inventory --format json")
	cpu := fs.String("cpu", "", "write a CPU profile here")
	heap := fs.String("heap", "", "write a heap (allocations) profile here, taken at the peak: before the output is written")
	trc := fs.String("trace", "", "write an execution trace here (go tool trace): where the cores wait")
	_ = fs.Parse(args)
	if *trc != "" {
		f, err := os.Create(*trc)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		defer f.Close()
		_ = trace.Start(f)
		defer trace.Stop()
	}
	if *cpu != "" {
		f, err := os.Create(*cpu)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		defer f.Close()
		_ = pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	phase := func(name string) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Fprintf(os.Stderr, "%-10s %8.2f s  total alloc %6d MiB  heap in use %5d MiB  sys %5d MiB\n",
			name, time.Since(start).Seconds(), ms.TotalAlloc>>20, ms.HeapInuse>>20, ms.Sys>>20)
		start = time.Now()
	}
	f, err := os.Open(*path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	res, err := ldapscan.ReadLDIF(f, *path) // as spnaudit does: a file
	f.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	phase("read")
	out := bufio.NewWriterSize(io.Discard, 64<<10)
	if *format == "inventory" {
		writeHeap(*heap)
		err = report.WriteInventory(out, res.Snapshot, report.FormatJSON, report.Options{})
		phase("write")
		return exit(err)
	}
	ar := audit.Run(res.Snapshot, audit.Config{})
	phase("audit")
	doc := report.NewDocument(res.Snapshot, ar.Findings, ar.SuppressedCount())
	writeHeap(*heap)
	err = report.WriteFindings(out, doc, report.Format(*format), report.Options{})
	phase("write")
	fmt.Fprintf(os.Stderr, "%d objects, %d SPNs, %d findings\n", len(res.Snapshot.Objects), res.Snapshot.SPNCount(), len(ar.Findings))
	return exit(err)
}

func writeHeap(path string) {
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		return
	}
	defer f.Close()
	_ = pprof.Lookup("allocs").WriteTo(f, 0)
}

func exit(err error) int {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return 0
}
