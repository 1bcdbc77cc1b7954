// Package store implements room.Store: Memory for a single node, Redis for
// several. Both follow the key schema below and pass one contract suite.
package store

// The key schema. Every key starts with Prefix and carries a TTL (refreshed
// by Touch while its meeting runs), so a node that dies leaves nothing
// behind for longer than the TTL. Meeting keys embed the meeting key in
// braces, a Redis Cluster hash tag, so one meeting's keys share a slot and
// can change in one MULTI. Keys hold only internal IDs: no meetingID, name
// or number of a platform or caller ever appears in a key.
//
// A meeting owns: KeyMeeting, KeyParticipants, KeyChat, KeySessions,
// KeyState (its slot), KeyPIN(its PIN), KeySession(h) for every h in
// KeySessions, and its field in KeyMeetings. DeleteMeeting removes all of
// them, the record last, so an interrupted wipe can be repeated.
const (
	// Prefix of every key Aula writes.
	Prefix = "aula:"
	// KeyMeetings: hash, field = meeting key of every meeting on record,
	// value empty. Shared by all meetings, so its TTL is only ever extended;
	// ListMeetings prunes fields whose meeting record expired.
	KeyMeetings = Prefix + "meetings"
)

// KeyMeeting: string, the meeting record (JSON of room.Meeting).
func KeyMeeting(mk string) string { return Prefix + "m:{" + mk + "}" }

// KeyParticipants: hash, participant ID → JSON of room.Participant.
func KeyParticipants(mk string) string { return Prefix + "m:{" + mk + "}:participants" }

// KeyChat: list of JSON room.ChatMessage, oldest first, capped.
func KeyChat(mk string) string { return Prefix + "m:{" + mk + "}:chat" }

// KeySessions: hash, field = hash of each session token of the meeting
// (so the wipe finds them).
func KeySessions(mk string) string { return Prefix + "m:{" + mk + "}:sessions" }

// KeyState: hash, feature name → state blob: removed participants and
// denied guests (IDs only) today; polls, notes, whiteboard later.
func KeyState(mk string) string { return Prefix + "m:{" + mk + "}:state" }

// KeyPIN: string, voice bridge PIN → meeting key, for running meetings only.
// Reserved with SET NX before the meeting record, so a PIN is unique among
// running meetings across nodes.
func KeyPIN(pin string) string { return Prefix + "pin:" + pin }

// KeySession: string, SHA-256 of a session token → JSON of room.Session.
func KeySession(tokenHash string) string { return Prefix + "session:" + tokenHash }
