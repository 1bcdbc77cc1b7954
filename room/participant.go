package room

import "time"

// Kind tells how a participant takes part.
type Kind string

const (
	Browser Kind = "browser"
	Phone   Kind = "phone"
	// KindSystem is no participant: the actor of the server's own feature
	// commands (Manager.SystemCommand), e.g. a finished conversion.
	KindSystem Kind = "system"
)

// Participant is one person in a meeting, as kept in the store.
//
// Only the fields of Public ever leave the server towards clients: UserID
// (the platform's internal ID), Slot and anything identifying a phone
// caller stay inside.
type Participant struct {
	// ID is an opaque random handle, used to address the participant in the
	// protocol (private chat, promote). It reveals nothing.
	ID string `json:"id"`
	// UserID is the course platform's user ID from join; never shown.
	UserID string `json:"userID,omitempty"`
	// Slot is the random path segment of the participant's client URL; the
	// session cookie is scoped to it so two tabs of one browser stay apart.
	Slot      string    `json:"slot,omitempty"`
	Name      string    `json:"name"`
	AvatarURL string    `json:"avatarURL,omitempty"`
	Role      Role      `json:"role"`
	Kind      Kind      `json:"kind"`
	Guest     bool      `json:"guest,omitempty"`
	JoinedAt  time.Time `json:"joinedAt"`
	// InRoom is false while the participant waits in the lobby.
	InRoom bool `json:"inRoom"`
	// Approved is set when a moderator let this guest in (guest policy
	// ASK_MODERATOR). Kept in the store, never shown to clients.
	Approved bool `json:"approved,omitempty"`
	// Connected is false while a browser's connection is down (reconnect grace).
	Connected    bool      `json:"connected"`
	Disconnected time.Time `json:"disconnected,omitzero"`
	RaisedHand   bool      `json:"raisedHand,omitempty"`
	// HandRaisedAt is when the hand went up (zero while it is down):
	// moderators see raised hands in the order raised.
	HandRaisedAt time.Time `json:"handRaisedAt,omitzero"`
	// Presenter marks the meeting's one presenter.
	Presenter bool `json:"presenter,omitempty"`
	// Away is the participant's own "away" status.
	Away bool `json:"away,omitempty"`
	// Media state, owned by the media layer (issue 2) and the SIP gateway.
	Audio  bool `json:"audio,omitempty"`
	Muted  bool `json:"muted,omitempty"`
	Video  bool `json:"video,omitempty"`
	Screen bool `json:"screen,omitempty"`
	// Voice is set for participants whose audio comes through the phone.
	Voice bool `json:"voice,omitempty"`
	// CustomData is what the platform passed as join's userdata-* (names
	// without the prefix): reported back in getMeetingInfo, never shown
	// to clients.
	CustomData map[string]string `json:"customData,omitempty"`
}

// Public is the view of a participant that clients may see.
type Public struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Avatar tells that the platform gave an avatar; clients load it through
	// Aula (never from the platform's host directly).
	Avatar     bool `json:"avatar"`
	Role       Role `json:"role"`
	Kind       Kind `json:"kind"`
	InRoom     bool `json:"inRoom"`
	Connected  bool `json:"connected"`
	RaisedHand bool `json:"raisedHand"`
	// HandRaisedAt orders the raised hands (absent while the hand is down).
	HandRaisedAt time.Time `json:"handRaisedAt,omitzero"`
	Presenter    bool      `json:"presenter"`
	Away         bool      `json:"away"`
	Audio        bool      `json:"audio"`
	Muted        bool      `json:"muted"`
	Video        bool      `json:"video"`
	Screen       bool      `json:"screen"`
}

// Public returns the client-safe view.
func (p *Participant) Public() Public {
	return Public{
		ID: p.ID, Name: p.Name, Avatar: p.AvatarURL != "", Role: p.Role, Kind: p.Kind,
		InRoom: p.InRoom, Connected: p.Connected, RaisedHand: p.RaisedHand,
		HandRaisedAt: p.HandRaisedAt, Presenter: p.Presenter, Away: p.Away,
		Audio: p.Audio, Muted: p.Muted, Video: p.Video, Screen: p.Screen,
	}
}

// ChatMessage is one line of chat. To is empty for the public chat, else the
// recipient's participant ID (private 1:1 chat inside the room).
type ChatMessage struct {
	ID       string `json:"id"`
	From     string `json:"from"`
	FromName string `json:"fromName"`
	// System marks a line of the meeting itself (a poll's result): no
	// sender.
	System bool `json:"system,omitempty"`
	// FromRole is the sender's role when they wrote the line.
	FromRole Role      `json:"fromRole,omitempty"`
	To       string    `json:"to,omitempty"`
	Text     string    `json:"text"`
	Time     time.Time `json:"time"`
}

// Identity is who joins: what the API join (or the SIP gateway) vouches for.
type Identity struct {
	ParticipantID string `json:"participantID"`
	Name          string `json:"name"`
	AvatarURL     string `json:"avatarURL,omitempty"`
	Role          Role   `json:"role"`
	Kind          Kind   `json:"kind"`
	UserID        string `json:"userID,omitempty"`
	Guest         bool   `json:"guest,omitempty"`
	// CustomData: join's userdata-* parameters (see Participant).
	CustomData map[string]string `json:"customData,omitempty"`
}

// Session binds a browser's session cookie to an identity in a meeting. The
// token is the cookie value; the store keeps only its hash, indexed by
// meeting so that the meeting's wipe removes it.
type Session struct {
	MeetingKey string   `json:"meetingKey"`
	Slot       string   `json:"slot"`
	Identity   Identity `json:"identity"`
	// Used is set once the one-time join URL (redirect=false) was redeemed.
	Used bool `json:"used,omitempty"`
}
