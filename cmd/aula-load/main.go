// Command aula-load is Aula's load generator: it joins publishers and
// subscribers to a running Aula server through the real BigBlueButton API
// and WebSocket, sends synthetic Opus and simulcast VP8 through the SFU for
// a bounded time, and prints a Markdown table row and JSON with forwarded
// packets, server CPU per packet, RSS, loss, latency and join time. It
// talks to loopback servers only in the documented set-up
// (docs/performance.md) and stops by itself.
//
//	aula-load -url http://127.0.0.1:18080 -secret S \
//	    -audio-publishers 5 -subscribers 500 -duration 30s
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
	"time"

	"aula/loadgen"
)

func main() {
	code, err := run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "aula-load:", err)
	}
	os.Exit(code)
}

func run(args []string, stdout, stderr io.Writer, getenv func(string) string) (int, error) {
	o, f, err := parseFlags(args, stderr, getenv)
	if err != nil {
		return 2, err
	}
	if f.cpuProfile != "" {
		// The generator's own profile, to see what it costs beside the
		// server it measures.
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return 2, err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return 2, err
		}
		defer pprof.StopCPUProfile()
	}
	jsonPath := f.jsonPath
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := loadgen.Run(ctx, o)
	if errors.Is(err, loadgen.ErrOptions) {
		return 2, err
	}
	if err != nil {
		return 1, err
	}
	fmt.Fprintln(stdout, loadgen.MarkdownHeader())
	fmt.Fprintln(stdout, res.MarkdownRow())
	fmt.Fprintln(stdout)
	js := res.JSON()
	if jsonPath != "" {
		if err := os.WriteFile(jsonPath, []byte(js+"\n"), 0o644); err != nil {
			return 1, err
		}
	} else {
		fmt.Fprintln(stdout, js)
	}
	if res.Failed > 0 {
		return 1, fmt.Errorf("%d clients failed during the run", res.Failed)
	}
	return 0, nil
}

// parseFlags turns the command line into Options. -publishers N is a
// shorthand: all audio, or the rest of N beside the -audio-/-video-
// count given.
type extraFlags struct{ jsonPath, cpuProfile string }

func parseFlags(args []string, stderr io.Writer, getenv func(string) string) (loadgen.Options, extraFlags, error) {
	var ef extraFlags
	fs := flag.NewFlagSet("aula-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o loadgen.Options
	fs.StringVar(&o.URL, "url", "http://127.0.0.1:8080", "server base URL (its AULA_PUBLIC_URL)")
	fs.StringVar(&o.Secret, "secret", getenv("AULA_SECRET"), "BigBlueButton shared secret (default $AULA_SECRET)")
	fs.StringVar(&o.MeetingID, "meeting", "", "meeting ID to create (default: random)")
	total := fs.Int("publishers", -1, "publishers in all (all audio unless -audio-/-video-publishers say otherwise)")
	audio := fs.Int("audio-publishers", -1, "publishers sending a microphone (Opus, 50 packets/s)")
	video := fs.Int("video-publishers", -1, "publishers sending a camera (VP8 simulcast q/h/f, 150/500/1500 kbit/s)")
	fs.IntVar(&o.Subscribers, "subscribers", 0, "subscribers (receive only)")
	fs.DurationVar(&o.Duration, "duration", 20*time.Second, "measurement window (after everyone joined)")
	fs.DurationVar(&o.Warmup, "warmup", 3*time.Second, "pause between the last join and the window")
	fs.IntVar(&o.JoinConcurrency, "join-concurrency", 8, "clients joining at once")
	fs.DurationVar(&o.JoinTimeout, "join-timeout", 30*time.Second, "longest one join may take (API call to first media packet)")
	fs.StringVar(&o.VideoLayer, "video-layer", "h", "display size subscribers report for cameras: q, h, f, mix, or none (server's choice)")
	fs.DurationVar(&o.KeyframeInterval, "keyframe-interval", 10*time.Second, "cameras send a keyframe this often unasked (besides on PLI)")
	fs.IntVar(&o.ClientRcvBuf, "client-rcvbuf", 1<<20, "receive buffer of each client socket in bytes (capped by net.core.rmem_max; -1: kernel default)")
	fs.StringVar(&ef.jsonPath, "json", "", "write the JSON result to this file instead of stdout")
	fs.StringVar(&ef.cpuProfile, "cpuprofile", "", "write the generator's own CPU profile to this file")
	verbose := fs.Bool("v", false, "log progress to stderr")
	if err := fs.Parse(args); err != nil {
		return o, ef, err
	}
	if fs.NArg() > 0 {
		return o, ef, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.VideoLayer == "none" {
		o.VideoLayer = ""
	}
	switch {
	case *audio >= 0 && *video >= 0:
		if *total >= 0 && *total != *audio+*video {
			return o, ef, fmt.Errorf("-publishers %d is not -audio-publishers %d + -video-publishers %d", *total, *audio, *video)
		}
		o.AudioPublishers, o.VideoPublishers = *audio, *video
	case *audio >= 0:
		o.AudioPublishers, o.VideoPublishers = *audio, max(*total-*audio, 0)
	case *video >= 0:
		o.VideoPublishers, o.AudioPublishers = *video, max(*total-*video, 0)
	default:
		o.AudioPublishers = max(*total, 1)
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	o.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	return o, ef, nil
}
