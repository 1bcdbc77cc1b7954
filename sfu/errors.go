package sfu

import "errors"

// Sentinel errors of the SFU. Callers test them with errors.Is; the
// signaling layer maps them to its own wire codes.
var (
	// ErrClosed is returned by any call on an SFU, room or peer that has
	// been closed.
	ErrClosed = errors.New("sfu: closed")
	// ErrInvalidConfig wraps every configuration problem found by New.
	ErrInvalidConfig = errors.New("sfu: invalid config")
	// ErrBadSDP is returned when an offer or answer cannot be parsed or
	// applied; the peer connection is left as it was.
	ErrBadSDP = errors.New("sfu: bad session description")
	// ErrBadCandidate is returned for an ICE candidate that cannot be added.
	ErrBadCandidate = errors.New("sfu: bad ICE candidate")
	// ErrUnexpectedAnswer is returned by HandleAnswer when the server has no
	// outstanding offer.
	ErrUnexpectedAnswer = errors.New("sfu: no offer outstanding")
	// ErrQueueFull is returned when a peer's negotiation queue is full
	// (the client floods us faster than Pion can negotiate).
	ErrQueueFull = errors.New("sfu: negotiation queue full")
	// ErrUnknownTrack is returned for a track ID the peer does not receive.
	ErrUnknownTrack = errors.New("sfu: unknown track")
	// ErrBadTrackKind is returned when parsing an unknown track kind.
	ErrBadTrackKind = errors.New("sfu: unknown track kind")
	// ErrTURNDisabled is returned for TURN credentials when TURN is off.
	ErrTURNDisabled = errors.New("sfu: TURN disabled")
)
