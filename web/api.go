package web

import (
	"crypto/subtle"
	"errors"
	"io"
	"mime"
	"net/http"
	"sort"

	"aula/room"
)

// apiReq is one authenticated API call.
type apiReq struct {
	w       http.ResponseWriter
	r       *http.Request
	call    string
	p       apiParams
	xmlBody io.Reader // a create POST's <modules> body, if any (capped)
}

type apiHandler func(*server, *apiReq) error

// apiCalls are the calls Aula answers. Recording calls answer "nothing
// recorded" so platforms that list recordings keep working.
var apiCalls = map[string]apiHandler{
	"create":            (*server).apiCreate,
	"join":              (*server).apiJoin,
	"end":               (*server).apiEnd,
	"isMeetingRunning":  (*server).apiIsMeetingRunning,
	"getMeetingInfo":    (*server).apiGetMeetingInfo,
	"getMeetings":       (*server).apiGetMeetings,
	"insertDocument":    (*server).apiInsertDocument,
	"getRecordings":     (*server).apiGetRecordings,
	"publishRecordings": (*server).apiNoRecording,
	"deleteRecordings":  (*server).apiNoRecording,
	"updateRecordings":  (*server).apiNoRecording,
}

// maxFormBody caps a form-encoded API body; XML bodies get the upload cap.
const maxFormBody = 1 << 20

func (s *server) serveAPI(w http.ResponseWriter, r *http.Request, call string) {
	h, ok := apiCalls[call]
	if !ok {
		s.fail(w, call, ErrUnsupported)
		return
	}
	req := &apiReq{w: w, r: r, call: call}
	form, xmlBody := "", false
	if r.Method == http.MethodPost && r.Body != nil {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch ct {
		case "application/x-www-form-urlencoded":
			// The checksum covers the body, so it must be read first;
			// maxFormBody bounds what an unsigned request costs.
			b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBody))
			if err != nil {
				s.fail(w, call, paramErr("request body is too large"))
				return
			}
			form = string(b)
		case "application/xml", "text/xml":
			// As in BBB the checksum covers only the query string here:
			// not a byte of the (large) body is read before it verified.
			xmlBody = call == "create" || call == "insertDocument"
		}
	}
	p, err := authenticate(call, r.URL.RawQuery, form, s.o.Secret)
	if err != nil {
		s.fail(w, call, err)
		return
	}
	if xmlBody {
		// Streamed into the decoder; base64 grows data by 4/3, so the cap
		// allows a few documents.
		req.xmlBody = http.MaxBytesReader(w, r.Body, s.o.MaxUploadBytes*2+maxFormBody)
		// Whatever the reply (a duplicate create never looks at the
		// documents), the rest of this authenticated, capped body is read
		// before it: a reply to a request still being sent makes proxies
		// answer 502 and HTTP/2 clients see the stream reset.
		w = &drainFirst{ResponseWriter: w, body: req.xmlBody}
		req.w = w
	}
	req.p = p
	if err := h(s, req); err != nil {
		if call == "join" && s.joinErrorRedirect(req, err) {
			s.countAPI(call, failed)
			return
		}
		s.fail(w, call, err)
	}
}

// drainFirst reads the rest of a request body before the reply starts.
type drainFirst struct {
	http.ResponseWriter
	body    io.Reader
	drained bool
}

func (d *drainFirst) drain() {
	if !d.drained {
		d.drained = true
		_, _ = io.Copy(io.Discard, d.body)
	}
}

func (d *drainFirst) WriteHeader(code int) {
	d.drain()
	d.ResponseWriter.WriteHeader(code)
}

func (d *drainFirst) Write(b []byte) (int, error) {
	d.drain()
	return d.ResponseWriter.Write(b)
}

// fail writes a FAILED reply.
func (s *server) fail(w http.ResponseWriter, call string, err error) {
	e := toAPIError(err)
	if e.Key == "internalError" {
		s.log.Error("api call failed", "call", call, "err", err)
	} else {
		s.log.Debug("api call refused", "call", call, "messageKey", e.Key)
	}
	s.countAPI(call, failed)
	writeXML(w, failedXML{ReturnCode: failed, MessageKey: e.Key, Message: e.Message})
}

// ok writes a SUCCESS reply.
func (s *server) ok(req *apiReq, v any) error {
	s.countAPI(req.call, success)
	writeXML(req.w, v)
	return nil
}

func (s *server) apiCreate(req *apiReq) error {
	ctx := req.r.Context()
	set, err := parseCreate(req.p, s.o.DialNumber)
	if err != nil {
		return err
	}
	// A running meeting: BBB's idempotent create. Given passwords must
	// match, else the meetingID belongs to someone else's meeting.
	if old, err := s.mgr.Meeting(ctx, set.MeetingID); err == nil {
		return s.duplicate(req, old)
	} else if !errors.Is(err, room.ErrNotFound) {
		return err
	}
	// Draining: platforms call create before every join, so a running
	// meeting still answers above; only new meetings are refused.
	if s.draining() {
		return ErrDraining
	}
	var docs []docSource
	if req.xmlBody != nil {
		if docs, err = parsePresentations(req.xmlBody, s.o.MaxUploadBytes, maxDocsPerCall); err != nil {
			return err
		}
	}
	mt, existed, err := s.mgr.Create(ctx, set)
	if err != nil {
		return err
	}
	if existed {
		// Lost a race with a concurrent create of the same meetingID.
		return s.duplicate(req, mt)
	}
	// The first document is shown at the start, as in BBB (or the one
	// marked current). A document that cannot be used never fails create.
	s.addDocuments(mt.Key, docs, true)
	if s.metrics != nil {
		s.metrics.created.Inc()
	}
	return s.ok(req, createReply(mt, "", ""))
}

func (s *server) duplicate(req *apiReq, old *room.Meeting) error {
	for _, pw := range []struct{ param, have string }{{"attendeePW", old.AttendeePW}, {"moderatorPW", old.ModeratorPW}} {
		if v := req.p.get(pw.param); v != "" && subtle.ConstantTimeCompare([]byte(v), []byte(pw.have)) != 1 {
			return ErrIDNotUnique
		}
	}
	return s.ok(req, createReply(old, "duplicateWarning", "This conference was already in existence and may currently be in progress."))
}

func createReply(m *room.Meeting, key, msg string) createXML {
	return createXML{
		ReturnCode:        success,
		MeetingID:         m.MeetingID,
		InternalMeetingID: m.InternalID(),
		ParentMeetingID:   "bbb-none",
		AttendeePW:        m.AttendeePW,
		ModeratorPW:       m.ModeratorPW,
		CreateTime:        millis(m.CreateTime),
		VoiceBridge:       m.PIN,
		DialNumber:        m.DialNumber,
		CreateDate:        javaDate(m.CreateTime),
		HasUserJoined:     m.EverJoined,
		Duration:          minutes(m.Duration),
		MessageKey:        key,
		Message:           msg,
	}
}

func (s *server) apiEnd(req *apiReq) error {
	ctx := req.r.Context()
	id, err := meetingIDParam(req.p)
	if err != nil {
		return err
	}
	mt, err := s.mgr.Meeting(ctx, id)
	if err != nil {
		return err
	}
	// BBB 2.x required the moderator password; later versions dropped it.
	// When given, it must be right.
	if pw := req.p.get("password"); pw != "" && subtle.ConstantTimeCompare([]byte(pw), []byte(mt.ModeratorPW)) != 1 {
		return ErrPassword
	}
	if err := s.mgr.End(ctx, mt.Key, room.ReasonAPI); err != nil {
		return err
	}
	return s.ok(req, messageXML{
		ReturnCode: success,
		MessageKey: "sentEndMeetingRequest",
		Message:    "A request to end the meeting was sent. Please wait a few seconds, and then use the getMeetingInfo or isMeetingRunning API calls to verify that it was ended.",
	})
}

func (s *server) apiIsMeetingRunning(req *apiReq) error {
	id, err := meetingIDParam(req.p)
	if err != nil {
		return err
	}
	mt, err := s.mgr.Meeting(req.r.Context(), id)
	if err != nil && !errors.Is(err, room.ErrNotFound) {
		return err
	}
	return s.ok(req, runningXML{ReturnCode: success, Running: err == nil && mt.Running()})
}

func (s *server) apiGetMeetingInfo(req *apiReq) error {
	ctx := req.r.Context()
	id, err := meetingIDParam(req.p)
	if err != nil {
		return err
	}
	mt, err := s.mgr.Meeting(ctx, id)
	if err != nil {
		return err
	}
	ps, err := s.mgr.Participants(ctx, mt.Key)
	if err != nil {
		return err
	}
	return s.ok(req, meetingInfoXML{ReturnCode: success, meetingXML: meetingView(mt, ps)})
}

func (s *server) apiGetMeetings(req *apiReq) error {
	ctx := req.r.Context()
	ms, err := s.mgr.Meetings(ctx)
	if err != nil {
		return err
	}
	sort.Slice(ms, func(i, j int) bool {
		if !ms[i].CreateTime.Equal(ms[j].CreateTime) {
			return ms[i].CreateTime.Before(ms[j].CreateTime)
		}
		return ms[i].MeetingID < ms[j].MeetingID
	})
	out := meetingsXML{ReturnCode: success}
	for _, mt := range ms {
		ps, err := s.mgr.Participants(ctx, mt.Key)
		if err != nil {
			if errors.Is(err, room.ErrNotFound) {
				continue // ended while we listed
			}
			return err
		}
		out.Meetings.List = append(out.Meetings.List, meetingView(mt, ps))
	}
	if len(out.Meetings.List) == 0 {
		out.MessageKey, out.Message = "noMeetings", "no meetings were found on this server"
	}
	return s.ok(req, out)
}

func (s *server) apiGetRecordings(req *apiReq) error {
	return s.ok(req, recordingsXML{
		ReturnCode: success,
		MessageKey: "noRecordings",
		Message:    "There are no recordings for the meeting(s).",
	})
}

// apiNoRecording answers calls about one recording: there are none.
func (s *server) apiNoRecording(req *apiReq) error {
	return ErrNoRecording
}
