// Command aula-notes is the shared-notes side of Aula's load generator:
// it joins N editors (default 50) to a running Aula server through the
// real BigBlueButton API and WebSocket, without media, and has them all
// type into the shared notes at a target rate of operations per second,
// each an OT client as the browser's (one operation in flight, typing
// composed meanwhile). It prints a Markdown table row and JSON:
// operations sent and delivered per second, the latency from one editor's
// operation to the others' screens (p50/p99), refusals, whether every
// replica converged, and the server's CPU and RSS from its /metrics.
// Loopback servers only, as documented in docs/performance.md; it stops
// by itself.
//
//	aula-notes -url http://127.0.0.1:18080 -secret S -editors 50 -rate 200 -duration 20s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"aula/loadgen"
)

func main() {
	code, err := run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "aula-notes:", err)
	}
	os.Exit(code)
}

func run(args []string, stdout, stderr io.Writer, getenv func(string) string) (int, error) {
	o, f, err := parseFlags(args, stderr, getenv)
	if err != nil {
		return 2, err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := loadgen.RunNotes(ctx, o)
	if errors.Is(err, loadgen.ErrOptions) {
		return 2, err
	}
	if err != nil {
		return 1, err
	}
	if err := f.Write(stdout, loadgen.NotesMarkdownHeader(), res); err != nil {
		return 1, err
	}
	return 0, nil
}

func parseFlags(args []string, stderr io.Writer, getenv func(string) string) (loadgen.NotesOptions, loadgen.Output, error) {
	var ef loadgen.Output
	fs := flag.NewFlagSet("aula-notes", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o loadgen.NotesOptions
	o.AddFlags(fs, getenv)
	fs.IntVar(&o.Editors, "editors", 50, "editors in all, the first a moderator")
	fs.Float64Var(&o.Rate, "rate", 100, "note operations per second, all editors together (at most 60 per editor)")
	fs.IntVar(&o.MaxText, "max-text", 20000, "past this length every operation also deletes as much as it inserts")
	ef.AddFlags(fs, "log progress and the server's errors to stderr")
	if err := fs.Parse(args); err != nil {
		return o, ef, err
	}
	if fs.NArg() > 0 {
		return o, ef, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	o.Logger = ef.Logger(stderr, slog.LevelDebug) // progress and every error from the server
	return o, ef, nil
}
