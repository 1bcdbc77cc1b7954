package dialin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"
)

// callerNumber extracts the calling number's digits from an INVITE. A
// withheld number (From user "anonymous", no digits, or "Privacy: id" /
// "Privacy: user" asked by the caller) returns withheld=true and no digits,
// so nothing of it is kept. The digits are only ever logged once and fed to
// keyed hashes; they never leave this package.
func callerNumber(req *sip.Request) (digits string, withheld bool) {
	if h := req.GetHeader("Privacy"); h != nil {
		for _, v := range strings.FieldsFunc(strings.ToLower(h.Value()), func(r rune) bool { return r == ';' || r == ',' || r == ' ' }) {
			if v == "id" || v == "user" || v == "header" {
				return "", true
			}
		}
	}
	from := req.From()
	if from == nil {
		return "", true
	}
	user := from.Address.User
	if strings.EqualFold(user, "anonymous") || strings.EqualFold(from.DisplayName, "anonymous") {
		return "", true
	}
	var b strings.Builder
	for _, r := range user {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	digits = b.String()
	// Fewer than four digits would make the "last three" the whole number.
	if len(digits) < 4 {
		return "", true
	}
	return digits, false
}

// MaskedName is how a caller appears in the room: "Phone ···789", the
// last three digits after U+00B7 middle dots. digits has at least four
// (callerNumber treats fewer as withheld). Exported for the privacy
// notice, which shows an example.
func MaskedName(digits string) string {
	return "Phone \u00b7\u00b7\u00b7" + digits[len(digits)-3:]
}

// WithheldName is how the n-th caller of a meeting without a number
// appears: "Phone 1", "Phone 2" …
func WithheldName(n int) string { return "Phone " + strconv.Itoa(n) }

// meetingSecrets holds what a meeting's callers need that must die with
// the meeting: the HMAC key for caller identities and the counter of
// withheld numbers ("Phone 1", "Phone 2" …).
type meetingSecrets struct {
	key  [32]byte
	anon int
}

// secrets keeps meetingSecrets per meeting key; forget runs on the
// meeting's end (Manager.OnEnd).
type secrets struct {
	mu sync.Mutex
	m  map[string]*meetingSecrets
}

func newSecrets() *secrets { return &secrets{m: map[string]*meetingSecrets{}} }

func (s *secrets) get(meetingKey string) *meetingSecrets {
	ms := s.m[meetingKey]
	if ms == nil {
		ms = &meetingSecrets{}
		if _, err := rand.Read(ms.key[:]); err != nil {
			panic(err)
		}
		s.m[meetingKey] = ms
	}
	return ms
}

// identity returns the display name and the caller's identity inside the
// meeting: a keyed hash of the number under the meeting's key (so the same
// phone is recognisable within one meeting and unlinkable across meetings
// and after the end), or a fresh counter for a withheld number.
func (s *secrets) identity(meetingKey, digits string, withheld bool) (name, userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := s.get(meetingKey)
	if withheld {
		ms.anon++
		return WithheldName(ms.anon), ""
	}
	mac := hmac.New(sha256.New, ms.key[:])
	mac.Write([]byte(digits))
	return MaskedName(digits), "phone:" + hex.EncodeToString(mac.Sum(nil)[:12])
}

func (s *secrets) forget(meetingKey string) {
	s.mu.Lock()
	if ms := s.m[meetingKey]; ms != nil {
		clear(ms.key[:])
		delete(s.m, meetingKey)
	}
	s.mu.Unlock()
}

func (s *secrets) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// callerHasher hashes numbers for the gateway-wide rate limiter under a
// random key that lives as long as the process.
type callerHasher struct{ key [32]byte }

func newCallerHasher() *callerHasher {
	h := &callerHasher{}
	if _, err := rand.Read(h.key[:]); err != nil {
		panic(err)
	}
	return h
}

func (h *callerHasher) sum(digits string) string {
	mac := hmac.New(sha256.New, h.key[:])
	mac.Write([]byte(digits))
	return string(mac.Sum(nil)[:16])
}
