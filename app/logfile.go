package app

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"aula/logs"
)

// NewLogger returns the server logger (package logs): with LogDir, JSON
// lines with personal data in the day files there, purged hourly; stderr
// never carries personal data (without LogDir none is logged at all). The
// closer stops the purge and closes the file.
func NewLogger(cfg Config, stderr io.Writer) (*slog.Logger, io.Closer, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToUpper(cfg.LogLevel))); err != nil {
		return nil, nil, fmt.Errorf("log level: %w", err)
	}
	return logs.New(logs.Options{
		Dir: cfg.LogDir, Level: level, Stderr: stderr,
		Retention: cfg.LogRetention, AccessRetention: cfg.AccessLogRetention,
	})
}
