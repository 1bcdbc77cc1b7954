package sfu

import "fmt"

// TrackKind says what a published track carries. Camera and screen are both
// video; the client tells which is which when it publishes (see doc.go).
type TrackKind uint8

// Track kinds.
const (
	KindMic TrackKind = iota + 1
	KindCamera
	KindScreen
)

// String returns the wire name: "mic", "camera" or "screen".
func (k TrackKind) String() string {
	switch k {
	case KindMic:
		return "mic"
	case KindCamera:
		return "camera"
	case KindScreen:
		return "screen"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ParseTrackKind parses the wire name of a track kind.
func ParseTrackKind(s string) (TrackKind, error) {
	switch s {
	case "mic", "audio":
		return KindMic, nil
	case "camera", "video":
		return KindCamera, nil
	case "screen":
		return KindScreen, nil
	}
	return 0, fmt.Errorf("%w: %q", ErrBadTrackKind, s)
}

// IsVideo reports whether the kind is a video kind.
func (k TrackKind) IsVideo() bool { return k == KindCamera || k == KindScreen }

// Policy decides who may receive whose media. It is asked whenever a track
// appears, a peer joins, or Room.Refresh is called; it must be fast and must
// not call back into the SFU. The room layer implements it ("participants
// cannot see each other", "webcams only for moderators").
type Policy interface {
	CanReceive(subscriberID, publisherID string, kind TrackKind) bool
}

// AllowAll is a Policy that lets everyone receive everything.
type AllowAll struct{}

// CanReceive always returns true.
func (AllowAll) CanReceive(string, string, TrackKind) bool { return true }

// PolicyFunc adapts a function to Policy.
type PolicyFunc func(subscriberID, publisherID string, kind TrackKind) bool

// CanReceive calls f.
func (f PolicyFunc) CanReceive(s, p string, k TrackKind) bool { return f(s, p, k) }

// MarshalText writes the wire name, so TrackKind is a string in JSON.
func (k TrackKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText parses the wire name.
func (k *TrackKind) UnmarshalText(b []byte) error {
	v, err := ParseTrackKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}
