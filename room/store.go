package room

import (
	"context"
	"time"
)

// Store keeps meeting state so several nodes can share it and a crashed node
// leaves nothing behind for long: every key written carries a TTL, refreshed
// by Touch while the meeting runs. Implementations live in package store
// (memory and Redis) and pass one contract suite.
//
// Errors: ErrNotFound for missing meetings/sessions, ErrExists when a
// meetingID is taken, ErrPINTaken when a PIN is.
type Store interface {
	// CreateMeeting stores m and reserves its PIN atomically. It fails with
	// ErrExists if m.Key is stored, ErrPINTaken if m.PIN is reserved; in
	// both cases nothing is written.
	CreateMeeting(ctx context.Context, m *Meeting, ttl time.Duration) error
	// UpdateMeeting overwrites a stored meeting (ErrNotFound if gone).
	UpdateMeeting(ctx context.Context, m *Meeting, ttl time.Duration) error
	GetMeeting(ctx context.Context, key string) (*Meeting, error)
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

	// PutSession stores a session under the hash of its token.
	PutSession(ctx context.Context, tokenHash string, s *Session, ttl time.Duration) error
	GetSession(ctx context.Context, tokenHash string) (*Session, error)
	// TakeJoinSession returns the session under tokenHash and, if it is a
	// one-time join session not yet redeemed (Used false), deletes it in
	// the same atomic step: of concurrent callers exactly one receives it
	// unused. A redeemed session is returned as it is and kept.
	TakeJoinSession(ctx context.Context, tokenHash string) (*Session, error)
	DeleteSession(ctx context.Context, tokenHash string) error

	// PutState / GetState hold one named feature state blob of a meeting
	// (polls, notes, whiteboard … in later features).
	PutState(ctx context.Context, meetingKey, name string, value []byte, ttl time.Duration) error
	GetState(ctx context.Context, meetingKey, name string) ([]byte, error)

	// Touch refreshes the TTL of every key of the meeting.
	Touch(ctx context.Context, meetingKey string, ttl time.Duration) error
	// DeleteMeeting removes every key of the meeting: record, PIN mapping,
	// participants, chat, sessions, feature state. Deleting a missing
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
}
