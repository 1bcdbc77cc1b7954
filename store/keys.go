// Package store implements room.Store: Memory for a single node, Redis for
// several. Both follow the key schema below and pass one contract suite.
package store

// The key schema. Every key starts with Prefix and carries a TTL (refreshed
// by Touch while its meeting runs), so a node that dies leaves nothing
// behind for longer than the TTL. A meeting is keyed by its incarnation
// key K (random per creation, room.Meeting.Key), so a meetingID created
// again after its end shares no key with the last one. Meeting keys embed
// K in braces, a Redis Cluster hash tag, so one meeting's keys share a
// slot and can change in one MULTI or script. Keys hold only internal IDs:
// no meetingID, name or number of a platform or caller ever appears in a
// key (KeyMeetingID holds the SHA-1 of the meetingID).
//
// A meeting owns: KeyMeetingID(sha1 of its meetingID) and KeyPIN(its PIN)
// while they point to it; KeyMeeting, KeyParticipants, KeyChat,
// KeySessions, KeyState, KeyLogs, KeyLog(name) for every name in KeyLogs,
// KeyLease and KeyEnd (its slot); KeySession(h) for every h in
// KeySessions; and its field in KeyMeetings. DeleteMeeting removes all of
// them, the record last, so an interrupted wipe can be repeated.
const (
	// Prefix of every key Aula writes.
	Prefix = "aula:"
	// KeyMeetings: hash, field = key of every meeting on record, value
	// empty. Shared by all meetings, so its TTL is only ever extended;
	// ListMeetings prunes fields whose meeting record expired.
	KeyMeetings = Prefix + "meetings"
)

// KeyMeetingID: string, SHA-1 of a meetingID → key of its running
// incarnation. Reserved with SET NX first on create, so a meetingID runs
// once across nodes.
func KeyMeetingID(idKey string) string { return Prefix + "mid:" + idKey }

// KeyMeeting: string, the meeting record (JSON of room.Meeting).
func KeyMeeting(mk string) string { return Prefix + "m:{" + mk + "}" }

// KeyParticipants: hash, participant ID → JSON of room.Participant.
func KeyParticipants(mk string) string { return Prefix + "m:{" + mk + "}:participants" }

// KeyChat: list of JSON room.ChatMessage, oldest first, capped.
func KeyChat(mk string) string { return Prefix + "m:{" + mk + "}:chat" }

// KeySessions: hash, field = hash of each session token of the meeting
// (so the wipe finds them).
func KeySessions(mk string) string { return Prefix + "m:{" + mk + "}:sessions" }

// KeyState: hash, state name → blob: removed participants and denied
// guests (IDs only), blob features' state ("f:<feature>").
func KeyState(mk string) string { return Prefix + "m:{" + mk + "}:state" }

// KeyLogs: hash, name of each append log of the meeting → its snapshot
// (empty until the first compaction), so the wipe and Touch find the logs.
func KeyLogs(mk string) string { return Prefix + "m:{" + mk + "}:logs" }

// KeyLog: list, the entries of one append log after its snapshot.
func KeyLog(mk, name string) string { return Prefix + "m:{" + mk + "}:log:" + name }

// KeyLease: string, the ID of the node that owns the meeting (runs,
// ticks, ends and wipes it), with the lease's own short TTL.
func KeyLease(mk string) string { return Prefix + "m:{" + mk + "}:owner" }

// KeyEnd: string, the reason of an end asked for through a node that does
// not own the meeting; the owner ends it at its next heartbeat.
func KeyEnd(mk string) string { return Prefix + "m:{" + mk + "}:end" }

// KeyPIN: string, voice bridge PIN → meeting key, for running meetings only.
// Reserved with SET NX before the meeting record, so a PIN is unique among
// running meetings across nodes.
func KeyPIN(pin string) string { return Prefix + "pin:" + pin }

// KeySession: string, SHA-256 of a session token → JSON of room.Session.
func KeySession(tokenHash string) string { return Prefix + "session:" + tokenHash }
