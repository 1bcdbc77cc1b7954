package signaling

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"aula/room"
)

// Feature connects one room feature (a state machine registered with the
// room.Manager) to the protocol: it decodes the feature's client messages
// into the feature's commands, runs them through Member.Command, and turns
// the feature's events into server messages. A lesson tool needs only
// this, its room state machine and its client module.
type Feature struct {
	// Name is the room feature's name (room.FeatureSpec.Name).
	Name string
	// Commands decode each client message type into a command (strictly:
	// use DecodeData; an error is a bad request and changes nothing).
	Commands map[string]func(data json.RawMessage) (any, error)
	// Event turns one of the feature's event payloads into a server
	// message for this participant; ok false sends nothing.
	Event func(self string, payload any) (typ string, data any, ok bool)
	// Burst and PerSecond are the feature's message budget.
	Burst     int
	PerSecond float64
}

var (
	_ Extension = (*Feature)(nil)
	_ Budgeted  = (*Feature)(nil)
)

// Types implements Extension.
func (f *Feature) Types() []string {
	out := make([]string, 0, len(f.Commands))
	for t := range f.Commands {
		out = append(out, t)
	}
	return out
}

// Budget implements Budgeted.
func (f *Feature) Budget() (int, float64) { return f.Burst, f.PerSecond }

// Open implements Extension.
func (f *Feature) Open(_ context.Context, c Conn) (Handler, error) {
	return &featureConn{f: f, c: c, log: c.Logger()}, nil
}

type featureConn struct {
	f   *Feature
	c   Conn
	log *slog.Logger
}

func (h *featureConn) Handle(ctx context.Context, typ string, data json.RawMessage) error {
	dec := h.f.Commands[typ]
	if dec == nil {
		return fmt.Errorf("%w: %q", ErrUnknownType, typ)
	}
	cmd, err := dec(data)
	if err != nil {
		return err
	}
	_, err = h.c.Member().Command(ctx, h.f.Name, cmd)
	return err
}

func (h *featureConn) Event(_ context.Context, e room.Event) {
	if e.Type != room.EventFeature || e.Feature != h.f.Name || h.f.Event == nil {
		return
	}
	if typ, data, ok := h.f.Event(h.c.Member().ID(), e.Payload); ok {
		h.c.Send(typ, data)
	}
}

func (h *featureConn) Close() {}

// Reaction message types and payloads (docs/protocol.md).
const (
	TypeReactionSend = "reaction.send" // client: ReactionSend
	TypeReaction     = "reaction"      // server: ReactionMsg
)

// ReactionSend sends one of room.ReactionEmoji.
type ReactionSend struct {
	Emoji string `json:"emoji"`
}

// ReactionMsg tells that participant ID reacted with Emoji.
type ReactionMsg struct {
	ID    string `json:"id"`
	Emoji string `json:"emoji"`
}

// Reactions is the protocol side of room.ReactionFeature: a few per
// second at most, they only decorate.
func Reactions() *Feature {
	return &Feature{
		Name: room.FeatureReaction,
		Commands: map[string]func(json.RawMessage) (any, error){
			TypeReactionSend: func(data json.RawMessage) (any, error) {
				var p ReactionSend
				if err := DecodeData(data, &p); err != nil {
					return nil, err
				}
				return room.SendReaction{Emoji: p.Emoji}, nil
			},
		},
		Event: func(_ string, payload any) (string, any, bool) {
			r, ok := payload.(room.Reaction)
			return TypeReaction, ReactionMsg{ID: r.ID, Emoji: r.Emoji}, ok
		},
		Burst: 5, PerSecond: 1,
	}
}
