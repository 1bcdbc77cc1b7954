package signaling

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"aula/room"
)

// Extension adds message types to the protocol for a later feature (media
// offer/answer/candidates, polls, notes …) without touching the envelope or
// the connection actor. The feature's package owns its payload types and
// documents them in docs/protocol.md.
type Extension interface {
	// Types lists the client message types the extension handles. They
	// must not clash with the protocol's own types or another extension's.
	Types() []string
	// Open is called in the connection's loop once the participant is
	// attached, before the welcome. It returns the connection's handler,
	// or nil when the feature has nothing to do for this participant.
	Open(ctx context.Context, c Conn) (Handler, error)
}

// Handler is an extension's state for one connection. Its methods run in
// the connection's loop, one at a time, so they need no locking among
// themselves and must not block for long.
type Handler interface {
	// Handle runs one client message of the extension's types. data is the
	// raw payload (decode it with DecodeData); a returned error becomes an
	// error message with the request's ref, so wrap the sentinels of
	// signaling or room to choose the code.
	Handle(ctx context.Context, typ string, data json.RawMessage) error
	// Event sees every room event of the participant, after the protocol's
	// own messages for it were queued.
	Event(ctx context.Context, e room.Event)
	// Close is called once when the connection ends (before the
	// participant is detached).
	Close()
}

// Budgeted is an optional interface of an Extension: its messages are
// counted against a token bucket of their own, burst at once then
// perSecond, so a feature with a high message rate (note keystrokes,
// strokes) neither starves the others nor lends them its budget. An
// extension without it gets the protocol's default budget.
type Budgeted interface {
	Budget() (burst int, perSecond float64)
}

// Welcomer is an optional interface of a Handler: Welcomed runs in the
// connection's loop right after each welcome was queued (on connect, after
// lobby.admitted, after a change of one's own role), with the snapshot it
// was made from. A feature that must speak only after the welcome (media:
// ICE servers and offers) starts there.
type Welcomer interface {
	Welcomed(ctx context.Context, s *room.Snapshot)
}

// Conn is what an extension may use of a connection.
type Conn interface {
	// Member is the participant's handle on its room.
	Member() *room.Member
	// Send queues a server message. It never blocks and may be called from
	// any goroutine (e.g. a Pion callback); a full queue drops the
	// connection, and after the end it does nothing.
	Send(typ string, data any)
	// Logger is the connection's child logger.
	Logger() *slog.Logger
}

// DecodeData decodes a payload strictly, as the protocol's own types are:
// it must be one JSON object with no unknown fields.
func DecodeData(data json.RawMessage, v any) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return fmt.Errorf("%w: data must be an object", ErrBadRequest)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data", ErrBadRequest)
	}
	return nil
}

// extData is the payload of an extension's message, passed on undecoded.
type extData struct{ raw json.RawMessage }

// extensionTypes maps each extension type to its extension; a clash is a
// programming error found at start-up.
func extensionTypes(exts []Extension) map[string]int {
	out := map[string]int{}
	for i, e := range exts {
		for _, typ := range e.Types() {
			if _, builtin := payloadOf(typ); builtin {
				panic(fmt.Sprintf("signaling: extension type %q clashes with the protocol", typ))
			}
			if _, dup := out[typ]; dup {
				panic(fmt.Sprintf("signaling: extension type %q registered twice", typ))
			}
			if typ == "" || len(typ) > maxTypeLen {
				panic(fmt.Sprintf("signaling: bad extension type %q", typ))
			}
			out[typ] = i
		}
	}
	return out
}

// decode parses a client message: the protocol's own types strictly, an
// extension's types with their payload left for the extension.
func (s *Server) decode(b []byte) (Request, error) {
	req, err := DecodeRequest(b)
	if err == nil || len(s.extTypes) == 0 {
		return req, err
	}
	if _, ok := s.extTypes[req.Type]; !ok {
		return req, err
	}
	e, eerr := DecodeEnvelope(b)
	if eerr != nil {
		return req, eerr
	}
	req.Payload = extData{raw: e.Data}
	return req, nil
}

// extBuckets returns a fresh budget for each extension.
func (s *Server) extBuckets() []bucket {
	out := make([]bucket, len(s.opt.Extensions))
	for i, e := range s.opt.Extensions {
		burst, rate := s.opt.MsgBurst, s.opt.MsgPerSecond
		if b, ok := e.(Budgeted); ok {
			burst, rate = b.Budget()
		}
		out[i] = newBucket(burst, rate)
	}
	return out
}

// Conn's methods, for extensions.

func (c *conn) Member() *room.Member         { return c.member }
func (c *conn) Send(typ string, data any)    { c.send(typ, "", data) }
func (c *conn) Logger() *slog.Logger         { return c.log }
func (c *conn) extension(typ string) Handler { return c.handlers[typ] }
