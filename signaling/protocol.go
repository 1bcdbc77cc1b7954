package signaling

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"aula/room"
)

// The wire protocol: every WebSocket text message is one Envelope. Its
// shape never changes; features add message types and payload structs
// here, mirrored in web/static/js/protocol.js and docs/protocol.md.
//
// Participants on the wire are always room.Public: the platform's user ID,
// the client slot and the avatar URL stay on the server.

// Envelope wraps every message in both directions. Ref is chosen by the
// client for a request; the server echoes it on the ack or error answering
// that request, so a client can match replies.
type Envelope struct {
	Type string          `json:"type"`
	Ref  string          `json:"ref,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
}

// Limits on the envelope itself.
const (
	maxTypeLen = 64
	maxRefLen  = 64
)

// Client → server message types.
const (
	TypeChatSend          = "chat.send"           // ChatSend
	TypeHandRaise         = "hand.raise"          // HandRaise
	TypeHandLower         = "hand.lower"          // Target (moderator)
	TypeRoleSet           = "role.set"            // RoleSet (moderator)
	TypeParticipantMute   = "participant.mute"    // Target (moderator)
	TypeParticipantRemove = "participant.remove"  // Target (moderator)
	TypeMeetingEnd        = "meeting.end"         // no data (moderator)
	TypeGuestAdmit        = "guest.admit"         // GuestAdmit (moderator)
	TypeLockSet           = "lock.set"            // LockSet (moderator)
	TypeChatClear         = "chat.clear"          // no data (moderator)
	TypeHandLowerAll      = "hand.lowerAll"       // no data (moderator)
	TypeMuteAll           = "participant.muteAll" // MuteAll (moderator)
	TypePresenterSet      = "presenter.set"       // Target (moderator)
	TypeStatusSet         = "status.set"          // StatusSet
	TypeLeave             = "leave"               // no data
	TypePing              = "ping"                // no data
)

// Server → client message types.
const (
	TypeWelcome            = "welcome"             // Welcome
	TypeLobbyAdmitted      = "lobby.admitted"      // no data; a welcome follows
	TypeParticipantJoined  = "participant.joined"  // ParticipantMsg
	TypeParticipantUpdated = "participant.updated" // ParticipantMsg
	TypeParticipantLeft    = "participant.left"    // Target
	TypeChatMessage        = "chat.message"        // room.ChatMessage
	TypeMeetingEnded       = "meeting.ended"       // Ended
	TypeRemoved            = "removed"             // no data; the socket closes
	TypeReplaced           = "replaced"            // no data; the socket closes
	TypeAck                = "ack"                 // no data; ref of the request
	TypeError              = "error"               // Error
	TypePong               = "pong"                // no data; ref of the ping
	TypeGuestWaiting       = "guest.waiting"       // GuestWaiting (to moderators)
	TypeGuestDenied        = "guest.denied"        // no data; the socket closes
	TypeMeetingUpdated     = "meeting.updated"     // MeetingUpdated
	TypeChatCleared        = "chat.cleared"        // no data
)

// WebSocket close codes the server uses to tell the client whether to
// reconnect. 4000–4999 mean "final: do not reconnect".
const (
	CloseEnded    = 4001 // the meeting ended (or no longer exists)
	CloseRemoved  = 4003 // removed by a moderator, or refused
	CloseReplaced = 4004 // the same participant connected elsewhere
	CloseLeft     = 4005 // the participant left
	CloseDenied   = 4006 // a moderator did not let the guest in
	CloseFull     = 4009 // the meeting is full
	// CloseFlood: the client kept sending past its message budget.
	CloseFlood = 1008
	// CloseMoved: another node took the meeting over; reconnect.
	CloseMoved = 1012
)

// ChatSend sends a chat line: public when To is empty, else private to the
// participant with that ID.
type ChatSend struct {
	To   string `json:"to,omitempty"`
	Text string `json:"text"`
}

// HandRaise raises (Up) or lowers one's own hand.
type HandRaise struct {
	Up *bool `json:"up"`
}

// Target names another participant.
type Target struct {
	ID string `json:"id"`
}

// RoleSet promotes or demotes a participant; Role is "MODERATOR" or "VIEWER".
type RoleSet struct {
	ID   string    `json:"id"`
	Role room.Role `json:"role"`
}

// GuestAdmit lets a waiting guest in (Allow true) or turns them away
// (Allow false). With All set instead of an ID, it admits everyone waiting
// (Allow must then be true).
type GuestAdmit struct {
	ID    string `json:"id,omitempty"`
	All   bool   `json:"all,omitempty"`
	Allow *bool  `json:"allow"`
}

// MuteAll mutes everyone in the room but the sender and, with
// ExceptPresenter, the presenter.
type MuteAll struct {
	ExceptPresenter bool `json:"exceptPresenter"`
}

// StatusSet sets one's own "away" status.
type StatusSet struct {
	Away *bool `json:"away"`
}

// LockSet replaces the meeting's lock settings (what viewers may not do).
type LockSet struct {
	Lock *room.LockSettings `json:"lock"`
}

// MeetingUpdated carries the meeting's new lock settings, in force at
// once; sent to everyone in the room when a moderator changes them.
type MeetingUpdated struct {
	Lock room.LockSettings `json:"lock"`
}

// GuestWaiting is the whole list of guests waiting for a moderator's
// approval, oldest first; sent to moderators whenever it changes.
type GuestWaiting struct {
	Waiting []room.Public `json:"waiting"`
}

// Lobby reasons: why a participant waits (Welcome.LobbyReason).
const (
	LobbyStart = "start" // until a moderator starts the meeting
	LobbyGuest = "guest" // until a moderator lets this guest in
)

// MeetingInfo is what a participant learns about the meeting. Inside the
// room it includes the dial-in number and PIN (and the welcome text, which
// may contain them); in the lobby only the name.
type MeetingInfo struct {
	Name        string            `json:"name"`
	Welcome     string            `json:"welcome,omitempty"`
	PIN         string            `json:"pin,omitempty"`
	DialNumber  string            `json:"dialNumber,omitempty"`
	LogoutURL   string            `json:"logoutURL,omitempty"`
	StartTime   time.Time         `json:"startTime,omitzero"`
	Running     bool              `json:"running"`
	MuteOnStart bool              `json:"muteOnStart"`
	Lock        room.LockSettings `json:"lock"`
}

// Welcome is the first message on every connection, and again after
// lobby.admitted or a change of one's own role: the full state to render.
type Welcome struct {
	Self       room.Public        `json:"self"`
	Meeting    MeetingInfo        `json:"meeting"`
	Roster     []room.Public      `json:"roster"`
	Chat       []room.ChatMessage `json:"chat"`
	Lobby      bool               `json:"lobby"`
	ServerTime time.Time          `json:"serverTime"`
	// LobbyReason tells in the lobby what one waits for: LobbyStart or
	// LobbyGuest. Empty inside the room.
	LobbyReason string `json:"lobbyReason,omitempty"`
	// Waiting lists the guests waiting for approval; moderators only.
	Waiting []room.Public `json:"waiting,omitempty"`
	// Features holds each lesson feature's state as this participant may
	// see it, by feature name (see the feature's section).
	Features map[string]any `json:"features,omitempty"`
}

// ParticipantMsg carries one participant's public state.
type ParticipantMsg struct {
	Participant room.Public `json:"participant"`
}

// Ended tells why the meeting ended and where to go.
type Ended struct {
	Reason    string `json:"reason"`
	LogoutURL string `json:"logoutURL,omitempty"`
}

// Error answers a request (Ref set) or reports a problem with a message
// the server could not attribute (Ref empty).
type Error struct {
	Ref     string `json:"ref,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Request is a decoded client message: its envelope and typed payload
// (nil for types without data).
type Request struct {
	Type    string
	Ref     string
	Payload any
}

// payloadOf returns a fresh payload for a client type, or nil when the type
// carries no data. known is false for types clients may not send.
func payloadOf(typ string) (p any, known bool) {
	switch typ {
	case TypeChatSend:
		return &ChatSend{}, true
	case TypeHandRaise:
		return &HandRaise{}, true
	case TypeHandLower, TypeParticipantMute, TypeParticipantRemove, TypePresenterSet:
		return &Target{}, true
	case TypeMuteAll:
		return &MuteAll{}, true
	case TypeStatusSet:
		return &StatusSet{}, true
	case TypeRoleSet:
		return &RoleSet{}, true
	case TypeGuestAdmit:
		return &GuestAdmit{}, true
	case TypeLockSet:
		return &LockSet{}, true
	case TypeMeetingEnd, TypeLeave, TypePing, TypeChatClear, TypeHandLowerAll:
		return nil, true
	}
	return nil, false
}

// DecodeEnvelope parses the envelope of a client message. It returns the
// ref even when later checks fail, so the error can answer the request.
func DecodeEnvelope(b []byte) (Envelope, error) {
	var e Envelope
	if !utf8.Valid(b) {
		return e, fmt.Errorf("%w: not UTF-8", ErrBadRequest)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return Envelope{}, fmt.Errorf("%w: envelope: %v", ErrBadRequest, err)
	}
	if dec.More() {
		return Envelope{}, fmt.Errorf("%w: trailing data after the envelope", ErrBadRequest)
	}
	if len(e.Ref) > maxRefLen {
		return Envelope{}, fmt.Errorf("%w: ref longer than %d bytes", ErrBadRequest, maxRefLen)
	}
	if e.Type == "" {
		return e, fmt.Errorf("%w: type is missing", ErrBadRequest)
	}
	if len(e.Type) > maxTypeLen {
		return Envelope{Ref: e.Ref}, fmt.Errorf("%w: type longer than %d bytes", ErrBadRequest, maxTypeLen)
	}
	return e, nil
}

// DecodeRequest parses and validates a client message: envelope, type and
// payload (strictly: unknown fields are refused). On error the returned
// Request still carries the ref when it could be read.
func DecodeRequest(b []byte) (Request, error) {
	e, err := DecodeEnvelope(b)
	req := Request{Type: e.Type, Ref: e.Ref}
	if err != nil {
		return req, err
	}
	p, known := payloadOf(e.Type)
	if !known {
		return req, fmt.Errorf("%w: %q", ErrUnknownType, e.Type)
	}
	data := bytes.TrimSpace(e.Data)
	if p == nil {
		if len(data) != 0 && !bytes.Equal(data, []byte("null")) && !bytes.Equal(data, []byte("{}")) {
			return req, fmt.Errorf("%w: %s takes no data", ErrBadRequest, e.Type)
		}
		return req, nil
	}
	if len(data) == 0 || data[0] != '{' {
		return req, fmt.Errorf("%w: %s needs a data object", ErrBadRequest, e.Type)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		return req, fmt.Errorf("%w: %s: %v", ErrBadRequest, e.Type, err)
	}
	if err := validate(p); err != nil {
		return req, fmt.Errorf("%w: %s: %v", ErrBadRequest, e.Type, err)
	}
	req.Payload = p
	return req, nil
}

func validate(p any) error {
	switch v := p.(type) {
	case *ChatSend:
		if v.Text == "" {
			return fmt.Errorf("text is missing")
		}
	case *HandRaise:
		if v.Up == nil {
			return fmt.Errorf("up is missing")
		}
	case *Target:
		if v.ID == "" {
			return fmt.Errorf("id is missing")
		}
	case *GuestAdmit:
		if v.Allow == nil {
			return fmt.Errorf("allow is missing")
		}
		if (v.ID == "") == !v.All {
			return fmt.Errorf("give either id or all")
		}
		if v.All && !*v.Allow {
			return fmt.Errorf("all admits everyone: allow must be true")
		}
	case *StatusSet:
		if v.Away == nil {
			return fmt.Errorf("away is missing")
		}
	case *LockSet:
		if v.Lock == nil {
			return fmt.Errorf("lock is missing")
		}
	case *RoleSet:
		if v.ID == "" {
			return fmt.Errorf("id is missing")
		}
		if !v.Role.Valid() {
			return fmt.Errorf("role must be %q or %q", room.Moderator, room.Viewer)
		}
	}
	return nil
}

// encode builds one server message. Payloads are the types above, which
// always marshal; a failure is a programming error reported as such.
func encode(typ, ref string, data any) ([]byte, error) {
	e := Envelope{Type: typ, Ref: ref}
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", typ, err)
		}
		e.Data = b
	}
	return json.Marshal(e)
}

// welcomeOf turns a room snapshot into the welcome message. Only public
// meeting fields are copied: never passwords, the meetingID or metadata.
func welcomeOf(s *room.Snapshot, now time.Time) Welcome {
	w := Welcome{
		Self:       s.Self,
		Lobby:      !s.Self.InRoom,
		Roster:     s.Roster,
		Chat:       s.Chat,
		Waiting:    s.Waiting,
		Features:   s.Features,
		ServerTime: now.UTC(),
		Meeting: MeetingInfo{
			Name:    s.Meeting.Name,
			Running: s.Meeting.Running(),
		},
	}
	if w.Roster == nil {
		w.Roster = []room.Public{}
	}
	if w.Chat == nil {
		w.Chat = []room.ChatMessage{}
	}
	switch {
	case w.Lobby && s.AwaitingApproval:
		w.LobbyReason = LobbyGuest
	case w.Lobby:
		w.LobbyReason = LobbyStart
	}
	if !w.Lobby {
		mt := &s.Meeting
		w.Meeting.Welcome = mt.WelcomeText()
		w.Meeting.PIN = mt.PIN
		w.Meeting.DialNumber = mt.DialNumber
		w.Meeting.LogoutURL = mt.LogoutURL
		w.Meeting.StartTime = mt.StartTime.UTC()
		w.Meeting.MuteOnStart = mt.MuteOnStart
		w.Meeting.Lock = mt.Lock
	}
	return w
}
