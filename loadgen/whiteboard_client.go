package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// wbClient is one participant of the whiteboard scenario: a signaling
// socket, no media. It reads every message, counts the whiteboard
// messages it receives, and (the presenter) keeps the page under its cap.
type wbClient struct {
	g         *wbGen
	idx       int
	presenter bool
	drawer    int // index in wbGen.drawers, -1 for a viewer who only watches
	log       *slog.Logger

	ws        *wsConn
	id        string        // participant id, from the welcome; set before ready closes
	ready     chan struct{} // closed when in the room (or failed)
	readyOnce sync.Once
	done      chan struct{} // closed when the read loop ended
	started   bool
	closeOnce sync.Once
	failed    atomic.Pointer[error]
	received  atomic.Uint64 // measured whiteboard messages received

	mu    sync.Mutex
	refs  int
	waits map[string]chan error // requests waiting for their ack, by ref

	// The presenter's view of the page, owned by its read loop.
	shapes   int
	clearing bool
}

func (c *wbClient) fail(err error) {
	if c.failed.CompareAndSwap(nil, &err) {
		c.log.Warn("client failed", "err", err)
	}
	c.markReady()
}

func (c *wbClient) err() error {
	if e := c.failed.Load(); e != nil {
		return *e
	}
	return nil
}

func (c *wbClient) markReady() { c.readyOnce.Do(func() { close(c.ready) }) }

// join enters the room as a browser does (API join, the one-time link,
// the WebSocket) and starts reading.
func (c *wbClient) join(ctx context.Context) error {
	name := fmt.Sprintf("Board viewer %d", c.idx)
	if c.presenter {
		name = "Board presenter"
	}
	link, err := c.g.api.join(ctx, c.g.meetingID, name, c.presenter)
	if err != nil {
		return err
	}
	sess, err := c.g.api.redeem(ctx, link)
	if err != nil {
		return err
	}
	ws, err := dialWS(ctx, c.g.base, sess)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.ws, c.started = ws, true
	c.mu.Unlock()
	go c.readLoop()
	return nil
}

func (c *wbClient) readLoop() {
	defer close(c.done)
	for {
		_, b, err := c.ws.c.ReadMessage()
		if err != nil {
			if !c.g.stopping.Load() {
				c.fail(fmt.Errorf("%w: socket closed: %v", ErrServer, err))
			}
			return
		}
		if err := c.handle(b, time.Now()); err != nil {
			c.fail(err)
		}
	}
}

// Payloads of the server messages the scenario reads (only the fields it
// needs; the rest is skipped by encoding/json).
type (
	wbDrawingIn struct {
		Data struct {
			Shape struct {
				ID     string          `json:"id"`
				Points json.RawMessage `json:"points"`
			} `json:"shape"`
		} `json:"data"`
	}
	wbAddedIn struct {
		Data struct {
			Shapes []struct {
				ID string `json:"id"`
			} `json:"shapes"`
		} `json:"data"`
	}
	wbRemovedIn struct {
		Data struct {
			IDs []string `json:"ids"`
		} `json:"data"`
	}
	wbWelcomeIn struct {
		Data struct {
			Lobby bool `json:"lobby"`
			Self  struct {
				ID string `json:"id"`
			} `json:"self"`
		} `json:"data"`
	}
	wbErrorIn struct {
		Ref  string    `json:"ref"`
		Data errorData `json:"data"`
	}
)

// msgType reads the type of a server message without decoding it: the
// server writes it first. Anything else is decoded properly.
func msgType(b []byte) string {
	const prefix = `{"type":"`
	if rest, ok := bytes.CutPrefix(b, []byte(prefix)); ok {
		if i := bytes.IndexByte(rest, '"'); i >= 0 && bytes.IndexByte(rest[:i], '\\') < 0 {
			return string(rest[:i])
		}
	}
	var e envelope
	_ = json.Unmarshal(b, &e)
	return e.Type
}

func decodeIn(typ string, b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrServer, typ, err)
	}
	return nil
}

func (c *wbClient) handle(b []byte, now time.Time) error {
	g := c.g
	switch typ := msgType(b); typ {
	case "wb.drawing":
		var m wbDrawingIn
		if err := decodeIn(typ, b, &m); err != nil {
			return err
		}
		// The whole stroke so far: its number of points tells which of
		// the stroke's messages this is.
		n := bytes.Count(m.Data.Shape.Points, []byte{'['}) - 1
		idx := -1
		if n > 0 && n%g.o.Points == 0 {
			idx = n/g.o.Points - 1
		}
		g.observe(c, m.Data.Shape.ID, idx, now)
	case "wb.added":
		var m wbAddedIn
		if err := decodeIn(typ, b, &m); err != nil {
			return err
		}
		for _, s := range m.Data.Shapes {
			g.observe(c, s.ID, g.o.Stroke-1, now)
		}
		if c.presenter {
			c.shapes += len(m.Data.Shapes)
			return c.maybeClear()
		}
	case "wb.removed":
		if c.presenter {
			var m wbRemovedIn
			if err := decodeIn(typ, b, &m); err != nil {
				return err
			}
			c.shapes -= len(m.Data.IDs)
			c.clearing = false
		}
	case "welcome":
		var m wbWelcomeIn
		if err := decodeIn(typ, b, &m); err != nil {
			return err
		}
		if !m.Data.Lobby {
			if m.Data.Self.ID == "" {
				return fmt.Errorf("%w: welcome without self.id", ErrServer)
			}
			c.id = m.Data.Self.ID
			c.markReady()
		}
	case "ack":
		var m envelope
		if err := decodeIn(typ, b, &m); err != nil {
			return err
		}
		c.resolve(m.Ref, nil)
	case "error":
		var m wbErrorIn
		if err := decodeIn(typ, b, &m); err != nil {
			return err
		}
		g.noteError(m.Data.Code)
		err := fmt.Errorf("%w: %s: %s (ref %s)", ErrServer, m.Data.Code, m.Data.Message, m.Ref)
		c.log.Debug("error from the server", "err", err)
		if c.presenter && len(m.Ref) > 0 && m.Ref[0] == 'c' {
			c.clearing = false
		}
		c.resolve(m.Ref, err)
	case "meeting.ended", "removed", "replaced":
		if !g.stopping.Load() {
			return fmt.Errorf("%w: %s", ErrServer, typ)
		}
	}
	return nil
}

// maybeClear has the presenter clear the page once it fills up, one
// clear at a time.
func (c *wbClient) maybeClear() error {
	if c.clearing || c.shapes < c.g.o.ClearAt {
		return nil
	}
	c.mu.Lock()
	c.refs++
	ref := "c" + strconv.Itoa(c.refs)
	c.mu.Unlock()
	data, _ := json.Marshal(map[string]any{"page": blankPage, "all": true})
	// The read loop must never wait for the writer: with its queue full,
	// try again on the next wb.added.
	select {
	case c.ws.out <- envelope{Type: "wb.clear", Ref: ref, Data: data}:
		c.clearing = true
		c.g.clears.Add(1)
	default:
	}
	return nil
}

// request sends a message with a ref and waits for its ack (nil) or
// error.
func (c *wbClient) request(ctx context.Context, typ string, payload any) error {
	data, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	ch := make(chan error, 1)
	c.mu.Lock()
	c.refs++
	ref := "r" + strconv.Itoa(c.refs)
	c.waits[ref] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.waits, ref)
		c.mu.Unlock()
	}()
	if err := c.send(ctx, envelope{Type: typ, Ref: ref, Data: data}); err != nil {
		return err
	}
	select {
	case err := <-ch:
		return err
	case <-c.done:
		return errors.Join(fmt.Errorf("%w: connection closed", ErrServer), c.err())
	case <-ctx.Done():
		return fmt.Errorf("%s: no answer: %w", typ, ctx.Err())
	}
}

func (c *wbClient) resolve(ref string, err error) {
	if ref == "" {
		return
	}
	c.mu.Lock()
	ch := c.waits[ref]
	c.mu.Unlock()
	if ch != nil {
		select {
		case ch <- err:
		default:
		}
	}
}

// close closes the socket and waits for the read loop.
func (c *wbClient) close() {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		started := c.started
		c.mu.Unlock()
		if !started {
			return
		}
		c.ws.close()
		<-c.done
	})
}

// send queues a message as given (a ref or none). It waits only while
// the writer is busy, and gives up when ctx ends or the connection is
// gone (the read loop ended: the writer may have stopped too).
func (c *wbClient) send(ctx context.Context, e envelope) error {
	select {
	case c.ws.out <- e:
		return nil
	case <-c.ws.done:
	case <-c.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return fmt.Errorf("%w: connection closed", ErrServer)
}
