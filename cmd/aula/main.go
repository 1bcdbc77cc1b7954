// Command aula is the Aula server: BigBlueButton-compatible video-conference
// rooms with an SFU and phone dial-in. With no subcommand it serves.
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
	"sort"
	"strings"
	"syscall"
	"time"

	"aula/app"
)

// command is one subcommand: args are those after its name. Output goes to
// stdout and stderr given, so tests run commands in-process.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

// commands are the subcommands of aula. Files of this package add theirs
// in init (privacy.go, logs.go …); serve is the default.
var commands = map[string]command{
	"serve":   {"run the server (the default)", func(args []string, stdout, stderr io.Writer) error { return serve(args, stdout, stderr) }},
	"version": {"print the version", func(args []string, stdout, _ io.Writer) error { return version(stdout) }},
}

func init() {
	// Registered here: usage reads commands, which a literal entry cannot refer to.
	commands["help"] = command{"list the subcommands", func(_ []string, stdout, _ io.Writer) error { usage(stdout); return nil }}
}

// errUsage is a mistake in the command line; the message says which.
var errUsage = errors.New("usage")

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "aula:", err)
		}
		os.Exit(2)
	}
}

// run picks the subcommand. Without one, or when the first argument is a
// flag, it serves; an unknown word is an error, never a server started by
// accident.
func run(args []string, stdout, stderr io.Writer) error {
	name := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	c, ok := commands[name]
	if !ok {
		usage(stderr)
		return fmt.Errorf("%w: unknown command %q", errUsage, name)
	}
	return c.run(args, stdout, stderr)
}

func usage(w io.Writer) {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: aula [command] [flags]")
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
}

// buildVersion is set at link time (-ldflags "-X main.buildVersion=1.2.3");
// otherwise the module's build information is used.
var buildVersion = ""

func serve(args []string, stdout, stderr io.Writer) error {
	cfg, err := app.Load(args, os.Getenv)
	if err != nil {
		return err
	}
	if err := app.RequireSecret(cfg, os.Getenv); err != nil {
		return err
	}
	log, closer, err := app.NewLogger(cfg, stderr)
	if err != nil {
		return err
	}
	defer closer.Close()
	// Signals from the start: a SIGTERM during start-up still drains.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	ctx := context.Background()
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	if err := a.Start(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Aula is running at %s\n", a.URL())
	fmt.Fprintf(stdout, "BigBlueButton API: %s/bigbluebutton/api/\n", a.URL())
	if a.SecretGenerated() {
		// Printed once, on purpose: the operator needs it to connect a platform.
		fmt.Fprintf(stdout, "Shared secret (generated; set AULA_SECRET to keep one): %s\n", a.Secret())
	}
	if cfg.Demo {
		mod, viewer, err := a.DemoLinks(ctx)
		if err != nil {
			log.Warn("demo room", "err", err)
		} else {
			fmt.Fprintf(stdout, "\nTry a room: open these in two browser tabs\n  moderator: %s\n  viewer:    %s\n\n", mod, viewer)
		}
	}
	return lifecycle(a, cfg.DrainTimeout, sigs, log)
}

// node is what lifecycle drives (an *app.App; a fake in tests).
type node interface {
	Drain(ctx context.Context)
	Close(ctx context.Context) error
	ReloadTLS() error
}

// closeTimeout bounds the end: ending and wiping what is left, closing
// the servers and the store.
const closeTimeout = 30 * time.Second

// lifecycle runs the node until it is told to stop. SIGHUP reads the
// certificates again. SIGTERM drains: no new meetings, running ones go on
// for up to drain; a second SIGTERM or a SIGINT cuts that short. SIGINT
// (Ctrl-C) stops at once. However it stops, every meeting still running
// here is ended and every key and file of it wiped before the servers
// close.
func lifecycle(a node, drain time.Duration, sigs <-chan os.Signal, log *slog.Logger) error {
	reload := func() {
		if err := a.ReloadTLS(); err != nil {
			log.Warn("SIGHUP: certificates not reloaded", "err", err)
			return
		}
		log.Info("SIGHUP: certificates reloaded")
	}
	for first := true; first; {
		switch <-sigs {
		case syscall.SIGHUP:
			reload()
			continue
		case syscall.SIGTERM:
			if drain > 0 {
				drainUntil(a, drain, sigs, log, reload)
			}
		default:
			log.Info("stopping now: every meeting ends")
		}
		first = false
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	return a.Close(ctx)
}

// drainUntil drains for up to d; another SIGTERM or SIGINT ends the drain
// at once (Drain then ends and wipes the meetings left).
func drainUntil(a node, d time.Duration, sigs <-chan os.Signal, log *slog.Logger, reload func()) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Drain(ctx)
	}()
	for {
		select {
		case <-done:
			return
		case s := <-sigs:
			if s == syscall.SIGHUP {
				reload()
				continue
			}
			log.Info("second signal: ending the drain now", "signal", s.String())
			cancel()
		}
	}
}
