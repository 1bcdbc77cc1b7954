package room

import (
	"encoding/json"
	"fmt"
	"time"
)

// The timer: a countdown or a stopwatch everyone sees (as BBB 2.7's), set
// by a moderator. The server keeps it in server time; clients show it from
// the state's times against their offset to the server's clock, and sound
// at zero when the countdown reaches it (the server says so once).

// FeatureTimer names the timer.
const FeatureTimer = "timer"

// Timer modes.
const (
	TimerCountdown = "countdown"
	TimerStopwatch = "stopwatch"
)

// maxTimer caps a countdown.
const maxTimer = 24 * time.Hour

// Timer commands (moderators).
type (
	// TimerStart starts a countdown of Duration, or a stopwatch.
	TimerStart struct {
		Mode     string
		Duration time.Duration
	}
	// TimerPause, TimerResume and TimerClear pause, resume and take the
	// timer away.
	TimerPause  struct{}
	TimerResume struct{}
	TimerClear  struct{}
)

// TimerView is the timer's state: off when Mode is "". Elapsed is the
// time run up to At (server time); while Running it grows from there.
type TimerView struct {
	Mode     string        `json:"mode"`
	Running  bool          `json:"running"`
	Duration time.Duration `json:"duration"`
	Elapsed  time.Duration `json:"elapsed"`
	At       time.Time     `json:"at"`
}

// MarshalJSON writes the timer as the wire does (docs/protocol.md,
// timer.state): whole seconds and milliseconds rather than Go durations.
func (v TimerView) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Mode      string    `json:"mode"`
		Running   bool      `json:"running"`
		Seconds   int64     `json:"seconds"`
		ElapsedMs int64     `json:"elapsedMs"`
		At        time.Time `json:"at"`
	}{v.Mode, v.Running, int64(v.Duration / time.Second), v.Elapsed.Milliseconds(), v.At})
}

// TimerDone: the countdown reached zero.
type TimerDone struct{}

// TimerFeature registers the timer with a Manager.
func TimerFeature() FeatureSpec {
	return FeatureSpec{Name: FeatureTimer, New: func(*Meeting) Feature { return &timer{} }}
}

type timer struct {
	V    timerState `json:"v"`
	Done bool       `json:"done"` // the countdown's zero was announced
}

// timerState is TimerView as stored (durations kept exact).
type timerState TimerView

// elapsed is the time run by now.
func (t *timer) elapsed(now time.Time) time.Duration {
	if !t.V.Running {
		return t.V.Elapsed
	}
	return t.V.Elapsed + now.Sub(t.V.At)
}

func (t *timer) Command(tx *Tx, actor *Participant, cmd any) (any, error) {
	if actor.Role != Moderator && !CanPresent(actor) {
		return nil, fmt.Errorf("%w: only moderators set the timer", ErrForbidden)
	}
	now := tx.Now().UTC()
	switch c := cmd.(type) {
	case TimerStart:
		switch {
		case c.Mode == TimerCountdown && (c.Duration < time.Second || c.Duration > maxTimer):
			return nil, fmt.Errorf("%w: a countdown of 1 s to %v", ErrInvalid, maxTimer)
		case c.Mode == TimerStopwatch:
			c.Duration = 0
		case c.Mode != TimerCountdown:
			return nil, fmt.Errorf("%w: mode %q", ErrInvalid, c.Mode)
		}
		t.V, t.Done = timerState{Mode: c.Mode, Running: true, Duration: c.Duration.Round(time.Second), At: now}, false
	case TimerPause:
		if !t.V.Running {
			return nil, fmt.Errorf("%w: the timer does not run", ErrInvalid)
		}
		t.V.Elapsed, t.V.Running, t.V.At = t.elapsed(now), false, now
	case TimerResume:
		if t.V.Mode == "" || t.V.Running || t.Done {
			return nil, fmt.Errorf("%w: the timer is not paused", ErrInvalid)
		}
		t.V.Running, t.V.At = true, now
	case TimerClear:
		t.V, t.Done = timerState{At: now}, false
	default:
		return nil, fmt.Errorf("%w: timer command %T", ErrInvalid, cmd)
	}
	tx.Save()
	tx.Broadcast(TimerView(t.V))
	return nil, nil
}

// Tick announces a countdown's zero once, and stops it there.
func (t *timer) Tick(tx *Tx, now time.Time) {
	if t.V.Mode != TimerCountdown || !t.V.Running || t.Done || t.elapsed(now) < t.V.Duration {
		return
	}
	t.Done = true
	t.V.Elapsed, t.V.Running, t.V.At = t.V.Duration, false, now.UTC()
	tx.Save()
	tx.Broadcast(TimerView(t.V))
	tx.Broadcast(TimerDone{})
}

func (t *timer) View(*Participant) any {
	if t.V.Mode == "" {
		return nil
	}
	return TimerView(t.V)
}

func (t *timer) Snapshot() ([]byte, error) { return json.Marshal(t) }

func (t *timer) Restore(snap []byte, _ [][]byte) error {
	if snap == nil {
		return nil
	}
	return json.Unmarshal(snap, t)
}
