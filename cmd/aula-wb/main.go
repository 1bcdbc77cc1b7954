// Command aula-wb is the whiteboard side of Aula's load generator: it
// joins N participants (default 100) to a running Aula server through the
// real BigBlueButton API and WebSocket, without media; the first is the
// presenter and lets as many viewers draw as the target rate needs, and
// the drawers draw growing pen strokes (wb.drawing, then a wb.draw
// commit) on the blank page at that rate. It prints a Markdown table row
// and JSON: messages sent and delivered per second, loss, latency,
// refusals (rate_limited), and the server's CPU and RSS from its /metrics.
// Loopback servers only, as documented in docs/performance.md; it stops
// by itself.
//
//	aula-wb -url http://127.0.0.1:18080 -secret S -participants 100 -rate 60 -duration 20s
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
	"runtime/pprof"
	"syscall"

	"aula/loadgen"
)

func main() {
	code, err := run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "aula-wb:", err)
	}
	os.Exit(code)
}

type extraFlags struct {
	loadgen.Output
	cpuProfile string
}

func run(args []string, stdout, stderr io.Writer, getenv func(string) string) (int, error) {
	o, f, err := parseFlags(args, stderr, getenv)
	if err != nil {
		return 2, err
	}
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return 2, fmt.Errorf("cpu profile: %w", err)
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return 2, fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := loadgen.RunWhiteboard(ctx, o)
	if errors.Is(err, loadgen.ErrOptions) {
		return 2, err
	}
	if err != nil {
		return 1, err
	}
	if err := f.Write(stdout, loadgen.WBMarkdownHeader(), res); err != nil {
		return 1, err
	}
	return 0, nil
}

func parseFlags(args []string, stderr io.Writer, getenv func(string) string) (loadgen.WBOptions, extraFlags, error) {
	var ef extraFlags
	fs := flag.NewFlagSet("aula-wb", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o loadgen.WBOptions
	o.AddFlags(fs, getenv)
	fs.IntVar(&o.Participants, "participants", 100, "participants in all, the presenter included")
	fs.Float64Var(&o.Rate, "rate", 20, "whiteboard messages per second, all drawers together (wb.drawing and wb.draw)")
	fs.IntVar(&o.Drawers, "drawers", 0, "drawers sharing the rate: the presenter and viewers it lets draw (0: as few as keep each under -per-drawer)")
	fs.Float64Var(&o.PerDrawer, "per-drawer", 50, "highest rate of one drawer when -drawers is 0 (the server allows 60/s after a burst of 120)")
	fs.IntVar(&o.Stroke, "stroke", 10, "messages per stroke: stroke-1 wb.drawing, then one wb.draw")
	fs.IntVar(&o.Points, "points", 3, "points each message adds to the stroke")
	fs.IntVar(&o.ClearAt, "clear-at", 600, "the presenter clears the page when it holds this many shapes")
	fs.StringVar(&ef.cpuProfile, "cpuprofile", "", "write the generator's own CPU profile to this file")
	ef.AddFlags(fs, "log progress to stderr")
	if err := fs.Parse(args); err != nil {
		return o, ef, err
	}
	if fs.NArg() > 0 {
		return o, ef, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	o.Logger = ef.Logger(stderr, slog.LevelInfo)
	return o, ef, nil
}
