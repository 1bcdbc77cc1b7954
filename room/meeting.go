package room

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Role of a participant. The string values are BBB's, so they go to the API
// unchanged.
type Role string

const (
	Moderator Role = "MODERATOR"
	Viewer    Role = "VIEWER"
)

// Valid reports whether r is one of the two roles.
func (r Role) Valid() bool { return r == Moderator || r == Viewer }

// GuestPolicy is BBB's guestPolicy parameter.
type GuestPolicy string

const (
	GuestAlwaysAccept GuestPolicy = "ALWAYS_ACCEPT"
	GuestAlwaysDeny   GuestPolicy = "ALWAYS_DENY"
	GuestAskModerator GuestPolicy = "ASK_MODERATOR"
)

// LockSettings are BBB's lockSettings* parameters: restrictions that apply
// to viewers only, enforced by the server.
type LockSettings struct {
	DisableCam        bool `json:"disableCam,omitempty"`
	DisableMic        bool `json:"disableMic,omitempty"`
	DisablePrivChat   bool `json:"disablePrivChat,omitempty"`
	DisablePublicChat bool `json:"disablePublicChat,omitempty"`
	DisableNotes      bool `json:"disableNotes,omitempty"`
	// HideUserList is the option "participants cannot see each other":
	// viewers see only moderators and themselves, in the roster and media.
	HideUserList bool `json:"hideUserList,omitempty"`
	// WebcamsOnlyForModerator: viewers' cameras reach moderators only.
	WebcamsOnlyForModerator bool `json:"webcamsOnlyForModerator,omitempty"`
	LockOnJoin              bool `json:"lockOnJoin,omitempty"`
}

// Settings are what the course platform gives on create. Durations of zero
// mean "no limit" unless noted.
type Settings struct {
	MeetingID   string `json:"meetingID"`
	Name        string `json:"name"`
	AttendeePW  string `json:"attendeePW"`
	ModeratorPW string `json:"moderatorPW"`
	// PIN is BBB's voiceBridge: 5 digits, unique among running meetings;
	// empty means "pick a random free one".
	PIN             string            `json:"pin"`
	DialNumber      string            `json:"dialNumber,omitempty"`
	Welcome         string            `json:"welcome,omitempty"`
	LogoutURL       string            `json:"logoutURL,omitempty"`
	Duration        time.Duration     `json:"duration,omitempty"`
	MaxParticipants int               `json:"maxParticipants,omitempty"`
	Meta            map[string]string `json:"meta,omitempty"`
	MuteOnStart     bool              `json:"muteOnStart,omitempty"`
	// ExpireIfNoUserJoined ends a meeting nobody entered (BBB default 5 min).
	ExpireIfNoUserJoined time.Duration `json:"expireIfNoUserJoined"`
	// ExpireWhenLastUserLeft is the grace period of an empty meeting (BBB default 1 min).
	ExpireWhenLastUserLeft time.Duration `json:"expireWhenLastUserLeft"`
	EndWhenNoModerator     bool          `json:"endWhenNoModerator,omitempty"`
	// EndWhenNoModeratorDelay defaults to 1 minute as in BBB.
	EndWhenNoModeratorDelay time.Duration `json:"endWhenNoModeratorDelay,omitempty"`
	Lock                    LockSettings  `json:"lock"`
	GuestPolicy             GuestPolicy   `json:"guestPolicy,omitempty"`
	// RecordRequested keeps what the platform asked for, only so the API can
	// answer truthfully that nothing is recorded.
	RecordRequested bool `json:"recordRequested,omitempty"`
}

// Meeting is a created meeting: its settings plus what the server decided.
type Meeting struct {
	Settings
	// Key identifies this incarnation of the meeting inside Aula (store
	// keys, SFU room, file folder, log lines): random for each creation,
	// so a meetingID created again after its end shares nothing with the
	// last one, and platform IDs never appear in keys.
	Key string `json:"key"`
	// Parent is the key of the meeting this one belongs to (a breakout
	// room); it ends with its parent. Empty for a top-level meeting.
	Parent     string    `json:"parent,omitempty"`
	CreateTime time.Time `json:"createTime"`
	// StartTime is when the first moderator entered; zero before.
	StartTime time.Time `json:"startTime,omitzero"`
	// LastEmpty is when the room last became empty after someone had been in it.
	LastEmpty time.Time `json:"lastEmpty,omitzero"`
	// NoModeratorSince is when the last moderator left while others stayed.
	NoModeratorSince time.Time `json:"noModeratorSince,omitzero"`
	// EverJoined is set when the first participant entered the room.
	EverJoined bool `json:"everJoined,omitempty"`
}

// KeyOf derives the lookup key of a meetingID (the hex SHA-1), under
// which the store finds the running incarnation's Key.
func KeyOf(meetingID string) string {
	sum := sha1.Sum([]byte(meetingID))
	return hex.EncodeToString(sum[:])
}

// NewKey returns a fresh incarnation key: 160 random bits in hex, the
// same shape as KeyOf's, so file folders and store keys look alike.
func NewKey() string {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// InternalID is BBB's internalMeetingID shape: sha1(meetingID)-createTimeMillis.
func (m *Meeting) InternalID() string {
	return fmt.Sprintf("%s-%d", KeyOf(m.MeetingID), m.CreateTime.UnixMilli())
}

// Running reports BBB's "running": a moderator has started the conference.
func (m *Meeting) Running() bool { return !m.StartTime.IsZero() }

// WelcomeText expands BBB's welcome placeholders.
func (m *Meeting) WelcomeText() string {
	r := strings.NewReplacer(
		"%%CONFNAME%%", m.Name,
		"%%DIALNUM%%", m.DialNumber,
		"%%CONFNUM%%", m.PIN,
	)
	return r.Replace(m.Welcome)
}

// Validate checks settings as create receives them.
func (s *Settings) Validate() error {
	if strings.TrimSpace(s.MeetingID) == "" {
		return fmt.Errorf("%w: meetingID is empty", ErrInvalid)
	}
	if len(s.MeetingID) < 2 || len(s.MeetingID) > 256 {
		return fmt.Errorf("%w: meetingID must be 2 to 256 characters", ErrInvalid)
	}
	if strings.ContainsRune(s.MeetingID, ',') {
		return fmt.Errorf("%w: meetingID must not contain a comma", ErrInvalid)
	}
	if s.PIN != "" && !ValidPIN(s.PIN) {
		return fmt.Errorf("%w: voiceBridge must be 5 digits", ErrInvalid)
	}
	if s.Duration < 0 || s.MaxParticipants < 0 || s.ExpireIfNoUserJoined < 0 ||
		s.ExpireWhenLastUserLeft < 0 || s.EndWhenNoModeratorDelay < 0 {
		return fmt.Errorf("%w: negative duration or count", ErrInvalid)
	}
	switch s.GuestPolicy {
	case "", GuestAlwaysAccept, GuestAlwaysDeny, GuestAskModerator:
	default:
		return fmt.Errorf("%w: guestPolicy %q", ErrInvalid, s.GuestPolicy)
	}
	return nil
}

// ValidPIN reports whether pin is five ASCII digits.
func ValidPIN(pin string) bool {
	if len(pin) != 5 {
		return false
	}
	for i := 0; i < len(pin); i++ {
		if pin[i] < '0' || pin[i] > '9' {
			return false
		}
	}
	return true
}
