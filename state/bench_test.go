package state

import (
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/inventory"
)

// BenchmarkRecordPoll is one poll of a forest of 50,000 accounts with
// 4 SPNs each (200,000 SPNs) in which one SPN changed: the cost the daemon
// pays every poll interval.
func BenchmarkRecordPoll(b *testing.B) {
	s, err := Open(Options{Dir: b.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	objs := make([]inventory.Object, 50_000)
	for i := range objs {
		n := strconv.Itoa(i)
		objs[i] = inventory.Object{GUID: testGUID(n), DN: "CN=svc" + n + ",OU=Apps,DC=corp,DC=example,DC=test",
			SAMAccountName: "svc" + n, SPNs: []string{"HTTP/web" + n + ".corp.example.test", "HTTP/web" + n,
				"MSSQLSvc/db" + n + ".corp.example.test:1433", "MSSQLSvc/db" + n + ".corp.example.test"}}
	}
	if _, err := s.Record(&inventory.Snapshot{Started: t0, Objects: inventory.Pointers(objs)}, nil, Poll{Mode: "full"}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		snap := &inventory.Snapshot{Started: t0.Add(time.Duration(i+1) * time.Second), Objects: inventory.Pointers(append([]inventory.Object(nil), objs...))}
		snap.Objects[i%len(objs)].SPNs = append([]string{"HTTP/new" + strconv.Itoa(i)}, objs[i%len(objs)].SPNs...)
		if _, err := s.Record(snap, nil, Poll{Mode: "incremental"}); err != nil {
			b.Fatal(err)
		}
	}
}
