package config

import (
	"io"
	"log/slog"
)

// Logger returns the slog logger log.level and log.format describe, writing
// to w: logfmt is slog's TextHandler, json its JSONHandler.
func (l Log) Logger(w io.Writer) *slog.Logger {
	var level slog.Level
	// Validation restricts Level to names slog knows.
	_ = level.UnmarshalText([]byte(l.Level))
	opts := &slog.HandlerOptions{Level: level}
	if l.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
