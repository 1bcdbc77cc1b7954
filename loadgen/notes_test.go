package loadgen_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"aula/internal/testenv"
	"aula/loadgen"
)

// TestNotesSmoke runs the notes scenario against an in-process server:
// eight editors at 80 operations a second, with a low text bound so that
// operations also delete (and so transform over each other's deletes),
// two seconds. Every operation must reach every other editor in order,
// nothing may be refused, every replica must end at the server's
// revision and length, and no goroutine of generator or server may be
// left.
func TestNotesSmoke(t *testing.T) {
	leaks := testenv.GoroutineCheck(t, 2)
	url, secret, log, closeApp := startLoadServer(t)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := loadgen.RunNotes(ctx, loadgen.NotesOptions{
		ScenarioOptions: loadgen.ScenarioOptions{URL: url, Secret: secret,
			Duration: 2 * time.Second, Warmup: time.Second, Drain: 10 * time.Second, Settle: -1,
			JoinTimeout: 15 * time.Second, Logger: log},
		Editors: 8, Rate: 80, MaxText: 300,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s\n%s\n%s", loadgen.NotesMarkdownHeader(), res.MarkdownRow(), res.JSON())
	if res.Failed != 0 {
		t.Errorf("%d editors failed", res.Failed)
	}
	// About 80/s for 2 s; a loaded test machine may fall behind, so ask
	// for a quarter.
	if res.Sent < 40 {
		t.Errorf("sent %d operations in the window", res.Sent)
	}
	if res.Expected != 7*res.Sent {
		t.Errorf("expected %d deliveries, want 7×%d", res.Expected, res.Sent)
	}
	if !res.Drained || res.Received != res.Expected || res.Lost != 0 {
		t.Errorf("received %d of %d deliveries (drained %v)", res.Received, res.Expected, res.Drained)
	}
	if res.RateLimited != 0 || res.Conflicts != 0 || res.OtherErrors != 0 || res.Unknown != 0 || res.Gaps != 0 {
		t.Errorf("%d refused, %d conflicts, %d other errors (%s), %d unknown, %d out of step",
			res.RateLimited, res.Conflicts, res.OtherErrors, res.ErrorCodes, res.Unknown, res.Gaps)
	}
	if !res.Converged || res.FinalRev < int(res.Sent) {
		t.Errorf("replicas converged %v at revision %d (sent %d in the window)", res.Converged, res.FinalRev, res.Sent)
	}
	// The text stays near its bound: operations past it delete.
	if res.FinalLength < 300 || res.FinalLength > 600 {
		t.Errorf("final text of %d units, want it held near 300", res.FinalLength)
	}
	if res.OpP50Millis <= 0 || res.TypedP50Millis < res.OpP50Millis || res.AckP50Millis <= 0 || res.ServerCPUPercent <= 0 || res.RSSMB <= 0 {
		t.Errorf("latency p50 %.2f ms (keystroke %.2f, ack %.2f), server CPU %.1f %%, RSS %.0f MB: not measured",
			res.OpP50Millis, res.TypedP50Millis, res.AckP50Millis, res.ServerCPUPercent, res.RSSMB)
	}
	closeApp()
	leaks()
}

func TestNotesOptionsRefused(t *testing.T) {
	ok := loadgen.NotesOptions{Rate: 20,
		ScenarioOptions: loadgen.ScenarioOptions{URL: "http://127.0.0.1:1", Secret: "s", Duration: time.Second}}
	for name, mod := range map[string]func(o *loadgen.NotesOptions){
		"no url":       func(o *loadgen.NotesOptions) { o.URL = "ftp://x" },
		"no secret":    func(o *loadgen.NotesOptions) { o.Secret = "" },
		"no rate":      func(o *loadgen.NotesOptions) { o.Rate = 0 },
		"one editor":   func(o *loadgen.NotesOptions) { o.Editors = 1 },
		"over budget":  func(o *loadgen.NotesOptions) { o.Editors, o.Rate = 3, 200 },
		"tiny text":    func(o *loadgen.NotesOptions) { o.MaxText = 10 },
		"no duration":  func(o *loadgen.NotesOptions) { o.Duration = 0 },
		"neg. warm-up": func(o *loadgen.NotesOptions) { o.Warmup = -time.Second },
	} {
		o := ok
		mod(&o)
		if _, err := loadgen.RunNotes(context.Background(), o); !errors.Is(err, loadgen.ErrOptions) {
			t.Errorf("%s: %v, want ErrOptions", name, err)
		}
	}
}
