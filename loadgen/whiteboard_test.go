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

// TestWhiteboardSmoke runs the whiteboard scenario against an in-process
// server: ten participants, the presenter and one viewer it lets draw at
// 30 messages a second each, two seconds. Every participant must receive
// every drawing, nothing may be lost or refused, the presenter must have
// cleared the page on the way (a low clear mark), and no goroutine of
// generator or server may be left.
func TestWhiteboardSmoke(t *testing.T) {
	leaks := testenv.GoroutineCheck(t, 2)
	url, secret, log, closeApp := startLoadServer(t)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := loadgen.RunWhiteboard(ctx, loadgen.WBOptions{
		ScenarioOptions: loadgen.ScenarioOptions{URL: url, Secret: secret,
			Duration: 2 * time.Second, Warmup: time.Second, Drain: 10 * time.Second, Settle: -1,
			JoinTimeout: 15 * time.Second, Logger: log},
		Participants: 10, Rate: 60, PerDrawer: 30, Stroke: 5, Points: 2, ClearAt: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s\n%s\n%s", loadgen.WBMarkdownHeader(), res.MarkdownRow(), res.JSON())
	if res.Drawers != 2 {
		t.Errorf("%d drawers, want 2 (60/s at 30/s each)", res.Drawers)
	}
	if res.Failed != 0 {
		t.Errorf("%d participants failed", res.Failed)
	}
	// About 60/s for 2 s: 120 messages; a loaded test machine may skip
	// ticks, so ask for half.
	if sent := res.Drawings + res.Draws; sent < 60 || res.Draws == 0 || res.Drawings == 0 {
		t.Errorf("sent %d wb.drawing and %d wb.draw in the window", res.Drawings, res.Draws)
	}
	if res.Expected != 9*res.Drawings+10*res.Draws {
		t.Errorf("expected %d deliveries, want 9×%d + 10×%d", res.Expected, res.Drawings, res.Draws)
	}
	if !res.Drained || res.Received != res.Expected || res.Lost != 0 || res.WorstLossPercent != 0 {
		t.Errorf("received %d of %d deliveries (worst participant lost %.2f %%, drained %v)",
			res.Received, res.Expected, res.WorstLossPercent, res.Drained)
	}
	if res.RateLimited != 0 || res.OtherErrors != 0 || res.Unknown != 0 {
		t.Errorf("%d refused, %d other errors (%s), %d unknown messages", res.RateLimited, res.OtherErrors, res.ErrorCodes, res.Unknown)
	}
	if res.Clears == 0 {
		t.Error("the presenter never cleared the page")
	}
	if res.LatencyP50Millis <= 0 || res.ServerCPUPercent <= 0 || res.RSSMB <= 0 {
		t.Errorf("latency p50 %.2f ms, server CPU %.1f %%, RSS %.0f MB: not measured",
			res.LatencyP50Millis, res.ServerCPUPercent, res.RSSMB)
	}

	// The generator stops by itself: once the server is closed too, no
	// goroutine of either is left.
	closeApp()
	leaks()
}

func TestWhiteboardOptionsRefused(t *testing.T) {
	ok := loadgen.WBOptions{Rate: 20,
		ScenarioOptions: loadgen.ScenarioOptions{URL: "http://127.0.0.1:1", Secret: "s", Duration: time.Second}}
	for name, mod := range map[string]func(o *loadgen.WBOptions){
		"no url":          func(o *loadgen.WBOptions) { o.URL = "ftp://x" },
		"no secret":       func(o *loadgen.WBOptions) { o.Secret = "" },
		"no rate":         func(o *loadgen.WBOptions) { o.Rate = 0 },
		"one participant": func(o *loadgen.WBOptions) { o.Participants = 1 },
		"too many drawers": func(o *loadgen.WBOptions) {
			o.Participants, o.Rate = 3, 200
		},
		"long strokes":   func(o *loadgen.WBOptions) { o.Stroke, o.Points = 100, 50 },
		"clear too late": func(o *loadgen.WBOptions) { o.ClearAt = 1000 },
		"no duration":    func(o *loadgen.WBOptions) { o.Duration = 0 },
	} {
		o := ok
		mod(&o)
		if _, err := loadgen.RunWhiteboard(context.Background(), o); !errors.Is(err, loadgen.ErrOptions) {
			t.Errorf("%s: %v, want ErrOptions", name, err)
		}
	}
}

// startLoadServer starts an in-process server for a scenario's smoke test
// and returns its URL, secret, a logger (to stderr with
// AULA_TEST_LOAD_LOG set) and a function that closes it (also at the
// end of the test).
func startLoadServer(t *testing.T) (url, secret string, log *slog.Logger, closeApp func()) {
	t.Helper()
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
	log = slog.New(slog.NewTextHandler(logw, nil))
	a, err := app.New(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	closed := false
	closeApp = func() {
		if closed {
			return
		}
		closed = true
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Close(ctx)
	}
	t.Cleanup(closeApp)
	return a.URL(), cfg.Secret, log, closeApp
}
