package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// sigClient is one participant of a signaling-only scenario (whiteboard,
// notes): the BBB join, the one-time link, a WebSocket without media, a
// read loop, requests that wait for their ack. The scenario handles its
// own message types through handle; welcome, ack, error and the end of
// the meeting are handled here.
type sigClient struct {
	api       *api
	base      string
	meetingID string
	stopping  *atomic.Bool // the run is ending: a closed socket is expected
	idx       int
	name      string
	moderator bool
	log       *slog.Logger
	// handle gets every message of a type not handled here, with the
	// time it arrived; an error fails the client.
	handle func(typ string, b []byte, now time.Time) error
	// onError gets every error the server sends (before its request, if
	// any, is resolved).
	onError func(code, ref string)

	ws        *wsConn
	id        string        // participant id, from the welcome; set before ready closes
	ready     chan struct{} // closed when in the room (or failed)
	readyOnce sync.Once
	done      chan struct{} // closed when the read loop ended
	started   bool
	closeOnce sync.Once
	failed    atomic.Pointer[error]

	mu    sync.Mutex
	refs  int
	waits map[string]chan error // requests waiting for their ack, by ref
}

func newSigClient(a *api, base, meetingID string, stopping *atomic.Bool, idx int, name string, moderator bool, log *slog.Logger) *sigClient {
	return &sigClient{api: a, base: base, meetingID: meetingID, stopping: stopping, idx: idx, name: name,
		moderator: moderator, log: log, ready: make(chan struct{}), done: make(chan struct{}),
		waits: map[string]chan error{}}
}

func (c *sigClient) fail(err error) {
	if c.failed.CompareAndSwap(nil, &err) {
		c.log.Warn("client failed", "err", err)
	}
	c.markReady()
}

func (c *sigClient) err() error {
	if e := c.failed.Load(); e != nil {
		return *e
	}
	return nil
}

func (c *sigClient) markReady() { c.readyOnce.Do(func() { close(c.ready) }) }

// join enters the room as a browser does (API join, the one-time link,
// the WebSocket) and starts reading.
func (c *sigClient) join(ctx context.Context) error {
	link, err := c.api.join(ctx, c.meetingID, c.name, c.moderator)
	if err != nil {
		return err
	}
	sess, err := c.api.redeem(ctx, link)
	if err != nil {
		return err
	}
	ws, err := dialWS(ctx, c.base, sess)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.ws, c.started = ws, true
	c.mu.Unlock()
	go c.readLoop()
	return nil
}

func (c *sigClient) readLoop() {
	defer close(c.done)
	for {
		_, b, err := c.ws.c.ReadMessage()
		if err != nil {
			if !c.stopping.Load() {
				c.fail(fmt.Errorf("%w: socket closed: %v", ErrServer, err))
			}
			return
		}
		if err := c.dispatch(b, time.Now()); err != nil {
			c.fail(err)
		}
	}
}

// Payloads of the common server messages (only the fields read).
type (
	welcomeIn struct {
		Data struct {
			Lobby bool `json:"lobby"`
			Self  struct {
				ID string `json:"id"`
			} `json:"self"`
		} `json:"data"`
	}
	errorIn struct {
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

func (c *sigClient) dispatch(b []byte, now time.Time) error {
	switch typ := msgType(b); typ {
	case "welcome":
		var m welcomeIn
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
		return c.handle(typ, b, now)
	case "ack":
		var m envelope
		if err := decodeIn(typ, b, &m); err != nil {
			return err
		}
		c.resolve(m.Ref, nil)
	case "error":
		var m errorIn
		if err := decodeIn(typ, b, &m); err != nil {
			return err
		}
		if c.onError != nil {
			c.onError(m.Data.Code, m.Ref)
		}
		err := fmt.Errorf("%w: %s: %s (ref %s)", ErrServer, m.Data.Code, m.Data.Message, m.Ref)
		c.log.Debug("error from the server", "err", err)
		c.resolve(m.Ref, err)
	case "meeting.ended", "removed", "replaced":
		if !c.stopping.Load() {
			return fmt.Errorf("%w: %s", ErrServer, typ)
		}
	default:
		return c.handle(typ, b, now)
	}
	return nil
}

// nextRef is a fresh ref with the given prefix.
func (c *sigClient) nextRef(prefix string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refs++
	return prefix + strconv.Itoa(c.refs)
}

// request sends a message with a ref and waits for its ack (nil) or
// error.
func (c *sigClient) request(ctx context.Context, typ string, payload any) error {
	data, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	ch := make(chan error, 1)
	ref := c.nextRef("r")
	c.mu.Lock()
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

func (c *sigClient) resolve(ref string, err error) {
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
func (c *sigClient) close() {
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
func (c *sigClient) send(ctx context.Context, e envelope) error {
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

// trySend queues a message unless the writer's queue is full; a read loop
// must never wait for the writer.
func (c *sigClient) trySend(e envelope) bool {
	select {
	case c.ws.out <- e:
		return true
	default:
		return false
	}
}

// joinAll joins clients, n at a time, each until its welcome puts it in
// the room. It returns how many did not make it and the first reason.
func joinAll(ctx context.Context, cs []*sigClient, n int, timeout time.Duration) (failed int, first error) {
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, c := range cs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return len(cs), ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			jctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			err := c.join(jctx)
			if err == nil {
				select {
				case <-c.ready:
					err = c.err()
				case <-jctx.Done():
					err = fmt.Errorf("%w: no welcome into the room within %s", ErrJoin, timeout)
				}
			}
			if err != nil {
				c.fail(err)
				mu.Lock()
				failed++
				if first == nil {
					first = fmt.Errorf("participant %d: %w", c.idx, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return failed, first
}

// settleServer waits until the server uses under 5 % of a core over a
// second, at most within; past that it goes on with a warning (the
// result's server CPU then includes the rest).
func settleServer(ctx context.Context, hc *http.Client, base string, within time.Duration, log *slog.Logger) error {
	deadline := time.Now().Add(within)
	for {
		cores, err := cpuOver(ctx, hc, base, time.Second)
		if err != nil {
			return err
		}
		if cores < 0.05 {
			return nil
		}
		if time.Now().After(deadline) {
			log.Warn("the server is not idle; measuring anyway", "cores", cores)
			return nil
		}
		log.Info("waiting for the server to be idle", "cores", cores)
	}
}
