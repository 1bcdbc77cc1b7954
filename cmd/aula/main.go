// Command aula is the Aula server: BigBlueButton-compatible video-conference
// rooms with an SFU and phone dial-in. With no subcommand it serves.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"aula/app"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "aula:", err)
		}
		os.Exit(2)
	}
}

func run(args []string) error {
	if len(args) > 0 && args[0] == "serve" {
		args = args[1:]
	}
	cfg, err := app.Load(args, os.Getenv)
	if err != nil {
		return err
	}
	log, closer, err := app.NewLogger(cfg, os.Stderr)
	if err != nil {
		return err
	}
	defer closer.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	if err := a.Start(); err != nil {
		return err
	}
	fmt.Printf("Aula is running at %s\n", a.URL())
	fmt.Printf("BigBlueButton API: %s/bigbluebutton/api/\n", a.URL())
	if a.SecretGenerated() {
		// Printed once, on purpose: the operator needs it to connect a platform.
		fmt.Printf("Shared secret (generated; set AULA_SECRET to keep one): %s\n", a.Secret())
	}
	if cfg.Demo {
		mod, viewer, err := a.DemoLinks(ctx)
		if err != nil {
			log.Warn("demo room", "err", err)
		} else {
			fmt.Printf("\nTry a room: open these in two browser tabs\n  moderator: %s\n  viewer:    %s\n\n", mod, viewer)
		}
	}
	<-ctx.Done()
	log.Info("draining")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return a.Close(sctx)
}
