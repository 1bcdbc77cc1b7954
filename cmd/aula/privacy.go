package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"aula/app"
	"aula/logs"
)

// privacyNotice is "aula privacy notice"; the privacy notice generator's
// file sets it. The other privacy subcommands are here, their logic in
// package logs.
var privacyNotice func(args []string, stdout, stderr io.Writer) error

func init() {
	commands["privacy"] = command{"data-subject requests on the server log: find, export, erase, hold, release, holds; notice",
		func(args []string, stdout, stderr io.Writer) error { return privacy(args, os.Getenv, stdout, stderr) }}
	commands["logs"] = command{"the server log: purge deletes what is past its retention",
		func(args []string, stdout, stderr io.Writer) error { return logsCmd(args, os.Getenv, stdout, stderr) }}
}

const privacyUsage = `usage: aula privacy COMMAND [flags]

Data-subject requests on the server log (AULA_LOG_DIR), also while the
server runs:

  find     print a summary of a person's entries (-print: the entries too)
  export   write them as one JSON file with a summary (-o FILE, or -o -)
  erase    delete them (entries on hold stay)
  hold     keep them from purge and erase until released (-reason, -by)
  release  end a hold: aula privacy release HOLD-ID
  holds    list the holds
  notice   print the privacy notice section for this configuration

A person is found by any of -user-id, -name, -ip, -phone; -meeting and
-from/-to narrow (alone they select all of a meeting or a time). The entries
of the same participant in the same meeting, and of the same phone call,
come along. The log directory comes from -log-dir, AULA_LOG_DIR, -config or
-env-file, as for the server. Every action is logged, without the values
searched for.
`

// privacyFlags are the flags of a privacy or logs command.
type privacyFlags struct {
	fs *flag.FlagSet
	// where the configuration comes from
	envFile, config, logDir, retention, accessRetention string
	// criteria
	userID, name, ip, phone, meeting, from, to string
	// per command
	out, reason, by string
	print           bool
}

func newPrivacyFlags(name string, criteria bool, stderr io.Writer) *privacyFlags {
	f := &privacyFlags{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	f.fs.SetOutput(stderr)
	f.fs.StringVar(&f.envFile, "env-file", "", "the service's environment file (e.g. /etc/aula/aula.env)")
	f.fs.StringVar(&f.config, "config", "", "JSON config file, as for the server (env AULA_CONFIG)")
	f.fs.StringVar(&f.logDir, "log-dir", "", "the log directory (env AULA_LOG_DIR)")
	f.fs.StringVar(&f.retention, "log-retention", "", "retention of conference entries (env AULA_LOG_RETENTION)")
	f.fs.StringVar(&f.accessRetention, "access-log-retention", "", "retention of other entries (env AULA_ACCESS_LOG_RETENTION)")
	if criteria {
		f.fs.StringVar(&f.userID, "user-id", "", "the platform's userID")
		f.fs.StringVar(&f.name, "name", "", "display name (exact, any case)")
		f.fs.StringVar(&f.ip, "ip", "", "IP address (full; truncated access lines are not a person's)")
		f.fs.StringVar(&f.phone, "phone", "", "calling number, any notation")
		f.fs.StringVar(&f.meeting, "meeting", "", "the platform's meetingID or Aula's meeting key")
		f.fs.StringVar(&f.from, "from", "", "from this time (2026-03-01 or 2026-03-01T08:00:00Z)")
		f.fs.StringVar(&f.to, "to", "", "until this time (a date: to its end)")
	}
	return f
}

func (f *privacyFlags) criteria() (logs.Criteria, error) {
	c := logs.Criteria{UserID: strings.TrimSpace(f.userID), Name: strings.TrimSpace(f.name), IP: strings.TrimSpace(f.ip),
		Phone: strings.TrimSpace(f.phone), Meeting: strings.TrimSpace(f.meeting)}
	var err error
	if c.From, err = logs.ParseTime(f.from, false); err != nil {
		return c, fmt.Errorf("-from: %w", err)
	}
	if c.To, err = logs.ParseTime(f.to, true); err != nil {
		return c, fmt.Errorf("-to: %w", err)
	}
	return c, c.Validate()
}

// dir resolves the log directory as the server would: defaults, the
// config file, the environment (or -env-file), then the flags.
func (f *privacyFlags) dir(getenv func(string) string) (*logs.Dir, error) {
	if f.envFile != "" {
		vars, err := readEnvFile(f.envFile)
		if err != nil {
			return nil, err
		}
		outer := getenv
		getenv = func(k string) string {
			if v, ok := vars[k]; ok {
				return v
			}
			return outer(k)
		}
	}
	var args []string
	for _, kv := range [][2]string{{"config", f.config}, {"log-dir", f.logDir}, {"log-retention", f.retention},
		{"access-log-retention", f.accessRetention}} {
		if kv[1] != "" {
			args = append(args, "-"+kv[0], kv[1])
		}
	}
	cfg, err := app.Load(args, getenv)
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	return cfg.LogDirectory()
}

// interruptible is a context ended by Ctrl-C: a rewrite under way then
// stops between lines and leaves its file as it was.
func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func privacy(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, privacyUsage)
		if len(args) == 0 {
			return fmt.Errorf("%w: aula privacy needs a command", errUsage)
		}
		return nil
	}
	sub, args := args[0], args[1:]
	if sub == "notice" {
		if privacyNotice == nil {
			fmt.Fprintln(stdout, "aula privacy notice: not available in this build")
			return nil
		}
		return privacyNotice(args, stdout, stderr)
	}
	criteria := sub == "find" || sub == "export" || sub == "erase" || sub == "hold"
	switch sub {
	case "find", "export", "erase", "hold", "release", "holds":
	default:
		fmt.Fprint(stderr, privacyUsage)
		return fmt.Errorf("%w: unknown privacy command %q", errUsage, sub)
	}
	f := newPrivacyFlags("aula privacy "+sub, criteria, stderr)
	switch sub {
	case "find":
		f.fs.BoolVar(&f.print, "print", false, "print the entries too (they hold personal data)")
	case "export":
		f.fs.StringVar(&f.out, "o", "", "the JSON file to write (created 0600, never overwritten); - for stdout")
	case "hold":
		f.fs.StringVar(&f.reason, "reason", "", "why the entries must be kept (required)")
		f.fs.StringVar(&f.by, "by", "", "who asked for the hold (required)")
	}
	if err := f.fs.Parse(args); err != nil {
		return err
	}
	var holdID string
	switch rest := f.fs.Args(); {
	case sub == "release" && len(rest) == 1:
		holdID = rest[0]
	case sub == "release":
		return fmt.Errorf("%w: aula privacy release HOLD-ID (aula privacy holds lists them)", errUsage)
	case len(rest) > 0:
		return fmt.Errorf("%w: unexpected %q", errUsage, rest[0])
	}
	var c logs.Criteria
	if criteria {
		var err error
		if c, err = f.criteria(); err != nil {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
	}
	if sub == "export" && f.out == "" {
		return fmt.Errorf("%w: export needs -o FILE (or -o - for stdout)", errUsage)
	}
	d, err := f.dir(getenv)
	if err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	switch sub {
	case "find":
		found, err := d.Find(ctx, c)
		if err != nil {
			return err
		}
		printSummary(stdout, found.Summary)
		if f.print {
			for _, e := range found.Entries {
				fmt.Fprintf(stdout, "%s: %s\n", e.File, e.Raw)
			}
		}
	case "export":
		return export(ctx, d, c, f.out, stdout)
	case "erase":
		res, err := d.Erase(ctx, c)
		if errors.Is(err, logs.ErrTooBroad) {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "erased %d entries in %d files", res.Removed, res.Files)
		if res.Held > 0 {
			fmt.Fprintf(stdout, "; %d kept: on hold (aula privacy holds)", res.Held)
		}
		fmt.Fprintln(stdout)
	case "hold":
		h, n, err := d.AddHold(ctx, c, f.reason, f.by)
		if err != nil {
			if errors.Is(err, logs.ErrHoldReason) {
				return fmt.Errorf("%w: %w", errUsage, err)
			}
			return err
		}
		fmt.Fprintf(stdout, "hold %s: %d entries now, and those written later that match\n", h.ID, n)
	case "release":
		h, err := d.Release(holdID)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "released hold %s (%s); its entries are purged when their time has come\n", h.ID, h.Reason)
	case "holds":
		hs, err := d.Holds()
		if err != nil {
			return err
		}
		if len(hs) == 0 {
			fmt.Fprintln(stdout, "no holds")
		}
		for _, h := range hs {
			fmt.Fprintf(stdout, "%s  %s  by %s: %s\n    %s\n", h.ID, h.Created.Format(time.RFC3339), h.By, h.Reason, describe(h.Criteria))
		}
	}
	return nil
}

// export writes the JSON document to a new file (0600: it holds personal
// data) or stdout. An existing file is never overwritten: it may be an
// earlier export someone still needs.
func export(ctx context.Context, d *logs.Dir, c logs.Criteria, out string, stdout io.Writer) error {
	if out == "-" {
		_, err := d.Export(ctx, c, stdout)
		return err
	}
	fh, err := os.OpenFile(out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	sum, err := d.Export(ctx, c, fh)
	if err == nil {
		err = fh.Sync()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out)
		return err
	}
	abs, _ := filepath.Abs(out)
	fmt.Fprintf(stdout, "exported %d entries to %s\n", sum.Count, abs)
	printSummary(stdout, sum)
	return nil
}

func printSummary(w io.Writer, s logs.Summary) {
	fmt.Fprintf(w, "%d entries for %s\n", s.Count, describe(s.Criteria))
	if s.Count == 0 {
		return
	}
	fmt.Fprintf(w, "  from %s to %s\n", s.First.UTC().Format(time.RFC3339), s.Last.UTC().Format(time.RFC3339))
	for _, m := range s.Meetings {
		fmt.Fprintf(w, "  meeting %s", m.Key)
		if len(m.MeetingIDs) > 0 {
			fmt.Fprintf(w, " (%s)", strings.Join(m.MeetingIDs, ", "))
		}
		if m.Ended.IsZero() {
			fmt.Fprint(w, ", no end in this log")
		} else {
			fmt.Fprintf(w, ", ended %s", m.Ended.UTC().Format(time.RFC3339))
		}
		fmt.Fprintf(w, ": %d entries\n", m.Entries)
	}
	fmt.Fprintf(w, "  in %s\n", strings.Join(s.Files, ", "))
	if s.OnHold > 0 {
		fmt.Fprintf(w, "  %d on hold\n", s.OnHold)
	}
}

// describe spells criteria out for the operator's terminal (not the log).
func describe(c logs.Criteria) string {
	var p []string
	for _, kv := range [][2]string{{"user-id", c.UserID}, {"name", c.Name}, {"ip", c.IP}, {"phone", c.Phone}, {"meeting", c.Meeting}} {
		if kv[1] != "" {
			p = append(p, fmt.Sprintf("%s %q", kv[0], kv[1]))
		}
	}
	if !c.From.IsZero() {
		p = append(p, "from "+c.From.UTC().Format(time.RFC3339))
	}
	if !c.To.IsZero() {
		p = append(p, "until "+c.To.UTC().Format(time.RFC3339))
	}
	return strings.Join(p, ", ")
}

const logsUsage = `usage: aula logs purge [flags]

Deletes the server log's entries that are past their retention, as the
server does hourly: a conference's entries AULA_LOG_RETENTION (672h) after
it ended, all others AULA_ACCESS_LOG_RETENTION (168h) after they were
written; entries on hold stay. Safe while the server runs.
`

func logsCmd(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "purge" {
		fmt.Fprint(stderr, logsUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help") {
			return nil
		}
		return fmt.Errorf("%w: aula logs purge", errUsage)
	}
	f := newPrivacyFlags("aula logs purge", false, stderr)
	if err := f.fs.Parse(args[1:]); err != nil {
		return err
	}
	if len(f.fs.Args()) > 0 {
		return fmt.Errorf("%w: unexpected %q", errUsage, f.fs.Args()[0])
	}
	d, err := f.dir(getenv)
	if err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	res, err := d.Purge(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "purged %d entries (%d files rewritten, %d removed)", res.Removed, res.Files, res.FilesRemoved)
	if res.Held > 0 {
		fmt.Fprintf(stdout, "; %d past retention kept: on hold", res.Held)
	}
	fmt.Fprintln(stdout)
	return nil
}
