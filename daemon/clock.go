package daemon

import "time"

// Clock is the daemon's time source: the schedule reads it, so tests drive
// the schedule with a fake one. Scan deadlines are contexts and use real time.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

// realClock is the system clock.
type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
