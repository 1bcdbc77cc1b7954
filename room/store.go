package room

import (
	"context"
	"os"
	"time"
)

// Store keeps meeting state so several nodes can share it and a crashed node
// leaves nothing behind for long: every key written carries a TTL, refreshed
// by Touch while the meeting runs. Implementations live in package store
// (memory and Redis) and pass one contract suite.
//
// A meeting is addressed by its key, the incarnation ID of one creation
// (Meeting.Key); the platform's meetingID leads to the running incarnation
// through MeetingKeyByID. The owner node writes a running meeting's state
// through its persister, outside the meeting's lock; other nodes only read.
//
// Errors: ErrNotFound for missing meetings/sessions, ErrExists when a
// meetingID is taken, ErrPINTaken when a PIN is.
type Store interface {
	// CreateMeeting stores m, reserves its meetingID (KeyOf(m.MeetingID) →
	// m.Key) and its PIN atomically. It fails with ErrExists if the
	// meetingID runs, ErrPINTaken if m.PIN is reserved; in both cases
	// nothing is written.
	CreateMeeting(ctx context.Context, m *Meeting, ttl time.Duration) error
	// UpdateMeeting overwrites a stored meeting (ErrNotFound if gone).
	UpdateMeeting(ctx context.Context, m *Meeting, ttl time.Duration) error
	// RestoreMeeting writes a running meeting back after the store lost
	// it (a Redis restarted empty): record, meetingID and PIN reservation
	// and index, whatever is missing. It fails with ErrExists if the
	// meetingID meanwhile leads to another incarnation, ErrPINTaken if the
	// PIN belongs to another meeting.
	RestoreMeeting(ctx context.Context, m *Meeting, ttl time.Duration) error
	GetMeeting(ctx context.Context, key string) (*Meeting, error)
	// MeetingKeyByID returns the key of the running incarnation of the
	// meeting whose KeyOf(meetingID) is idKey.
	MeetingKeyByID(ctx context.Context, idKey string) (string, error)
	// ListMeetings returns every stored meeting, in no particular order.
	ListMeetings(ctx context.Context) ([]*Meeting, error)
	// MeetingByPIN returns the key of the running meeting with that PIN.
	MeetingByPIN(ctx context.Context, pin string) (string, error)

	PutParticipant(ctx context.Context, meetingKey string, p *Participant, ttl time.Duration) error
	DeleteParticipant(ctx context.Context, meetingKey, id string) error
	ListParticipants(ctx context.Context, meetingKey string) ([]*Participant, error)

	// AppendChat adds a chat line, keeping at most max lines (oldest dropped).
	AppendChat(ctx context.Context, meetingKey string, msg *ChatMessage, max int, ttl time.Duration) error
	ListChat(ctx context.Context, meetingKey string) ([]*ChatMessage, error)
	// ClearChat removes every chat line of the meeting.
	ClearChat(ctx context.Context, meetingKey string) error

	// PutSession stores a session under the hash of its token.
	PutSession(ctx context.Context, tokenHash string, s *Session, ttl time.Duration) error
	GetSession(ctx context.Context, tokenHash string) (*Session, error)
	// TakeJoinSession returns the session under tokenHash and, if it is a
	// one-time join session not yet redeemed (Used false), deletes it in
	// the same atomic step: of concurrent callers exactly one receives it
	// unused. A redeemed session is returned as it is and kept.
	TakeJoinSession(ctx context.Context, tokenHash string) (*Session, error)
	DeleteSession(ctx context.Context, tokenHash string) error

	// PutState / GetState hold one named state blob of a meeting: the
	// removed participants, a feature's state.
	PutState(ctx context.Context, meetingKey, name string, value []byte, ttl time.Duration) error
	GetState(ctx context.Context, meetingKey, name string) ([]byte, error)

	// AppendLog appends one entry to a meeting's named append log (the
	// state of high-rate features: note operations, strokes) and returns
	// the log's length.
	AppendLog(ctx context.Context, meetingKey, name string, entry []byte, ttl time.Duration) (int, error)
	// ReadLog returns the log's snapshot (nil if none) and the entries
	// appended after it, oldest first.
	ReadLog(ctx context.Context, meetingKey, name string) (snapshot []byte, entries [][]byte, err error)
	// CompactLog replaces the log's snapshot and drops its first drop
	// entries (those the snapshot contains) in one atomic step.
	CompactLog(ctx context.Context, meetingKey, name string, snapshot []byte, drop int, ttl time.Duration) error

	// AcquireLease makes node the owner of the meeting for ttl: it
	// succeeds when nobody owns it or node already does (then the lease is
	// renewed), and reports false when another node holds it.
	AcquireLease(ctx context.Context, meetingKey, node string, ttl time.Duration) (bool, error)
	// ReleaseLease gives up node's lease; a lease held by another node is
	// left alone (compare and delete).
	ReleaseLease(ctx context.Context, meetingKey, node string) error
	// LeaseOwner returns the node holding the lease, "" when none does.
	LeaseOwner(ctx context.Context, meetingKey string) (string, error)
	// RequestEnd asks the owner of a meeting to end it (a node that does
	// not own it received the API end); EndRequested reads the reason
	// ("" when nobody asked).
	RequestEnd(ctx context.Context, meetingKey, reason string, ttl time.Duration) error
	EndRequested(ctx context.Context, meetingKey string) (string, error)

	// Touch refreshes the TTL of every key of the meeting (ErrNotFound
	// when its record is gone).
	Touch(ctx context.Context, meetingKey string, ttl time.Duration) error
	// DeleteMeeting removes every key of the meeting: record, meetingID
	// and PIN reservation (while they are still its own), participants,
	// chat, sessions, states, logs, lease, end request. Deleting a missing
	// meeting is not an error.
	DeleteMeeting(ctx context.Context, meetingKey string) error

	// Ping reports whether the store answers (readiness).
	Ping(ctx context.Context) error

	Close() error
}

// Files keeps a meeting's uploaded files (presentations). Remove deletes
// all of them; it is called when the meeting is wiped.
type Files interface {
	Put(meetingKey, name string, data []byte) (string, error)
	Open(meetingKey, name string) ([]byte, error)
	List(meetingKey string) ([]string, error)
	Remove(meetingKey string) error
	// Meetings lists the keys of the meetings that have a folder.
	Meetings() ([]string, error)
	// Stage returns a new empty folder outside every meeting's, where an
	// upload is written and converted before it joins its meeting
	// (Commit). Staged folders left by a crash go at the next start.
	Stage() (string, error)
	// Commit moves a staged folder (or file) into the meeting's folder as
	// rel (a relative path of valid names, e.g. "docs/<id>").
	Commit(meetingKey, staged, rel string) error
	// OpenFile opens a file inside the meeting's folder by relative path,
	// never outside it.
	OpenFile(meetingKey, rel string) (*os.File, error)
	// Path returns the absolute path of a file inside the meeting's
	// folder (for tools that read files by name), after the same checks.
	Path(meetingKey, rel string) (string, error)
}
