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
	// EventChat: a chat line the listener may read (Chat set, already in
	// the form this listener may see it).
	EventChat EventType = "chat"
	// EventChatCleared: a moderator cleared the public chat.
	EventChatCleared EventType = "chatCleared"
	// EventRemoved: the listener's own participant was removed by a moderator.
	EventRemoved EventType = "removed"
	// EventReplaced: the same participant attached again elsewhere (a new
	// tab or a reconnect); this listener is detached.
	EventReplaced EventType = "replaced"
	// EventEnded: the meeting ended (Reason, LogoutURL set).
	EventEnded EventType = "ended"
	// EventMoved: this node lost the meeting to another node (its lease
	// was taken over); the listener is detached and should reconnect.
	EventMoved EventType = "moved"
	// EventDenied: a moderator refused to let the listener's own guest
	// participant in; its session cannot enter again.
	EventDenied EventType = "denied"
	// EventWaiting: to moderators in the room, the guests now waiting for
	// approval (Waiting set, possibly empty).
	EventWaiting EventType = "waiting"
	// EventMeetingUpdated: the meeting's settings changed (Meeting set):
	// the lock settings, applied at once by the media layer. Resync is set
	// when what the listener may see of others changed with it (the hidden
	// user list): a fresh snapshot is due.
	EventMeetingUpdated EventType = "meetingUpdated"
	// EventFeature: a feature's event (Feature, Payload set).
	EventFeature EventType = "feature"
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
	// ReasonParent: a child meeting (breakout) ended with its parent.
	ReasonParent = "parent"
)

// Event is one notification to a Listener. The fields of the core's own
// events are fixed; a feature's events carry the feature's name and a
// payload type of its own, so features never add fields here.
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
	// Meeting is the meeting's new state for EventMeetingUpdated (a copy,
	// shared between listeners: read-only).
	Meeting *Meeting
	// Resync: see EventMeetingUpdated.
	Resync bool
	// Feature names the feature of an EventFeature; Payload is its
	// event, of a type the feature documents (read-only: shared).
	Feature string
	Payload any
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
