// Command aula-calls places N concurrent phone calls into a running Aula
// server's SIP gateway (the scriptable test phone of dialin/siptest), types
// the room's PIN, lets some callers speak and reports the server's CPU per
// call with the gateway mixing the room's audio for every caller, read
// from the server's /metrics (process_cpu_seconds_total), so only the
// server's own cost counts. It is the phone side of the load generator
// (cmd/aula-load); loopback servers only, as documented in
// docs/performance.md.
//
//	aula-calls -url http://127.0.0.1:18080 -secret S -sip 127.0.0.1:15060 \
//	    -calls 50 -speakers 3 -duration 20s
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
	"time"

	"aula/loadgen"
)

func main() {
	code, err := run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "aula-calls:", err)
	}
	os.Exit(code)
}

func run(args []string, stdout, stderr io.Writer, getenv func(string) string) (int, error) {
	fs := flag.NewFlagSet("aula-calls", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o loadgen.CallOptions
	fs.StringVar(&o.URL, "url", "http://127.0.0.1:8080", "server base URL (its AULA_PUBLIC_URL)")
	fs.StringVar(&o.Secret, "secret", getenv("AULA_SECRET"), "BigBlueButton shared secret (default $AULA_SECRET)")
	fs.StringVar(&o.SIP, "sip", "127.0.0.1:5060", "the server's SIP address (AULA_SIP_ADDR)")
	fs.IntVar(&o.Calls, "calls", 10, "concurrent calls")
	fs.IntVar(&o.Speakers, "speakers", 3, "callers sending a tone; the others send silence")
	fs.DurationVar(&o.Duration, "duration", 20*time.Second, "measurement window (after every caller joined)")
	fs.DurationVar(&o.Warmup, "warmup", 3*time.Second, "pause between the last join and the window")
	fs.DurationVar(&o.Idle, "idle", 5*time.Second, "window measuring the idle server before the calls (0: skip)")
	fs.IntVar(&o.DialConcurrency, "dial-concurrency", 8, "calls set up at once")
	header := fs.Bool("header", true, "print the Markdown table header")
	verbose := fs.Bool("v", false, "log progress to stderr")
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	if fs.NArg() > 0 {
		return 2, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *verbose {
		o.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	} else {
		// The phones' SIP stack logs to the default logger; its warnings on
		// hang-up are noise here.
		slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := loadgen.RunCalls(ctx, o)
	if errors.Is(err, loadgen.ErrOptions) {
		return 2, err
	}
	if err != nil {
		return 1, err
	}
	if *header {
		fmt.Fprintln(stdout, loadgen.CallsMarkdownHeader())
	}
	fmt.Fprintln(stdout, res.MarkdownRow())
	fmt.Fprintln(stdout, res.JSON())
	return 0, nil
}
