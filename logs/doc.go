// Package logs owns the server log on disk: the day files of the log
// directory (writer.go), the logger that sends personal data there and
// operational lines without it to stderr (logger.go, personal.go), the
// retention purge (purge.go) and the tools for data-subject requests —
// find, export, erase, hold, release (privacy.go, holds.go).
//
// Everything here works on a directory another process may be writing:
// the server appends while `aula privacy erase` or `aula logs purge`
// rewrite. Rewrites are atomic (rewrite.go) and coordinated with writers
// through flock(2) (lock_unix.go), and one rewrite runs at a time (the
// directory's lock, dir.go).
//
// Lines are slog's JSON objects. A line that is not one (a write torn by
// a crash, a foreign line) is kept byte for byte by every rewrite: it is
// deleted only by retention, as an entry outside any conference dated at
// the end of its file's day, or by an erase whose identifiers occur in
// its text. A torn last line is closed with a newline before anything is
// appended after it, so it never swallows the next.
package logs
