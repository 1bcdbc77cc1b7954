package web

import (
	"crypto/rand"
	"math/big"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"aula/room"
)

// Parameter parsing follows BBB's data types (docs/development/api.md): a
// Number is digits only, a Boolean is "true" or "false", strings carry no
// control characters. Anything else is a clear FAILED reply that names the
// parameter, and nothing is created.

// parseBool reads an optional Boolean parameter.
func parseBool(p apiParams, name string, def bool) (bool, error) {
	if !p.has(name) {
		return def, nil
	}
	switch strings.ToLower(strings.TrimSpace(p.get(name))) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "":
		return def, nil
	}
	return false, paramErr("%s must be true or false", name)
}

// parseNumber reads an optional non-negative Number parameter.
func parseNumber(p apiParams, name string) (int, error) {
	s := strings.TrimSpace(p.get(name))
	if s == "" {
		return 0, nil
	}
	if len(s) > 9 {
		return 0, paramErr("%s is too large", name)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, paramErr("%s must be a non-negative whole number", name)
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, paramErr("%s must be a non-negative whole number", name)
	}
	return n, nil
}

// parseMinutes reads a Number of minutes.
func parseMinutes(p apiParams, name string) (time.Duration, error) {
	n, err := parseNumber(p, name)
	return time.Duration(n) * time.Minute, err
}

// cleanString checks a free-text parameter: valid UTF-8, no control
// characters (newlines and tabs only where multiline is true), at most max
// runes.
func cleanString(name, s string, max int, multiline bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", paramErr("%s is not valid UTF-8", name)
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t')) {
			return "", paramErr("%s must not contain control characters", name)
		}
	}
	if utf8.RuneCountInString(s) > max {
		return "", paramErr("%s is longer than %d characters", name, max)
	}
	return s, nil
}

// httpURL checks an optional URL parameter: absolute http or https only, so
// that no javascript: or data: link ever reaches a page.
func httpURL(name, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if len(s) > 2048 {
		return "", paramErr("%s is too long", name)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", paramErr("%s must be an http or https URL", name)
	}
	return u.String(), nil
}

// meetingIDParam reads and checks meetingID as BBB does (trimmed; 2–256
// characters; no comma).
func meetingIDParam(p apiParams) (string, error) {
	id := strings.TrimSpace(p.get("meetingID"))
	if id == "" {
		return "", ErrMissingMeetingID
	}
	if !utf8.ValidString(id) || utf8.RuneCountInString(id) < 2 || utf8.RuneCountInString(id) > 256 || strings.ContainsRune(id, ',') {
		return "", ErrBadMeetingID
	}
	for _, r := range id {
		if unicode.IsControl(r) {
			return "", ErrBadMeetingID
		}
	}
	return id, nil
}

// validMetaName reports whether a meta_ key can be an XML element name in
// getMeetingInfo's <metadata>.
func validMetaName(k string) bool {
	if k == "" || len(k) > 64 || strings.HasPrefix(k, "xml") {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c >= 'a' && c <= 'z', c == '_':
		case (c >= '0' && c <= '9') || c == '-' || c == '.':
			if i == 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// parseCreate turns create's parameters into room settings. dialNumber is
// the operator's default.
func parseCreate(p apiParams, dialNumber string) (room.Settings, error) {
	var s room.Settings
	var err error
	if s.MeetingID, err = meetingIDParam(p); err != nil {
		return s, err
	}
	name := strings.TrimSpace(p.get("name"))
	if name == "" {
		return s, paramErr("name: you must provide a meeting name")
	}
	if s.Name, err = cleanString("name", name, 256, false); err != nil {
		return s, err
	}
	for _, pw := range []struct {
		name string
		dst  *string
	}{{"attendeePW", &s.AttendeePW}, {"moderatorPW", &s.ModeratorPW}} {
		v := p.get(pw.name)
		if v == "" {
			// BBB generates the passwords the platform did not give.
			*pw.dst = randomPassword()
			continue
		}
		// BBB wants them non-empty only; one character is a password.
		if *pw.dst, err = cleanString(pw.name, v, 64, false); err != nil {
			return s, err
		}
	}
	if s.AttendeePW == s.ModeratorPW {
		// Equal passwords would make every attendee a moderator.
		return s, paramErr("attendeePW and moderatorPW must differ")
	}
	if vb := strings.TrimSpace(p.get("voiceBridge")); vb != "" {
		if !room.ValidPIN(vb) {
			return s, paramErr("voiceBridge must be 5 digits")
		}
		s.PIN = vb
	}
	// An empty dialNumber means the operator's number, as in BBB.
	s.DialNumber = dialNumber
	if dn := strings.TrimSpace(p.get("dialNumber")); dn != "" {
		if s.DialNumber, err = cleanString("dialNumber", dn, 64, false); err != nil {
			return s, err
		}
	}
	if s.Welcome, err = cleanString("welcome", p.get("welcome"), 5000, true); err != nil {
		return s, err
	}
	if s.LogoutURL, err = httpURL("logoutURL", p.get("logoutURL")); err != nil {
		return s, err
	}
	if s.Duration, err = parseMinutes(p, "duration"); err != nil {
		return s, err
	}
	if s.MaxParticipants, err = parseNumber(p, "maxParticipants"); err != nil {
		return s, err
	}
	if s.ExpireIfNoUserJoined, err = parseMinutes(p, "meetingExpireIfNoUserJoinedInMinutes"); err != nil {
		return s, err
	}
	if s.ExpireWhenLastUserLeft, err = parseMinutes(p, "meetingExpireWhenLastUserLeftInMinutes"); err != nil {
		return s, err
	}
	if s.EndWhenNoModeratorDelay, err = parseMinutes(p, "endWhenNoModeratorDelayInMinutes"); err != nil {
		return s, err
	}
	bools := []struct {
		name string
		dst  *bool
	}{
		{"muteOnStart", &s.MuteOnStart},
		{"endWhenNoModerator", &s.EndWhenNoModerator},
		{"lockSettingsDisableCam", &s.Lock.DisableCam},
		{"lockSettingsDisableMic", &s.Lock.DisableMic},
		{"lockSettingsDisablePrivateChat", &s.Lock.DisablePrivChat},
		{"lockSettingsDisablePublicChat", &s.Lock.DisablePublicChat},
		{"lockSettingsDisableNote", &s.Lock.DisableNotes},
		{"lockSettingsDisableNotes", &s.Lock.DisableNotes},
		{"lockSettingsHideUserList", &s.Lock.HideUserList},
		{"webcamsOnlyForModerator", &s.Lock.WebcamsOnlyForModerator},
		{"lockSettingsLockOnJoin", &s.Lock.LockOnJoin},
		{"record", &s.RecordRequested},
	}
	for _, b := range bools {
		v, err := parseBool(p, b.name, *b.dst)
		if err != nil {
			return s, err
		}
		*b.dst = v
	}
	switch gp := strings.ToUpper(strings.TrimSpace(p.get("guestPolicy"))); gp {
	case "":
	case string(room.GuestAlwaysAccept), string(room.GuestAlwaysDeny), string(room.GuestAskModerator):
		s.GuestPolicy = room.GuestPolicy(gp)
	case "ALWAYS_ACCEPT_AUTH":
		// Authenticated users are accepted, others asked: Aula has no
		// separate "authenticated" flag, so everyone flagged guest is asked.
		s.GuestPolicy = room.GuestAskModerator
	default:
		return s, paramErr("guestPolicy must be ALWAYS_ACCEPT, ALWAYS_DENY or ASK_MODERATOR")
	}
	for k, vs := range p.v {
		if !strings.HasPrefix(k, "meta_") {
			continue
		}
		// BBB lower-cases metadata names.
		mk := strings.ToLower(strings.TrimPrefix(k, "meta_"))
		if !validMetaName(mk) {
			return s, paramErr("%s is not a valid metadata name", k)
		}
		if s.Meta == nil {
			s.Meta = map[string]string{}
		}
		if len(s.Meta) >= 64 {
			return s, paramErr("too many meta_ parameters")
		}
		if s.Meta[mk], err = cleanString(k, vs[0], 8192, true); err != nil {
			return s, err
		}
	}
	return s, nil
}

// Limits of join's userdata-* parameters: how many a join may carry and
// how long each value may be. BBB has none; these keep a session record
// (stored per participant) small.
const (
	maxUserData      = 64
	maxUserDataValue = 2048
)

// parseUserData reads join's userdata-<name> parameters as BBB's
// getUserCustomData does: the name after the prefix, as given (case
// kept); a name with a further dash is dropped, as BBB drops it (its
// split on "-" yields more than two parts). Names that cannot be XML
// element names are dropped too, since getMeetingInfo writes each as
// <customdata><name>value</name></customdata>. Values are free text.
func parseUserData(p apiParams) (map[string]string, error) {
	var out map[string]string
	for k, vs := range p.v {
		name, ok := strings.CutPrefix(k, "userdata-")
		if !ok || !validCustomName(name) {
			continue
		}
		if len(out) >= maxUserData {
			return nil, paramErr("more than %d userdata- parameters", maxUserData)
		}
		v, err := cleanString(k, vs[0], maxUserDataValue, false)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = map[string]string{}
		}
		out[name] = v
	}
	return out, nil
}

// validCustomName reports whether a userdata- name is kept: an ASCII XML
// name of letters, digits, '_' and '.', not starting with a digit, '.' or
// "xml" (reserved), at most 64 bytes.
func validCustomName(k string) bool {
	if k == "" || len(k) > 64 || strings.HasPrefix(strings.ToLower(k), "xml") {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case c >= '0' && c <= '9', c == '.':
			if i == 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

const pwAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// randomPassword returns a random 12-character password for create.
func randomPassword() string {
	b := make([]byte, 12)
	max := big.NewInt(int64(len(pwAlphabet)))
	for i := range b {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err)
		}
		b[i] = pwAlphabet[n.Int64()]
	}
	return string(b)
}
