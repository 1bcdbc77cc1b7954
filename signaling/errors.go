package signaling

import (
	"errors"

	"aula/room"
)

// Sentinel errors of the WebSocket protocol. They (and room's sentinels)
// become wire codes only in codeOf, at the edge.
var (
	// ErrBadRequest: the message is not valid JSON, lacks a field, or a
	// field has the wrong type or value.
	ErrBadRequest = errors.New("signaling: bad request")
	// ErrUnknownType: the envelope's type is not a client message type.
	ErrUnknownType = errors.New("signaling: unknown message type")
	// ErrTooLarge: the message exceeds Options.MaxMessageBytes.
	ErrTooLarge = errors.New("signaling: message too large")
	// ErrRateLimited: the connection sent more than its budget.
	ErrRateLimited = errors.New("signaling: rate limited")
	// ErrQueueFull: the connection's outbound queue overflowed (a client
	// that does not read); the connection is closed, the place is kept.
	ErrQueueFull = errors.New("signaling: outbound queue full")
	// ErrClosing: the server is draining and accepts no new participant.
	ErrClosing = errors.New("signaling: server closing")
)

// Wire error codes (the "code" of an error message).
const (
	CodeBadRequest  = "bad_request"
	CodeUnknownType = "unknown_type"
	CodeTooLarge    = "too_large"
	CodeRateLimited = "rate_limited"
	CodeForbidden   = "forbidden"
	CodeNotFound    = "not_found"
	CodeNotInRoom   = "not_in_room"
	CodeEnded       = "ended"
	CodeFull        = "full"
	CodeDenied      = "denied"
	CodeReplaced    = "replaced"
	// CodeMediaFailed: the media connection failed (the client never
	// answered the server's offer); sent unprompted.
	CodeMediaFailed = "media_failed"
	CodeUnavailable = "unavailable"
	// CodeConflict: the request was made on state too old (a note edit
	// far behind): reload it (notes.sync) and try again.
	CodeConflict = "conflict"
	CodeInternal = "internal"
)

// codeOf maps an error to its wire code. Anything unexpected is internal:
// its text stays in the server log, the client gets a generic message.
func codeOf(err error) string {
	switch {
	case errors.Is(err, ErrBadRequest), errors.Is(err, room.ErrInvalid):
		return CodeBadRequest
	case errors.Is(err, ErrUnknownType):
		return CodeUnknownType
	case errors.Is(err, ErrTooLarge):
		return CodeTooLarge
	case errors.Is(err, ErrRateLimited):
		return CodeRateLimited
	case errors.Is(err, room.ErrForbidden):
		return CodeForbidden
	case errors.Is(err, room.ErrNotFound):
		return CodeNotFound
	case errors.Is(err, room.ErrNotInRoom):
		return CodeNotInRoom
	case errors.Is(err, room.ErrEnded):
		return CodeEnded
	case errors.Is(err, room.ErrFull):
		return CodeFull
	case errors.Is(err, room.ErrDenied):
		return CodeDenied
	case errors.Is(err, room.ErrReplaced):
		return CodeReplaced
	case errors.Is(err, room.ErrUnavailable), errors.Is(err, room.ErrElsewhere):
		return CodeUnavailable
	case errors.Is(err, room.ErrConflict):
		return CodeConflict
	default:
		return CodeInternal
	}
}

// messageOf is the human-readable text sent with an error code. Errors of
// the protocol and the room carry safe details (field names, limits);
// internal errors (store failures) never leave the server.
func messageOf(err error) string {
	if codeOf(err) == CodeInternal {
		return "internal error"
	}
	return err.Error()
}
