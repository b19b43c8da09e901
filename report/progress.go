package report

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Progress is how far a scan has come; it has the fields of
// ldapscan.Progress, so one converts to the other.
type Progress struct {
	NamingContext string
	Objects       int // entries read so far in this naming context
	Pages         int // pages read so far in this naming context
}

// ProgressLine redraws one status line on a terminal, e.g.
//
//	DC=example,DC=test: 12,000 objects, 12 pages · total 20,000 at 2,150/s · 9.3s
//
// A disabled ProgressLine (not a terminal, --quiet) writes nothing at all.
// Its methods may be called from the scanning goroutine.
type ProgressLine struct {
	w       io.Writer
	enabled bool
	now     func() time.Time
	start   time.Time

	mu        sync.Mutex
	current   Progress
	completed int // objects of the naming contexts already finished
	drawn     bool
}

// progressWidth keeps the line within an 80-column terminal: a line that
// wraps cannot be redrawn with \r.
const progressWidth = 79

// NewProgressLine starts the elapsed-time clock.
func NewProgressLine(w io.Writer, enabled bool) *ProgressLine {
	return &ProgressLine{w: w, enabled: enabled, now: time.Now, start: time.Now()}
}

// Update redraws the line with the scanner's latest counts.
func (l *ProgressLine) Update(p Progress) {
	if !l.enabled {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if p.NamingContext != l.current.NamingContext {
		l.completed += l.current.Objects
	}
	l.current = p
	total := l.completed + p.Objects
	elapsed := l.now().Sub(l.start)
	rate := 0
	if elapsed > 0 {
		rate = int(float64(total) / elapsed.Seconds())
	}
	tail := fmt.Sprintf(": %s, %s · total %s at %s/s · %s",
		thousands(p.Objects)+" objects", count(p.Pages, "page"), thousands(total), thousands(rate), seconds(elapsed))
	nc := []rune(Sanitize(p.NamingContext))
	if room := progressWidth - len([]rune(tail)); len(nc) > room {
		// Keep the start: it tells DC=child,DC=example,DC=test from
		// DC=example,DC=test and CN=Configuration,... apart.
		nc = append(nc[:max(room-1, 0)], '…')
	}
	fmt.Fprintf(l.w, "\r%s%s\x1b[K", string(nc), tail)
	l.drawn = true
}

// Done erases the line, so that what follows starts on a clean line.
func (l *ProgressLine) Done() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.drawn {
		io.WriteString(l.w, "\r\x1b[K")
		l.drawn = false
	}
}
