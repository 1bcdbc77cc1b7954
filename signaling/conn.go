package signaling

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"aula/room"
)

// conn is the actor of one WebSocket: a reader goroutine, one writer
// goroutine (the only writer to the socket) and the loop in serve, which
// owns the participant's state and is the only caller of its room.Member.
// Room events reach the loop through a bounded queue; a client that does
// not keep up is disconnected rather than slowing the room down.
type conn struct {
	s    *Server
	ws   *websocket.Conn
	sess *room.Session
	log  *slog.Logger

	events chan room.Event // from Notify, bounded
	in     chan inMsg      // from the reader
	out    chan outMsg     // to the writer, bounded

	done       chan struct{} // closed by stop: everything winds down
	stopOnce   sync.Once
	writerDone chan struct{}
	// closing is set once a final close frame is queued; later messages
	// and events are dropped while the closing handshake runs.
	closing atomic.Bool

	// Owned by the serve loop.
	member *room.Member
	role   room.Role
	frames bucket
	chat   bucket
	msgs   bucket
	// ext holds each extension's own budget, by index in Options.Extensions.
	ext []bucket
	// floodStrikes counts frames refused in a row for the message budget.
	floodStrikes int
	handlers     map[string]Handler // extension handlers by message type
	opened       []Handler
}

type inMsg struct {
	data     []byte
	tooLarge bool
	binary   bool
}

type outMsg struct {
	data  []byte
	close bool
	code  int
	text  string
}

func newConn(s *Server, ws *websocket.Conn, sess *room.Session) *conn {
	o := &s.opt
	return &conn{
		s: s, ws: ws, sess: sess,
		log:        s.log.With("meeting", sess.MeetingKey, "participant", sess.Identity.ParticipantID),
		events:     make(chan room.Event, o.QueueSize),
		in:         make(chan inMsg, 8),
		out:        make(chan outMsg, o.QueueSize),
		done:       make(chan struct{}),
		writerDone: make(chan struct{}),
		frames:     newBucket(o.FrameBurst, o.FramePerSecond),
		chat:       newBucket(o.ChatBurst, o.ChatPerSecond),
		msgs:       newBucket(o.MsgBurst, o.MsgPerSecond),
		ext:        s.extBuckets(),
	}
}

// Notify is the room's way in. It never blocks: a full queue means the
// client is not reading, and the connection is dropped (the participant
// keeps its place for the reconnect grace).
func (c *conn) Notify(e room.Event) {
	select {
	case c.events <- e:
	default:
		if !c.closing.Load() {
			c.log.Warn("event queue full, closing connection")
		}
		c.stop()
	}
}

// stop tears the connection down at once (no closing handshake).
func (c *conn) stop() {
	c.stopOnce.Do(func() {
		close(c.done)
		c.ws.Close()
	})
}

// goingAway closes with 1001 so the client reconnects (server drain).
func (c *conn) goingAway() { c.finish(websocket.CloseGoingAway, "server shutting down") }

// finish queues a close frame after what is already queued. The reader
// ends the connection when the client answers the close, or the writer
// does after the write timeout.
func (c *conn) finish(code int, text string) {
	if c.closing.Swap(true) {
		return
	}
	select {
	case c.out <- outMsg{close: true, code: code, text: text}:
	default:
		c.stop()
	}
}

// send queues one message for the writer.
func (c *conn) send(typ, ref string, data any) {
	if c.closing.Load() {
		return
	}
	b, err := encode(typ, ref, data)
	if err != nil {
		c.log.Error("encode message", "type", typ, "err", err)
		return
	}
	select {
	case c.out <- outMsg{data: b}:
	default:
		c.log.Warn("outbound queue full, closing connection", "err", ErrQueueFull)
		c.stop()
	}
}

func (c *conn) sendError(ref string, err error) {
	code := codeOf(err)
	if code == CodeInternal {
		c.log.Error("request failed", "err", err)
	} else {
		c.log.Debug("request refused", "code", code, "err", err)
	}
	c.send(TypeError, ref, Error{Ref: ref, Code: code, Message: messageOf(err)})
}

func (c *conn) writeLoop() {
	defer close(c.writerDone)
	o := &c.s.opt
	ping := time.NewTicker(o.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-c.done:
			return
		case m := <-c.out:
			c.ws.SetWriteDeadline(time.Now().Add(o.WriteTimeout))
			if m.close {
				c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(m.code, m.text))
				// The reader stops when the client echoes the close; a client
				// that never does is cut off after the write timeout.
				t := time.AfterFunc(o.WriteTimeout, c.stop)
				<-c.done
				t.Stop()
				return
			}
			if err := c.ws.WriteMessage(websocket.TextMessage, m.data); err != nil {
				c.log.Debug("websocket write", "err", err)
				c.stop()
				return
			}
		case <-ping.C:
			c.ws.SetWriteDeadline(time.Now().Add(o.WriteTimeout))
			if err := c.ws.WriteMessage(websocket.PingMessage, nil); err != nil {
				c.stop()
				return
			}
		}
	}
}

func (c *conn) readLoop() {
	defer c.stop()
	o := &c.s.opt
	max := int64(o.MaxMessageBytes)
	wait := 2 * o.PingInterval
	// Messages up to 16× the cap are read and skipped with an error; beyond
	// that gorilla closes the socket (1009), bounding what a client can make
	// the server read.
	c.ws.SetReadLimit(16 * max)
	c.ws.SetReadDeadline(time.Now().Add(wait))
	c.ws.SetPongHandler(func(string) error {
		return c.ws.SetReadDeadline(time.Now().Add(wait))
	})
	for {
		typ, r, err := c.ws.NextReader()
		if err != nil {
			if !websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway) {
				c.log.Debug("websocket read", "err", err)
			}
			return
		}
		c.ws.SetReadDeadline(time.Now().Add(wait))
		buf, err := io.ReadAll(io.LimitReader(r, max+1))
		if err != nil {
			return
		}
		m := inMsg{data: buf, binary: typ != websocket.TextMessage}
		if int64(len(buf)) > max {
			if _, err := io.Copy(io.Discard, r); err != nil {
				c.log.Info("oversized message closed the connection", "err", err)
				return
			}
			m = inMsg{tooLarge: true}
		}
		select {
		case c.in <- m:
		case <-c.done:
			return
		}
	}
}

// serve runs the connection's loop until the socket is gone.
func (c *conn) serve(ctx context.Context) {
	go c.writeLoop()
	go c.readLoop()
	defer func() {
		c.closing.Store(true) // late Sends of extensions are dropped quietly
		c.stop()
		<-c.writerDone
	}()

	var m *room.Member
	err := ErrClosing
	if !c.closing.Load() {
		actx, cancel := context.WithTimeout(ctx, c.s.opt.WriteTimeout)
		m, err = c.s.opt.Manager.Attach(actx, c.sess.MeetingKey, c.sess.Identity, c)
		cancel()
	}
	if err != nil {
		c.refuse(err)
	} else {
		c.member = m
		c.log.Debug("connected")
		defer func() {
			for _, h := range c.opened {
				h.Close()
			}
			// The socket is gone: keep the place for the reconnect grace. After
			// leave, removal, replacement or the end this does nothing.
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.s.opt.WriteTimeout)
			m.Detach(dctx)
			cancel()
			c.log.Debug("disconnected")
		}()
		c.openExtensions(ctx)
		if err := c.welcome(ctx); err != nil {
			c.refuse(err)
		}
	}
	for {
		select {
		case <-c.done:
			return
		case e := <-c.events:
			if !c.closing.Load() {
				c.onEvent(ctx, e)
			}
		case in := <-c.in:
			if !c.closing.Load() && c.member != nil {
				c.onMessage(ctx, in)
			}
		}
	}
}

// openExtensions gives each extension its handler for this connection. A
// feature that fails to open is logged and left out; the meeting goes on.
func (c *conn) openExtensions(ctx context.Context) {
	exts := c.s.opt.Extensions
	if len(exts) == 0 {
		return
	}
	c.handlers = map[string]Handler{}
	for _, ext := range exts {
		h, err := ext.Open(ctx, c)
		if err != nil {
			c.log.Error("open extension", "types", ext.Types(), "err", err)
			continue
		}
		if h == nil {
			continue
		}
		c.opened = append(c.opened, h)
		for _, typ := range ext.Types() {
			c.handlers[typ] = h
		}
	}
}

// refuse tells a client it cannot attach, then closes with a final code.
func (c *conn) refuse(err error) {
	switch {
	case errors.Is(err, room.ErrEnded), errors.Is(err, room.ErrNotFound):
		c.send(TypeMeetingEnded, "", Ended{Reason: "ended"})
		c.finish(CloseEnded, "meeting ended")
	case errors.Is(err, room.ErrDenied):
		// A guest a moderator turned away, coming back with the same session.
		c.send(TypeGuestDenied, "", nil)
		c.finish(CloseDenied, "denied")
	case errors.Is(err, room.ErrForbidden):
		c.sendError("", err)
		c.finish(CloseRemoved, "not allowed")
	case errors.Is(err, room.ErrFull):
		c.sendError("", err)
		c.finish(CloseFull, "meeting full")
	case errors.Is(err, room.ErrElsewhere), errors.Is(err, room.ErrUnavailable):
		c.sendError("", err)
		c.finish(CloseMoved, "try again")
	default:
		c.sendError("", err)
		c.finish(websocket.CloseInternalServerErr, "internal error")
	}
}

func (c *conn) welcome(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(ctx, c.s.opt.WriteTimeout)
	defer cancel()
	snap, err := c.member.Snapshot(sctx)
	if err != nil {
		return err
	}
	c.role = snap.Self.Role
	c.send(TypeWelcome, "", welcomeOf(snap, c.s.opt.Manager.Now()))
	for _, h := range c.opened {
		if w, ok := h.(Welcomer); ok {
			w.Welcomed(ctx, snap)
		}
	}
	return nil
}

// rewelcome sends the state again after an event. Events are handled after
// the fact: the participant may have been removed (or the meeting ended)
// since, and then the event saying so is already queued.
func (c *conn) rewelcome(ctx context.Context) {
	err := c.welcome(ctx)
	if err != nil && !errors.Is(err, room.ErrNotFound) && !errors.Is(err, room.ErrEnded) {
		c.sendError("", err)
	}
}

func (c *conn) onEvent(ctx context.Context, e room.Event) {
	switch e.Type {
	case room.EventJoined:
		c.send(TypeParticipantJoined, "", ParticipantMsg{Participant: *e.Participant})
	case room.EventUpdated:
		c.send(TypeParticipantUpdated, "", ParticipantMsg{Participant: *e.Participant})
		if e.Participant.ID == c.member.ID() && e.Participant.Role != c.role {
			// A new role can change what one may see (hidden user list):
			// send the full state again.
			c.rewelcome(ctx)
		}
	case room.EventLeft:
		c.send(TypeParticipantLeft, "", Target{ID: e.ParticipantID})
	case room.EventAdmitted:
		c.send(TypeLobbyAdmitted, "", nil)
		c.rewelcome(ctx)
	case room.EventChat:
		c.send(TypeChatMessage, "", e.Chat)
	case room.EventRemoved:
		c.send(TypeRemoved, "", nil)
		c.finish(CloseRemoved, "removed")
	case room.EventDenied:
		c.send(TypeGuestDenied, "", nil)
		c.finish(CloseDenied, "denied")
	case room.EventWaiting:
		w := e.Waiting
		if w == nil {
			w = []room.Public{}
		}
		c.send(TypeGuestWaiting, "", GuestWaiting{Waiting: w})
	case room.EventReplaced:
		c.send(TypeReplaced, "", nil)
		c.finish(CloseReplaced, "replaced")
	case room.EventEnded:
		c.send(TypeMeetingEnded, "", Ended{Reason: e.Reason, LogoutURL: e.LogoutURL})
		c.finish(CloseEnded, "meeting ended")
	case room.EventMoved:
		c.finish(CloseMoved, "meeting moved, reconnect")
	case room.EventChatCleared:
		c.send(TypeChatCleared, "", nil)
	case room.EventMeetingUpdated:
		c.send(TypeMeetingUpdated, "", MeetingUpdated{Lock: e.Meeting.Lock})
		if e.Resync {
			// What one may see of others changed (the hidden user
			// list): the full state again.
			c.rewelcome(ctx)
		}
	}
	for _, h := range c.opened {
		h.Event(ctx, e)
	}
}

func (c *conn) onMessage(ctx context.Context, in inMsg) {
	now := time.Now()
	// Every frame counts against the budget before it is even decoded:
	// malformed, oversized, binary and unknown frames cost the server work
	// too, and must not be a way around the limit.
	if !c.frames.take(now) {
		c.floodStrikes++
		if c.floodStrikes > c.s.opt.FrameBurst {
			// Still sending a whole burst past the limit: a flood, not a
			// burst of clicks. Cut the connection (the participant keeps
			// its place for the reconnect grace).
			c.log.Info("message flood, closing connection", "err", ErrRateLimited)
			c.finish(CloseFlood, "too many messages")
			return
		}
		c.sendError("", fmt.Errorf("%w: slow down", ErrRateLimited))
		return
	}
	c.floodStrikes = 0
	if in.tooLarge {
		c.sendError("", fmt.Errorf("%w: the limit is %d bytes", ErrTooLarge, c.s.opt.MaxMessageBytes))
		return
	}
	if in.binary {
		c.sendError("", fmt.Errorf("%w: binary messages are not part of the protocol", ErrBadRequest))
		return
	}
	req, err := c.s.decode(in.data)
	if err != nil {
		c.sendError(req.Ref, err)
		return
	}
	if !c.budget(req.Type).take(now) || (req.Type == TypeChatSend && !c.chat.take(now)) {
		c.sendError(req.Ref, fmt.Errorf("%w: slow down", ErrRateLimited))
		return
	}
	rctx, cancel := context.WithTimeout(ctx, c.s.opt.WriteTimeout)
	defer cancel()
	if err := c.handle(rctx, req); err != nil {
		c.sendError(req.Ref, err)
		return
	}
	if req.Ref != "" && req.Type != TypePing {
		c.send(TypeAck, req.Ref, nil)
	}
	if req.Type == TypeLeave {
		c.finish(CloseLeft, "left")
	}
}

// handle runs one request against the room. Rights are checked by the room
// (moderator-only actions return room.ErrForbidden and change nothing).
func (c *conn) handle(ctx context.Context, req Request) error {
	m := c.member
	switch p := req.Payload.(type) {
	case extData:
		h := c.extension(req.Type)
		if h == nil {
			return fmt.Errorf("%w: %q is not available here", ErrUnknownType, req.Type)
		}
		return h.Handle(ctx, req.Type, p.raw)
	case *ChatSend:
		_, err := m.Chat(ctx, p.To, p.Text)
		return err
	case *HandRaise:
		return m.RaiseHand(ctx, *p.Up)
	case *RoleSet:
		return m.SetRole(ctx, p.ID, p.Role)
	case *LockSet:
		return m.SetLock(ctx, *p.Lock)
	case *MuteAll:
		return m.MuteAll(ctx, p.ExceptPresenter)
	case *StatusSet:
		return m.SetAway(ctx, *p.Away)
	case *GuestAdmit:
		if p.All {
			_, err := m.AdmitAllGuests(ctx)
			return err
		}
		return m.AdmitGuest(ctx, p.ID, *p.Allow)
	case *Target:
		switch req.Type {
		case TypeHandLower:
			return m.LowerHand(ctx, p.ID)
		case TypeParticipantMute:
			return m.Mute(ctx, p.ID)
		case TypeParticipantRemove:
			return m.Remove(ctx, p.ID)
		case TypePresenterSet:
			return m.SetPresenter(ctx, p.ID)
		}
	case nil:
		switch req.Type {
		case TypePing:
			c.send(TypePong, req.Ref, nil)
			return nil
		case TypeMeetingEnd:
			return m.End(ctx)
		case TypeChatClear:
			return m.ClearChat(ctx)
		case TypeHandLowerAll:
			return m.LowerAllHands(ctx)
		case TypeLeave:
			return m.Leave(ctx)
		}
	}
	return fmt.Errorf("%w: %q", ErrUnknownType, req.Type)
}

// budget returns the bucket a message of type typ counts against: its
// extension's own, or the protocol's.
func (c *conn) budget(typ string) *bucket {
	if i, ok := c.s.extTypes[typ]; ok {
		return &c.ext[i]
	}
	return &c.msgs
}

// bucket is a token bucket: burst tokens, refilled at rate per second.
type bucket struct {
	tokens, burst, rate float64
	last                time.Time
}

func newBucket(burst int, rate float64) bucket {
	return bucket{tokens: float64(burst), burst: float64(burst), rate: rate}
}

func (b *bucket) take(now time.Time) bool {
	if !b.last.IsZero() {
		b.tokens += now.Sub(b.last).Seconds() * b.rate
		if b.tokens > b.burst {
			b.tokens = b.burst
		}
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
