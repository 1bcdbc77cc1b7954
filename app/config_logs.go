package app

import (
	"time"

	"aula/logs"
)

// LogSettings are the server log's settings: where it goes and how long
// its entries live (package logs).
type LogSettings struct {
	// LogDir, when set, receives the server log as JSON lines, one file
	// per UTC day, with the personal data operation needs (full client
	// addresses and browsers on join lines, a caller's full number);
	// stderr gets the same lines without personal data. Empty: stderr
	// only, and no personal data is logged at all (journald, which
	// collects stderr, is beyond Aula's retention).
	LogDir string `name:"log-dir" json:"log_dir" help:"directory for the server log (JSON lines, one file per day); empty: stderr only"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `name:"log-level" json:"log_level" help:"debug, info, warn or error"`
	// LogRetention: a conference's entries are deleted this long after
	// it ended (the privacy notice's four weeks).
	LogRetention time.Duration `name:"log-retention" json:"log_retention" help:"how long a conference's log entries are kept after it ended"`
	// AccessLogRetention: entries outside any conference (web access
	// lines with a truncated address, start-up, refused calls) are
	// deleted this long after they were written.
	AccessLogRetention time.Duration `name:"access-log-retention" json:"access_log_retention" help:"how long log entries outside any conference (web access lines) are kept"`
}

func defaultLogSettings() LogSettings {
	return LogSettings{
		LogLevel:           "info",
		LogRetention:       logs.DefaultRetention,
		AccessLogRetention: logs.DefaultAccessRetention,
	}
}

func (s *LogSettings) validate(bad func(name, format string, a ...any)) {
	switch s.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log-level", "%q is not debug, info, warn or error", s.LogLevel)
	}
	// Below an hour a purge (hourly) could not keep the promise anyway.
	if s.LogRetention < time.Hour {
		bad("log-retention", "must be at least 1h (default 672h, four weeks)")
	}
	if s.AccessLogRetention < time.Hour {
		bad("access-log-retention", "must be at least 1h (default 168h, seven days)")
	}
}

// logDir is the log directory as the privacy commands work on it.
func (s *LogSettings) logDir() *logs.Dir {
	return &logs.Dir{Path: s.LogDir, Retention: s.LogRetention, AccessRetention: s.AccessLogRetention}
}

// LogDirectory returns the configured log directory for `aula logs` and
// `aula privacy`; ErrNoDir without AULA_LOG_DIR.
func (c *Config) LogDirectory() (*logs.Dir, error) {
	if c.LogDir == "" {
		return nil, logs.ErrNoDir
	}
	return c.logDir(), nil
}
