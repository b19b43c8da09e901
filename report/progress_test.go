package report

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestProgressLineDisabledWritesNothing(t *testing.T) {
	var buf bytes.Buffer
	l := NewProgressLine(&buf, false)
	l.Update(Progress{NamingContext: "DC=example,DC=test", Objects: 1000, Pages: 1})
	l.Done()
	if buf.Len() != 0 {
		t.Errorf("disabled progress wrote %q", buf.String())
	}
}

func TestProgressLine(t *testing.T) {
	var buf bytes.Buffer
	l := NewProgressLine(&buf, true)
	clock := l.start
	l.now = func() time.Time { return clock }

	step := func(elapsed time.Duration, p Progress, want string) {
		t.Helper()
		buf.Reset()
		clock = l.start.Add(elapsed)
		l.Update(p)
		if got := buf.String(); got != want {
			t.Errorf("Update(%+v) wrote\n%q\nwant\n%q", p, got, want)
		}
		if line := strings.TrimSuffix(strings.TrimPrefix(buf.String(), "\r"), "\x1b[K"); len([]rune(line)) > progressWidth {
			t.Errorf("line of %d columns: %q", len([]rune(line)), line)
		}
	}
	step(0, Progress{NamingContext: "DC=example,DC=test", Objects: 0, Pages: 0},
		"\rDC=example,DC=test: 0 objects, 0 pages · total 0 at 0/s · 0.0s\x1b[K")
	step(2*time.Second, Progress{NamingContext: "DC=example,DC=test", Objects: 1000, Pages: 1},
		"\rDC=example,DC=test: 1,000 objects, 1 page · total 1,000 at 500/s · 2.0s\x1b[K")
	step(4*time.Second, Progress{NamingContext: "DC=example,DC=test", Objects: 2500, Pages: 3},
		"\rDC=example,DC=test: 2,500 objects, 3 pages · total 2,500 at 625/s · 4.0s\x1b[K")
	// A new naming context: its own counts, the total carries on.
	step(5*time.Second, Progress{NamingContext: "DC=child,DC=example,DC=test", Objects: 500, Pages: 1},
		"\rDC=child,DC=example,DC=test: 500 objects, 1 page · total 3,000 at 600/s · 5.0s\x1b[K")
	// A long context is cut at the end to fit 79 columns.
	long := "DC=" + strings.Repeat("sub,DC=", 12) + "example,DC=test"
	step(90*time.Second, Progress{NamingContext: long, Objects: 123456, Pages: 124},
		"\rDC=sub,DC=sub,D…: 123,456 objects, 124 pages · total 126,456 at 1,405/s · 1m30s\x1b[K")

	buf.Reset()
	l.Done()
	if got := buf.String(); got != "\r\x1b[K" {
		t.Errorf("Done wrote %q; want the line erased", got)
	}
	buf.Reset()
	l.Done()
	if buf.Len() != 0 {
		t.Errorf("second Done wrote %q", buf.String())
	}
}

// The scanner calls Update from its goroutine while the command may call
// Done; run with -race.
func TestProgressLineConcurrent(t *testing.T) {
	var buf bytes.Buffer
	l := NewProgressLine(&buf, true)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				l.Update(Progress{NamingContext: "DC=example,DC=test", Objects: g*100 + i, Pages: i})
			}
		}()
	}
	wg.Wait()
	l.Done()
	if !strings.HasSuffix(buf.String(), "\r\x1b[K") {
		t.Error("line not erased at the end")
	}
}
