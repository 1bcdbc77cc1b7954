package logs

import (
	"bytes"
	"encoding/json"
	"time"
)

// Entry is one line of a day file, with the attributes retention and
// data-subject requests look at. Lines are slog's JSON objects; only
// top-level keys count (Aula's loggers use no groups).
type Entry struct {
	// Raw is the line as written, without its newline. A rewrite copies
	// it unchanged: what is kept is kept byte for byte.
	Raw []byte
	// OK: the line is a JSON object with a valid "time". Other lines
	// (a write torn by a crash, a foreign line) are malformed: they keep
	// Raw and count as written at the end of their file's day.
	OK   bool
	Time time.Time
	Msg  string
	// Meeting is the conference's incarnation key: the "meeting"
	// attribute, or "room" (the SFU's name for it in older logs).
	Meeting     string
	Parent      string
	MeetingID   string
	Participant string
	// Call is a dial-in call's ID (the "call" attribute of component
	// dialin; the web's "call" is an API call name, not an ID).
	Call      string
	Component string
	IP        string
	Source    string
	UserAgent string
	Name      string
	UserID    string
	From      string
	SIPCallID string
}

// line is the JSON shape read. jstr takes any JSON value, so a number
// where a string was expected never makes a line malformed.
type line struct {
	Time        jstr `json:"time"`
	Msg         jstr `json:"msg"`
	Meeting     jstr `json:"meeting"`
	Room        jstr `json:"room"`
	Parent      jstr `json:"parent"`
	MeetingID   jstr `json:"meeting_id"`
	Participant jstr `json:"participant"`
	Call        jstr `json:"call"`
	Component   jstr `json:"component"`
	IP          jstr `json:"ip"`
	Source      jstr `json:"source"`
	UserAgent   jstr `json:"user_agent"`
	Name        jstr `json:"name"`
	UserID      jstr `json:"user_id"`
	From        jstr `json:"from"`
	SIPCallID   jstr `json:"sip_call_id"`
}

// jstr is a JSON string, or the text of a number or boolean; objects,
// arrays and null read as empty.
type jstr string

func (s *jstr) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = jstr(v)
	case '{', '[', 'n':
		*s = ""
	default:
		*s = jstr(b)
	}
	return nil
}

// ParseLine reads one line (without its newline). It never fails: a line
// it cannot read comes back with OK false and its bytes in Raw.
func ParseLine(b []byte) Entry {
	e := Entry{Raw: b}
	var l line
	if len(bytes.TrimSpace(b)) == 0 || b[0] != '{' || json.Unmarshal(b, &l) != nil {
		return e
	}
	t, err := time.Parse(time.RFC3339Nano, string(l.Time))
	if err != nil {
		return e
	}
	e.OK, e.Time = true, t
	e.Msg = string(l.Msg)
	e.Meeting = string(l.Meeting)
	if e.Meeting == "" {
		e.Meeting = string(l.Room)
	}
	e.Parent = string(l.Parent)
	e.MeetingID = string(l.MeetingID)
	e.Participant = string(l.Participant)
	e.Component = string(l.Component)
	if e.Component == "dialin" {
		e.Call = string(l.Call)
	}
	e.IP, e.Source, e.UserAgent = string(l.IP), string(l.Source), string(l.UserAgent)
	e.Name, e.UserID, e.From, e.SIPCallID = string(l.Name), string(l.UserID), string(l.From), string(l.SIPCallID)
	return e
}

// EndMessage is the room manager's line when a conference ends (any
// reason); its time starts the conference's retention.
const EndMessage = "meeting ended"

// CreateMessage is the room manager's line when a conference is created;
// it ties the platform's meetingID and a breakout's parent to the key.
const CreateMessage = "meeting created"
