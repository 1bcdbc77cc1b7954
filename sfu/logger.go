package sfu

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/pion/logging"
)

// pionLogs feeds Pion's leveled loggers into slog, one child logger per
// Pion scope. Pion's Info is chatty per connection, so it goes to Debug.
type pionLogs struct{ log *slog.Logger }

func (f pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{f.log.With("pion", scope)}
}

type pionLogger struct{ l *slog.Logger }

func (p pionLogger) logf(level slog.Level, format string, args ...any) {
	if !p.l.Enabled(context.Background(), level) {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if strings.Contains(msg, "Pwd") || strings.Contains(msg, "pwd") || strings.Contains(msg, "password") {
		// Pion's debug lines can carry ICE passwords: never log them.
		msg = "(message with ICE credentials withheld)"
	}
	if level >= slog.LevelWarn && (strings.Contains(msg, "closed") || strings.Contains(msg, "canceled")) {
		// Every hang-up makes Pion warn about its own closed sockets.
		level = slog.LevelDebug
		if !p.l.Enabled(context.Background(), level) {
			return
		}
	}
	p.l.Log(context.Background(), level, msg)
}

func (p pionLogger) Trace(msg string)                  { p.logf(slog.LevelDebug-4, "%s", msg) }
func (p pionLogger) Tracef(format string, args ...any) { p.logf(slog.LevelDebug-4, format, args...) }
func (p pionLogger) Debug(msg string)                  { p.logf(slog.LevelDebug, "%s", msg) }
func (p pionLogger) Debugf(format string, args ...any) { p.logf(slog.LevelDebug, format, args...) }
func (p pionLogger) Info(msg string)                   { p.logf(slog.LevelDebug, "%s", msg) }
func (p pionLogger) Infof(format string, args ...any)  { p.logf(slog.LevelDebug, format, args...) }
func (p pionLogger) Warn(msg string)                   { p.logf(slog.LevelWarn, "%s", msg) }
func (p pionLogger) Warnf(format string, args ...any)  { p.logf(slog.LevelWarn, format, args...) }
func (p pionLogger) Error(msg string)                  { p.logf(slog.LevelError, "%s", msg) }
func (p pionLogger) Errorf(format string, args ...any) { p.logf(slog.LevelError, format, args...) }
