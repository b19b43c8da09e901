package config

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

const day = 24 * time.Hour

// parseDuration is time.ParseDuration plus a leading whole number of days
// ("365d", "1d12h"), since password ages and intervals are spoken in days.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	days, rest, found := strings.Cut(s, "d")
	if !found {
		return time.ParseDuration(s)
	}
	n, err := strconv.ParseUint(days, 10, 16)
	if err != nil || days == "" {
		return 0, errors.New("invalid number of days")
	}
	d := time.Duration(n) * day
	if rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil {
			return 0, err
		}
		if r < 0 {
			return 0, errors.New("negative part after days")
		}
		d += r
	}
	return d, nil
}

// formatDuration writes d the way a person would configure it: "365d",
// "1h", "15s", "1h30m".
func formatDuration(d time.Duration) string {
	if d >= day && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// ParseDuration parses a duration as the configuration does: Go's units
// plus a days suffix ("7d", "1d12h").
func ParseDuration(s string) (time.Duration, error) { return parseDuration(s) }
