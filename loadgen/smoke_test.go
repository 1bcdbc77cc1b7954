package loadgen_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"aula/app"
	"aula/internal/testenv"
	"aula/loadgen"
)

// TestSmoke runs a tiny load against an in-process server: one microphone
// and one simulcast camera, three subscribers (each asking for a
// different layer), two seconds. Every subscriber must receive media,
// nothing may be lost, and the server's metrics must show the forwarding.
func TestSmoke(t *testing.T) {
	leaks := testenv.GoroutineCheck(t, 2)
	cfg := app.Defaults()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Demo = false
	cfg.Secret = "load-test-secret-0123"
	cfg.LogLevel = "warn"
	logw := io.Discard
	if os.Getenv("AULA_TEST_LOAD_LOG") != "" {
		logw = os.Stderr
	}
	log := slog.New(slog.NewTextHandler(logw, nil))
	a, err := app.New(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	closed := false
	closeApp := func() {
		if closed {
			return
		}
		closed = true
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Close(ctx)
	}
	t.Cleanup(closeApp)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := loadgen.Run(ctx, loadgen.Options{
		URL: a.URL(), Secret: cfg.Secret,
		AudioPublishers: 1, VideoPublishers: 1, Subscribers: 3,
		Duration: 2 * time.Second, Warmup: time.Second, VideoLayer: "mix",
		JoinTimeout: 15 * time.Second, Logger: log,
	})
	if errors.Is(err, loadgen.ErrNoMedia) {
		t.Fatalf("the server did not set up media for the generator's clients: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s\n%s\n%s", loadgen.MarkdownHeader(), res.MarkdownRow(), res.JSON())
	if res.Failed != 0 {
		t.Errorf("%d clients failed", res.Failed)
	}
	// 3 subscribers × (50 audio + ≥30 video packets/s) × 2 s, with room.
	if res.Received < 300 {
		t.Errorf("subscribers received %d packets in the window, want ≥ 300", res.Received)
	}
	// Subscribers asked for q, h and f in turn: each layer must arrive.
	for i, n := range res.VideoByLayer {
		if n == 0 {
			t.Errorf("no video packet of simulcast layer %d arrived (by layer: %v)", i, res.VideoByLayer)
		}
	}
	if res.Lost != 0 || res.LossPercent != 0 {
		t.Errorf("%d packets lost (%.3f %%), want none on loopback", res.Lost, res.LossPercent)
	}
	if res.PacketsPerSecond <= 0 || res.CPUPerPacketMicros <= 0 {
		t.Errorf("server metrics show no forwarding: %.0f pkt/s, %.2f µs/pkt", res.PacketsPerSecond, res.CPUPerPacketMicros)
	}
	if res.JoinP50Millis <= 0 || res.E2EP50Millis <= 0 {
		t.Errorf("join p50 %.1f ms, end-to-end p50 %.2f ms: not measured", res.JoinP50Millis, res.E2EP50Millis)
	}
	if res.ServerParticipants != 5 {
		t.Errorf("server counts %v media participants, want 5", res.ServerParticipants)
	}

	// The generator stops by itself: once the server is closed too, no
	// goroutine of either is left.
	closeApp()
	leaks()
}
