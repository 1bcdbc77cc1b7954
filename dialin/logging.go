package dialin

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"sync/atomic"
	"time"
)

// minLevel is the handler sipgo logs through: it drops records below a
// level, whatever the wrapped handler allows, and keeps the calling number
// out of what sipgo logs of a message it could not parse.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(as), h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.min}
}

// Handle logs a parse failure (sipgo's "failed to parse", at Error) with
// the message's size instead of the message itself and the error without
// the header text some of sipgo's parse errors quote: the From header
// holds the calling number and name, which reach the log only once, with
// the call ID (privacy.go).
func (h minLevel) Handle(ctx context.Context, r slog.Record) error {
	if r.Message != "failed to parse" {
		return h.Handler.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "data":
			a = slog.Int("bytes", len(a.Value.String()))
		case "error":
			a = slog.String("error", parseErrorKind(a.Value.String()))
		}
		out.AddAttrs(a)
		return true
	})
	return h.Handler.Handle(ctx, out)
}

var quoted = regexp.MustCompile(`'[^']*'|"[^"]*"`)

// parseErrorKind is a parse error's text up to the first colon, with
// anything quoted left out: "CSeq field should have precisely one
// whitespace section: '…'" → "CSeq field should have precisely one
// whitespace section".
func parseErrorKind(s string) string {
	s, _, _ = strings.Cut(s, ":")
	s = quoted.ReplaceAllString(s, "…")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

// logGate lets a burst of log lines through, then a few a second, and
// counts the ones it held back: a flood of refused requests or
// connections must not become a flood of log lines. It runs on the wall
// clock, not Config.Now.
type logGate struct {
	lim  *limiter
	held atomic.Uint64
}

func newLogGate() *logGate {
	return &logGate{lim: newLimiter(RateLimit{Burst: 20, Every: 200 * time.Millisecond}, time.Now)}
}

// allow reports whether to log a line now and, if so, how many were held
// back since the last one.
func (g *logGate) allow() (ok bool, held uint64) {
	if !g.lim.take("") {
		g.held.Add(1)
		return false, 0
	}
	return true, g.held.Swap(0)
}
