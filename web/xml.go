package web

import (
	"encoding/xml"
	"net/http"
	"sort"
	"strconv"
	"time"

	"aula/room"
)

// The XML replies of the BBB API. Field order is element order, copied
// from BigBlueButton's replies (docs/development/api.md), because some
// platform plugins read them positionally or by exact name.

// failedXML is every FAILED reply.
type failedXML struct {
	XMLName    xml.Name `xml:"response"`
	ReturnCode string   `xml:"returncode"`
	MessageKey string   `xml:"messageKey"`
	Message    string   `xml:"message"`
}

// versionXML is the reply of the API root.
type versionXML struct {
	XMLName    xml.Name `xml:"response"`
	ReturnCode string   `xml:"returncode"`
	Version    string   `xml:"version"`
	APIVersion string   `xml:"apiVersion"`
	BBBVersion string   `xml:"bbbVersion"`
}

// createXML is create's reply.
type createXML struct {
	XMLName              xml.Name `xml:"response"`
	ReturnCode           string   `xml:"returncode"`
	MeetingID            string   `xml:"meetingID"`
	InternalMeetingID    string   `xml:"internalMeetingID"`
	ParentMeetingID      string   `xml:"parentMeetingID"`
	AttendeePW           string   `xml:"attendeePW"`
	ModeratorPW          string   `xml:"moderatorPW"`
	CreateTime           int64    `xml:"createTime"`
	VoiceBridge          string   `xml:"voiceBridge"`
	DialNumber           string   `xml:"dialNumber"`
	CreateDate           string   `xml:"createDate"`
	HasUserJoined        bool     `xml:"hasUserJoined"`
	Duration             int64    `xml:"duration"`
	HasBeenForciblyEnded bool     `xml:"hasBeenForciblyEnded"`
	MessageKey           string   `xml:"messageKey"`
	Message              string   `xml:"message"`
}

// joinXML is join's reply with redirect=false.
type joinXML struct {
	XMLName      xml.Name `xml:"response"`
	ReturnCode   string   `xml:"returncode"`
	MessageKey   string   `xml:"messageKey"`
	Message      string   `xml:"message"`
	MeetingID    string   `xml:"meeting_id"`
	UserID       string   `xml:"user_id"`
	AuthToken    string   `xml:"auth_token"`
	SessionToken string   `xml:"session_token"`
	GuestStatus  string   `xml:"guestStatus"`
	URL          string   `xml:"url"`
}

// messageXML is a SUCCESS reply that carries only a message (end).
type messageXML struct {
	XMLName    xml.Name `xml:"response"`
	ReturnCode string   `xml:"returncode"`
	MessageKey string   `xml:"messageKey"`
	Message    string   `xml:"message"`
}

// runningXML is isMeetingRunning's reply.
type runningXML struct {
	XMLName    xml.Name `xml:"response"`
	ReturnCode string   `xml:"returncode"`
	Running    bool     `xml:"running"`
}

// attendeeXML is one attendee of getMeetingInfo.
type attendeeXML struct {
	UserID          string        `xml:"userID"`
	FullName        string        `xml:"fullName"`
	Role            string        `xml:"role"`
	IsPresenter     bool          `xml:"isPresenter"`
	IsListeningOnly bool          `xml:"isListeningOnly"`
	HasJoinedVoice  bool          `xml:"hasJoinedVoice"`
	HasVideo        bool          `xml:"hasVideo"`
	ClientType      string        `xml:"clientType"`
	CustomData      customDataXML `xml:"customdata"`
}

// attendeesXML wraps the list so that an empty meeting still has its
// <attendees/> element, as BBB sends it.
type attendeesXML struct {
	List []attendeeXML `xml:"attendee"`
}

// metadataXML renders meta_* parameters as <metadata><key>value</key>…,
// keys sorted so replies are stable.
type metadataXML map[string]string

// MarshalXML writes one child element per key.
func (m metadataXML) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return encodeElements(e, start, m, validMetaName)
}

// customDataXML renders an attendee's userdata-* as BBB does:
// <customdata><name>value</name>…</customdata>, names as given.
type customDataXML map[string]string

// MarshalXML writes one child element per name. Names were checked at
// join; one that is no XML name (an older record) is left out rather
// than breaking the whole reply.
func (m customDataXML) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	return encodeElements(e, start, m, validCustomName)
}

// encodeElements writes start, one child element per key that valid
// accepts (sorted, so replies are stable), and the end.
func encodeElements(e *xml.Encoder, start xml.StartElement, m map[string]string, valid func(string) bool) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		if valid(k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := e.EncodeElement(m[k], xml.StartElement{Name: xml.Name{Local: k}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// meetingXML is getMeetingInfo's body, also each <meeting> of getMeetings.
type meetingXML struct {
	MeetingName           string       `xml:"meetingName"`
	MeetingID             string       `xml:"meetingID"`
	InternalMeetingID     string       `xml:"internalMeetingID"`
	CreateTime            int64        `xml:"createTime"`
	CreateDate            string       `xml:"createDate"`
	VoiceBridge           string       `xml:"voiceBridge"`
	DialNumber            string       `xml:"dialNumber"`
	AttendeePW            string       `xml:"attendeePW"`
	ModeratorPW           string       `xml:"moderatorPW"`
	Running               bool         `xml:"running"`
	Duration              int64        `xml:"duration"`
	HasUserJoined         bool         `xml:"hasUserJoined"`
	Recording             bool         `xml:"recording"`
	HasBeenForciblyEnded  bool         `xml:"hasBeenForciblyEnded"`
	StartTime             int64        `xml:"startTime"`
	EndTime               int64        `xml:"endTime"`
	ParticipantCount      int          `xml:"participantCount"`
	ListenerCount         int          `xml:"listenerCount"`
	VoiceParticipantCount int          `xml:"voiceParticipantCount"`
	VideoCount            int          `xml:"videoCount"`
	MaxUsers              int          `xml:"maxUsers"`
	ModeratorCount        int          `xml:"moderatorCount"`
	Attendees             attendeesXML `xml:"attendees"`
	Metadata              metadataXML  `xml:"metadata"`
	IsBreakout            bool         `xml:"isBreakout"`
}

// meetingInfoXML is getMeetingInfo's reply.
type meetingInfoXML struct {
	XMLName    xml.Name `xml:"response"`
	ReturnCode string   `xml:"returncode"`
	meetingXML
}

// meetingsXML is getMeetings' reply.
type meetingsXML struct {
	XMLName    xml.Name       `xml:"response"`
	ReturnCode string         `xml:"returncode"`
	Meetings   meetingListXML `xml:"meetings"`
	MessageKey string         `xml:"messageKey,omitempty"`
	Message    string         `xml:"message,omitempty"`
}

// meetingListXML wraps the list so that <meetings/> is always present.
type meetingListXML struct {
	List []meetingXML `xml:"meeting"`
}

// recordingsXML is getRecordings' reply: Aula never records.
type recordingsXML struct {
	XMLName    xml.Name `xml:"response"`
	ReturnCode string   `xml:"returncode"`
	Recordings string   `xml:"recordings"`
	MessageKey string   `xml:"messageKey"`
	Message    string   `xml:"message"`
}

const (
	success = "SUCCESS"
	failed  = "FAILED"
)

// javaDate formats like java.util.Date.toString, which BBB's createDate is.
func javaDate(t time.Time) string {
	return t.UTC().Format("Mon Jan 02 15:04:05 MST 2006")
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func minutes(d time.Duration) int64 { return int64(d / time.Minute) }

// writeXML writes an API reply. BBB answers every API call with HTTP 200
// and tells success or failure in returncode.
func writeXML(w http.ResponseWriter, v any) {
	out, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache, no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// meetingView builds the XML view of a meeting and its participants.
func meetingView(m *room.Meeting, ps []*room.Participant) meetingXML {
	v := meetingXML{
		MeetingName:       m.Name,
		MeetingID:         m.MeetingID,
		InternalMeetingID: m.InternalID(),
		CreateTime:        millis(m.CreateTime),
		CreateDate:        javaDate(m.CreateTime),
		VoiceBridge:       m.PIN,
		DialNumber:        m.DialNumber,
		AttendeePW:        m.AttendeePW,
		ModeratorPW:       m.ModeratorPW,
		Running:           m.Running(),
		Duration:          minutes(m.Duration),
		HasUserJoined:     m.EverJoined,
		// Aula never records, whatever record= said.
		Recording: false,
		// BBB's startTime is set when the meeting is created (Aula's
		// StartTime, when the first moderator came, drives running).
		StartTime:  millis(m.CreateTime),
		MaxUsers:   m.MaxParticipants,
		Metadata:   metadataXML(m.Meta),
		IsBreakout: false,
	}
	if v.Metadata == nil {
		v.Metadata = metadataXML{}
	}
	for _, p := range ps {
		// Participants waiting in the lobby are not in the meeting yet,
		// as BBB does not list guests waiting for approval.
		if !p.InRoom {
			continue
		}
		voice := p.Audio || p.Voice
		a := attendeeXML{
			UserID:          p.UserID,
			FullName:        p.Name,
			Role:            string(p.Role),
			IsPresenter:     p.Presenter,
			IsListeningOnly: !voice,
			HasJoinedVoice:  voice,
			HasVideo:        p.Video,
			ClientType:      "HTML5",
			CustomData:      customDataXML(p.CustomData),
		}
		if a.UserID == "" {
			a.UserID = p.ID
		}
		if p.Kind == room.Phone {
			a.ClientType = "DIAL-IN-USER"
		}
		v.Attendees.List = append(v.Attendees.List, a)
		v.ParticipantCount++
		if voice {
			v.VoiceParticipantCount++
		} else {
			v.ListenerCount++
		}
		if p.Video {
			v.VideoCount++
		}
		if p.Role == room.Moderator {
			v.ModeratorCount++
		}
	}
	return v
}
