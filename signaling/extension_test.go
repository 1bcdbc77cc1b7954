package signaling

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"aula/room"
)

// echo is a feature added through the extension seam: "echo.say" makes the
// server answer "echo.said", and it counts what it sees.
type echo struct {
	opened, closed, events atomic.Int32
	onlyModerators         bool
}

type echoSay struct {
	Text string `json:"text"`
}

func (e *echo) Types() []string { return []string{"echo.say"} }

func (e *echo) Open(ctx context.Context, c Conn) (Handler, error) {
	snap, err := c.Member().Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	if e.onlyModerators && snap.Self.Role != room.Moderator {
		return nil, nil
	}
	e.opened.Add(1)
	return &echoConn{e: e, c: c}, nil
}

type echoConn struct {
	e *echo
	c Conn
}

func (h *echoConn) Handle(ctx context.Context, typ string, data json.RawMessage) error {
	var p echoSay
	if err := DecodeData(data, &p); err != nil {
		return err
	}
	if p.Text == "" {
		return fmt.Errorf("%w: text is missing", ErrBadRequest)
	}
	// As a Pion callback would: from another goroutine.
	go h.c.Send("echo.said", echoSay{Text: p.Text + "!"})
	return nil
}

func (h *echoConn) Event(ctx context.Context, e room.Event) { h.e.events.Add(1) }
func (h *echoConn) Close()                                  { h.e.closed.Add(1) }

func TestExtensionAddsMessageTypes(t *testing.T) {
	ext := &echo{onlyModerators: true}
	e := newEnv(t, func(o *Options, _ *httptest.Server) { o.Extensions = []Extension{ext} })
	mod, viewer, _, _ := twoInRoom(t, e)

	mod.send("echo.say", "e1", echoSay{Text: "hi"})
	// The echo is sent from another goroutine: it may come before or
	// after the ack.
	var acked, echoed bool
	echoDeadline := time.After(waitFor)
	for !acked || !echoed {
		var m Envelope
		select {
		case m = <-mod.msgs:
		case <-echoDeadline:
			t.Fatalf("ack %v, echo.said %v within %v", acked, echoed, waitFor)
		}
		switch {
		case m.Type == TypeAck && m.Ref == "e1":
			acked = true
		case m.Type == "echo.said":
			echoed = true
			if got := decodeData[echoSay](t, m); got.Text != "hi!" {
				t.Errorf("echo.said %+v", got)
			}
		}
	}
	tests := []struct {
		name string
		c    *client
		msg  string
		code string
	}{
		{"unknown field", mod, `{"type":"echo.say","ref":"x","data":{"text":"a","b":1}}`, CodeBadRequest},
		{"missing text", mod, `{"type":"echo.say","ref":"x","data":{}}`, CodeBadRequest},
		{"not an object", mod, `{"type":"echo.say","ref":"x","data":[1]}`, CodeBadRequest},
		{"unknown type", mod, `{"type":"echo.shout","ref":"x","data":{}}`, CodeUnknownType},
		{"not opened for viewers", viewer, `{"type":"echo.say","ref":"x","data":{"text":"a"}}`, CodeUnknownType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.c.sendRaw([]byte(tc.msg))
			if got := decodeData[Error](t, tc.c.expect(TypeError, errorWithRef("x"))); got.Code != tc.code {
				t.Errorf("code %q, want %q", got.Code, tc.code)
			}
		})
	}
	if ext.events.Load() == 0 {
		t.Error("the extension saw no room event (the viewer's join)")
	}
	mod.ws.Close()
	deadline := time.After(waitFor)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for ext.closed.Load() != ext.opened.Load() || ext.opened.Load() != 1 {
		select {
		case <-deadline:
			t.Fatalf("opened %d, closed %d", ext.opened.Load(), ext.closed.Load())
		case <-tick.C:
		}
	}
}

func TestExtensionClashPanics(t *testing.T) {
	for _, types := range [][]string{{TypeChatSend}, {"a.b", "a.b"}, {""}} {
		t.Run(fmt.Sprint(types), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("types %q accepted", types)
				}
			}()
			New(Options{Extensions: []Extension{typesOnly(types)}})
		})
	}
}

type typesOnly []string

func (t typesOnly) Types() []string                             { return t }
func (t typesOnly) Open(context.Context, Conn) (Handler, error) { return nil, nil }
