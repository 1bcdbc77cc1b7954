package web

import (
	"errors"
	"fmt"
	"strings"

	"aula/room"
)

// Sentinel errors of the web edge. Each maps to one BigBlueButton
// messageKey in apiError; callers test them with errors.Is.
var (
	// ErrChecksum: the checksum is missing, malformed or does not match.
	ErrChecksum = errors.New("web: checksum mismatch")
	// ErrMissingMeetingID: meetingID is absent or blank.
	ErrMissingMeetingID = errors.New("web: missing meetingID")
	// ErrMissingFullName: fullName is absent or blank.
	ErrMissingFullName = errors.New("web: missing fullName")
	// ErrBadMeetingID: meetingID breaks BBB's rules (2–256 chars, no comma).
	ErrBadMeetingID = errors.New("web: invalid meetingID")
	// ErrParam: a parameter has the wrong type or value; wrapped with the detail.
	ErrParam = errors.New("web: invalid parameter")
	// ErrPassword: neither role nor a matching password was given.
	ErrPassword = errors.New("web: invalid password")
	// ErrCreateTime: join's createTime does not match the running meeting.
	ErrCreateTime = errors.New("web: createTime mismatch")
	// ErrIDNotUnique: create of a running meetingID with other passwords.
	ErrIDNotUnique = errors.New("web: meetingID not unique")
	// ErrUnsupported: an API call Aula does not offer.
	ErrUnsupported = errors.New("web: unsupported call")
	// ErrNoRecording: a call about a recording; Aula never records.
	ErrNoRecording = errors.New("web: no recordings")
	// ErrPresentation: a pre-uploaded document is too big, of an unknown
	// type, or could not be fetched.
	ErrPresentation = errors.New("web: bad presentation")
	// ErrFetchRefused: an outbound request (document, avatar, end
	// callback) would connect to an address that is not public and not
	// allowed by the operator. It only ever reaches the log: the API
	// caller gets one text for every failed download.
	ErrFetchRefused = errors.New("web: outbound address not allowed")
	// ErrDraining: create of a new meeting on a node that is shutting
	// down (running meetings still answer create and join).
	ErrDraining = errors.New("web: server is draining")
)

// apiError is a FAILED reply: BBB's messageKey and an English message.
type apiError struct {
	Key     string
	Message string
}

// toAPIError maps an error (web or room sentinel) to BBB's messageKey.
// This is the only place where domain errors become wire codes.
func toAPIError(err error) apiError {
	detail := err.Error()
	switch {
	case errors.Is(err, ErrChecksum):
		return apiError{"checksumError", "Checksums do not match"}
	case errors.Is(err, ErrMissingMeetingID):
		return apiError{"missingParamMeetingID", "You must specify a meeting ID for the meeting."}
	case errors.Is(err, ErrMissingFullName):
		return apiError{"missingParamFullName", "You must specify a name for the attendee who will be joining the meeting."}
	case errors.Is(err, ErrBadMeetingID):
		return apiError{"invalidMeetingIdentifier", "Meeting ID must be between 2 and 256 characters and cannot contain ','"}
	case errors.Is(err, ErrPassword):
		return apiError{"invalidPassword", "You either did not supply a password or the password supplied is neither the attendee or moderator password for this conference."}
	case errors.Is(err, ErrCreateTime):
		return apiError{"mismatchCreateTimeParam", "The createTime parameter submitted mismatches with the current meeting."}
	case errors.Is(err, ErrIDNotUnique), errors.Is(err, room.ErrExists):
		return apiError{"idNotUnique", "A meeting already exists with that meeting ID. Please use a different meeting ID."}
	case errors.Is(err, ErrUnsupported):
		return apiError{"unsupportedRequest", "This API call is not supported by this server."}
	case errors.Is(err, ErrNoRecording):
		return apiError{"notFound", "We could not find recordings"}
	case errors.Is(err, ErrPresentation):
		return apiError{"invalidPresentation", strip(detail, ErrPresentation)}
	case errors.Is(err, ErrParam):
		return apiError{"validationError", strip(detail, ErrParam)}
	case errors.Is(err, room.ErrPINTaken):
		return apiError{"voiceBridgeNotUnique", "The voiceBridge is already used by another running meeting."}
	case errors.Is(err, room.ErrNotFound), errors.Is(err, room.ErrEnded):
		return apiError{"notFound", "A meeting with that ID does not exist"}
	case errors.Is(err, room.ErrDenied):
		return apiError{"guestDeniedAccess", "You have been denied access to this meeting based on the meeting's guest policy"}
	case errors.Is(err, room.ErrFull):
		return apiError{"maxParticipantsReached", "The number of participants allowed for this meeting has been reached."}
	case errors.Is(err, room.ErrInvalid):
		return apiError{"validationError", strip(detail, room.ErrInvalid)}
	case errors.Is(err, ErrDraining):
		// BBB has no key for it; Scalelite answers internalError when no
		// server can take a meeting, and platforms show the message.
		return apiError{"internalError", "This server is shutting down and creates no new meetings; running meetings continue. Try again in a few minutes."}
	}
	return apiError{"internalError", "The server could not handle the request."}
}

// strip removes the sentinel's own text from a detail message, so the
// platform reads "duration must be …" rather than Go's error chain.
func strip(detail string, sentinel error) string {
	if i := strings.Index(detail, sentinel.Error()+": "); i >= 0 {
		return detail[:i] + detail[i+len(sentinel.Error())+2:]
	}
	return detail
}

// paramErr is a parameter error naming the parameter.
func paramErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrParam}, a...)...)
}
