package room

// EventType names what happened in a room. Signaling turns events into
// protocol messages; the SFU and the SIP gateway react to the ones they need.
type EventType string

const (
	// EventJoined: a participant entered the room (Participant set).
	EventJoined EventType = "joined"
	// EventUpdated: a participant's public state changed (Participant set).
	EventUpdated EventType = "updated"
	// EventLeft: a participant left or was removed (ParticipantID set).
	EventLeft EventType = "left"
	// EventAdmitted: the listener's own participant left the lobby.
	EventAdmitted EventType = "admitted"
	// EventChat: a chat line the listener may read (Chat set).
	EventChat EventType = "chat"
	// EventRemoved: the listener's own participant was removed by a moderator.
	EventRemoved EventType = "removed"
	// EventReplaced: the same participant attached again elsewhere (a new
	// tab or a reconnect); this listener is detached.
	EventReplaced EventType = "replaced"
	// EventEnded: the meeting ended (Reason, LogoutURL set).
	EventEnded EventType = "ended"
	// EventDenied: a moderator refused to let the listener's own guest
	// participant in; its session cannot enter again.
	EventDenied EventType = "denied"
	// EventWaiting: to moderators in the room, the guests now waiting for
	// approval (Waiting set, possibly empty).
	EventWaiting EventType = "waiting"
)

// End reasons, as shown to clients.
const (
	ReasonAPI         = "api"
	ReasonModerator   = "moderator"
	ReasonDuration    = "duration"
	ReasonNoUser      = "noUserJoined"
	ReasonEmpty       = "empty"
	ReasonNoModerator = "noModerator"
	ReasonShutdown    = "shutdown"
)

// Event is one notification to a Listener.
type Event struct {
	Type          EventType
	Participant   *Public
	ParticipantID string
	Chat          *ChatMessage
	Reason        string
	LogoutURL     string
	// Waiting is the whole list for EventWaiting, oldest first; shared
	// between listeners, so read-only.
	Waiting []Public
}

// Listener receives a participant's events. Notify is called without any
// room lock held and must not block: implementations queue (bounded) and
// treat a full queue as a broken connection.
type Listener interface {
	Notify(Event)
}

// ListenerFunc adapts a function to Listener.
type ListenerFunc func(Event)

// Notify calls f(e).
func (f ListenerFunc) Notify(e Event) { f(e) }
