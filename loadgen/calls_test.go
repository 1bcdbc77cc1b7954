package loadgen_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"aula/app"
	"aula/loadgen"
)

// TestCallsSmoke places six calls (two speaking) into an in-process
// server with dial-in: all must reach the room, every listener must hear
// the speakers through the gateway's mix, and the server's CPU must be
// measured.
func TestCallsSmoke(t *testing.T) {
	cfg := app.Defaults()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Demo = false
	cfg.Secret = "load-test-secret-0123"
	cfg.LogLevel = "warn"
	cfg.SIPAddr = "127.0.0.1:0"
	cfg.SIPRTPPorts = "46000-46999"
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := app.New(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Close(ctx)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := loadgen.RunCalls(ctx, loadgen.CallOptions{
		URL: a.URL(), Secret: cfg.Secret, SIP: a.SIPAddr().String(),
		Calls: 6, Speakers: 2, Duration: 2 * time.Second, Warmup: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s\n%s\n%s", loadgen.CallsMarkdownHeader(), res.MarkdownRow(), res.JSON())
	if res.Joined != 6 {
		t.Errorf("%d callers in the room, want 6", res.Joined)
	}
	if res.Hearing != 4 {
		t.Errorf("%d of 4 listeners hear the speakers", res.Hearing)
	}
	if res.ServerCPU <= 0 {
		t.Errorf("server CPU not measured: %v", res.ServerCPU)
	}
}

func TestCallsOptionsRefused(t *testing.T) {
	for _, o := range []loadgen.CallOptions{
		{Secret: "s", SIP: "127.0.0.1:5060", Calls: 1, Duration: time.Second},
		{URL: "http://x", Secret: "s", SIP: "nonsense", Calls: 1, Duration: time.Second},
		{URL: "http://x", Secret: "s", SIP: "127.0.0.1:5060", Calls: 0, Duration: time.Second},
		{URL: "http://x", Secret: "s", SIP: "127.0.0.1:5060", Calls: 2, Speakers: 3, Duration: time.Second},
		{URL: "http://x", Secret: "s", SIP: "127.0.0.1:5060", Calls: 2},
	} {
		if _, err := loadgen.RunCalls(context.Background(), o); !errors.Is(err, loadgen.ErrOptions) {
			t.Errorf("%+v: %v, want ErrOptions", o, err)
		}
	}
}
