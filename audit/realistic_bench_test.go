package audit_test

import (
	"bytes"
	"syscall"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/internal/gen"
	"github.com/spnaudit/spnaudit/ldapscan"
)

// BenchmarkRunRealistic runs audit.Run on the realistic export of issue 9
// (internal/gen: 250,000 computers, 5,000 SQL service accounts, 50
// duplicates; 1,010,050 SPNs), read as spnaudit scan --ldif reads it. The
// goal is the audit's part of scan's wall time against the grep pipeline.
func BenchmarkRunRealistic(b *testing.B) {
	var buf bytes.Buffer
	if _, err := gen.WriteRealistic(&buf, gen.RealisticComputers, gen.RealisticServices, gen.RealisticDuplicates); err != nil {
		b.Fatal(err)
	}
	res, err := ldapscan.ReadLDIF(&buf, "realistic.ldif")
	if err != nil {
		b.Fatal(err)
	}
	buf = bytes.Buffer{}
	var ar audit.Result
	cpu := processCPU(b)
	for b.Loop() {
		ar = audit.Run(res.Snapshot, audit.Config{})
	}
	b.ReportMetric((processCPU(b)-cpu).Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(len(ar.Findings)), "findings")
}

// processCPU is the CPU time (user and system) the process has used: on a
// shared machine it varies less than wall time.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
