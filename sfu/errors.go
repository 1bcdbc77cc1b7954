package sfu

import "errors"

// Sentinel errors of the SFU. Callers test them with errors.Is; the
// signaling layer maps them to its own wire codes.
var (
	// ErrClosed is returned by any call on an SFU, room or peer that has
	// been closed, and by SFU.OpenRoom for a key that was closed before
	// (a conference incarnation's media room is never opened twice).
	ErrClosed = errors.New("sfu: closed")
	// ErrNoRoom is returned by SFU.Room for a key that has no open media
	// room: never opened, or closed (then the error is also ErrClosed).
	// Only the room lifecycle opens rooms (SFU.OpenRoom); a media message
	// for a conference without one is refused, never creates it.
	ErrNoRoom = errors.New("sfu: no such room")
	// ErrNegotiationTimeout is passed (wrapped) to Peer.OnFailed when the
	// client answered neither a subscribe offer nor its one re-offer
	// within Config.NegotiationTimeout each; the peer is closed by then.
	ErrNegotiationTimeout = errors.New("sfu: subscribe offer not answered")
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
