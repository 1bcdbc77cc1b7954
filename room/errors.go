package room

import "errors"

// Sentinel errors of the room domain. Edges (the BBB API, the WebSocket
// protocol, the SIP gateway) map them to their own wire codes; callers test
// them with errors.Is.
var (
	// ErrNotFound: no running meeting (or participant, or session) by that key.
	ErrNotFound = errors.New("room: not found")
	// ErrExists: a meeting with this meetingID is already running.
	ErrExists = errors.New("room: meeting already exists")
	// ErrPINTaken: the requested voice bridge PIN belongs to another running meeting.
	ErrPINTaken = errors.New("room: PIN already in use")
	// ErrInvalid: a parameter failed validation; wrapped with the detail.
	ErrInvalid = errors.New("room: invalid parameter")
	// ErrForbidden: the participant's role does not allow the action.
	ErrForbidden = errors.New("room: not allowed")
	// ErrEnded: the meeting has ended; nothing more happens in it.
	ErrEnded = errors.New("room: meeting ended")
	// ErrFull: maxParticipants reached.
	ErrFull = errors.New("room: meeting is full")
	// ErrDenied: the guest policy refuses this participant.
	ErrDenied = errors.New("room: guest denied")
	// ErrNotInRoom: the participant is waiting in the lobby and may not act yet.
	ErrNotInRoom = errors.New("room: participant is not in the room yet")
)

var (
	// ErrReplaced: the call came through a handle whose participant has
	// attached again elsewhere (a newer tab or a reconnect).
	ErrReplaced = errors.New("room: connection replaced")
	// ErrUnavailable: the store has not accepted the meeting's writes for
	// too long (or too many wait); the change was refused and nothing of
	// it happened. It passes once the store recovers.
	ErrUnavailable = errors.New("room: store unavailable")
	// ErrConflict: the request was made on state too old to bring up to
	// date (a note edit far behind): reload and try again.
	ErrConflict = errors.New("room: out of date")
	// ErrElsewhere: another node owns the meeting (its lease); this node
	// cannot run it.
	ErrElsewhere = errors.New("room: meeting runs on another node")
)
