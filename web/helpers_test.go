package web

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"aula/internal/testenv"
	"aula/present"
	"aula/room"
	"aula/store"
	"aula/web/static"
)

const testSecret = "s3cr3t-shared-with-the-platform"

// fakeWS records the sessions it was handed.
type fakeWS struct {
	mu   sync.Mutex
	seen []*room.Session
}

func (f *fakeWS) ServeWS(w http.ResponseWriter, r *http.Request, s *room.Session) {
	f.mu.Lock()
	f.seen = append(f.seen, s)
	f.mu.Unlock()
	w.WriteHeader(http.StatusSwitchingProtocols)
}

// env is a running Aula web server over the memory store.
type env struct {
	t     *testing.T
	srv   *httptest.Server
	mgr   *room.Manager
	mem   *store.Memory // the manager's store
	files *store.Dir
	// dataDir is files' root on disk.
	dataDir string
	// docSvc converts the documents of e's meetings.
	docSvc *present.Service
	ws     *fakeWS
	log    *testenv.LogBuffer
	reg    *prometheus.Registry
	http   *http.Client
}

var testStatic = fstest.MapFS{
	"index.html":   {Data: []byte(`<!doctype html><html lang="en"><title>Aula client</title><script type=module src=/static/js/app.js></script>`)},
	"js/app.js":    {Data: []byte("export const x = 1;\n")},
	"css/app.css":  {Data: []byte("body{margin:0}\n")},
	"video.html":   {Data: []byte(`<!doctype html><html lang="en"><title>Video</title><video id=v></video><script type=module src=/static/js/video.js></script>`)},
	"i18n/en.json": {Data: catalogue("en")},
	"i18n/de.json": {Data: catalogue("de")},
}

// catalogue is a real translation catalogue of the client.
func catalogue(lang string) []byte {
	b, err := fs.ReadFile(static.FS, "i18n/"+lang+".json")
	if err != nil {
		panic(err)
	}
	return b
}

func newEnv(t *testing.T, mutate ...func(*Options)) *env {
	t.Helper()
	e := &env{t: t, dataDir: t.TempDir(), mem: store.NewMemory(nil), ws: &fakeWS{}, log: &testenv.LogBuffer{}, reg: prometheus.NewRegistry()}
	var err error
	if e.files, err = store.NewDir(e.dataDir); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.mgr = room.NewManager(room.Config{Logger: logger, Features: []room.FeatureSpec{room.PresentationFeature(), room.WhiteboardFeature(),
		room.NotesFeature(), room.VideoFeature(room.VideoPolicy{Providers: []string{room.ProviderFile, room.ProviderYouTube}})}}, e.mem, e.files)
	// The listener exists before the handler, so PublicURL can name it.
	e.srv = httptest.NewUnstartedServer(nil)
	t.Cleanup(e.srv.Close)
	pub, _ := url.Parse("http://" + e.srv.Listener.Addr().String())
	o := Options{
		PublicURL:  pub,
		Secret:     testSecret,
		Manager:    e.mgr,
		Files:      e.files,
		WS:         e.ws,
		Static:     testStatic,
		DialNumber: "+49 30 1234567",
		Logger:     logger,
		Registry:   e.reg,
	}
	for _, m := range mutate {
		m(&o)
	}
	if o.Docs == nil && o.Files != nil {
		o.Docs = present.New(o.Manager, o.Files, conv, o.MaxUploadBytes, logger)
		t.Cleanup(o.Docs.Close)
	}
	e.docSvc = o.Docs
	h, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.srv.Config.Handler = h
	e.srv.Start()
	// Never follow redirects and never keep cookies: tests look at both.
	e.http = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return e
}

// apiURL signs a call with the given algorithm.
func (e *env) apiURL(algo, call string, params url.Values) string {
	q := params.Encode()
	sum := Sign(algo, call, q, testSecret)
	if q != "" {
		q += "&"
	}
	return e.srv.URL + "/bigbluebutton/api/" + call + "?" + q + "checksum=" + sum
}

func (e *env) get(u string, header ...string) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatalf("GET %s: %v", u, err)
	}
	return resp
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// call does a signed GET and decodes the XML reply into v.
func (e *env) call(call string, params url.Values, v any) string {
	e.t.Helper()
	resp := e.get(e.apiURL("sha1", call, params))
	body := readBody(e.t, resp)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("%s: status %d: %s", call, resp.StatusCode, body)
	}
	if v != nil {
		if err := xml.Unmarshal([]byte(body), v); err != nil {
			e.t.Fatalf("%s: bad XML %q: %v", call, body, err)
		}
	}
	return body
}

// bbbFailed mirrors BBB's FAILED reply.
type bbbFailed struct {
	XMLName    xml.Name `xml:"response"`
	ReturnCode string   `xml:"returncode"`
	MessageKey string   `xml:"messageKey"`
	Message    string   `xml:"message"`
}

// mustFail asserts a FAILED reply with the messageKey.
func (e *env) mustFail(call string, params url.Values, key string) string {
	e.t.Helper()
	var f bbbFailed
	body := e.call(call, params, &f)
	if f.ReturnCode != "FAILED" || f.MessageKey != key || f.Message == "" {
		e.t.Fatalf("%s: want FAILED %s, got %s", call, key, body)
	}
	return body
}

// create makes a meeting and returns the reply.
func (e *env) create(id string, extra ...string) bbbCreate {
	e.t.Helper()
	p := url.Values{"meetingID": {id}, "name": {"Course " + id}, "attendeePW": {"ap-" + id}, "moderatorPW": {"mp-" + id}}
	for i := 0; i+1 < len(extra); i += 2 {
		p.Set(extra[i], extra[i+1])
	}
	var c bbbCreate
	body := e.call("create", p, &c)
	if c.ReturnCode != "SUCCESS" {
		e.t.Fatalf("create %s: %s", id, body)
	}
	return c
}

// join does a role join without redirect and returns the reply.
func (e *env) joinXML(id, name, role string) bbbJoin {
	e.t.Helper()
	var j bbbJoin
	body := e.call("join", url.Values{"meetingID": {id}, "fullName": {name}, "role": {role}, "redirect": {"false"}}, &j)
	if j.ReturnCode != "SUCCESS" {
		e.t.Fatalf("join: %s", body)
	}
	return j
}

// enter redeems a one-time join URL and returns the cookie and client path.
func (e *env) enter(j bbbJoin) (*http.Cookie, string) {
	e.t.Helper()
	resp := e.get(j.URL)
	readBody(e.t, resp)
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("redeem: status %d", resp.StatusCode)
	}
	cs := resp.Cookies()
	if len(cs) != 1 {
		e.t.Fatalf("redeem: want one cookie, got %v", resp.Header.Values("Set-Cookie"))
	}
	return cs[0], resp.Header.Get("Location")
}

// attach puts a joined participant into the room as its client would.
func (e *env) attach(ctx context.Context, cookie *http.Cookie) *room.Member {
	e.t.Helper()
	s, err := e.mgr.Session(ctx, cookie.Value)
	if err != nil {
		e.t.Fatal(err)
	}
	m, err := e.mgr.Attach(ctx, s.MeetingKey, s.Identity, room.ListenerFunc(func(room.Event) {}))
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// Mirrors of BBB's reply shapes, written from BBB's documentation, not
// from Aula's own types, so the tests catch a renamed or missing element.
type bbbCreate struct {
	XMLName              xml.Name `xml:"response"`
	ReturnCode           string   `xml:"returncode"`
	MeetingID            string   `xml:"meetingID"`
	InternalMeetingID    string   `xml:"internalMeetingID"`
	ParentMeetingID      string   `xml:"parentMeetingID"`
	AttendeePW           string   `xml:"attendeePW"`
	ModeratorPW          string   `xml:"moderatorPW"`
	CreateTime           string   `xml:"createTime"`
	VoiceBridge          string   `xml:"voiceBridge"`
	DialNumber           string   `xml:"dialNumber"`
	CreateDate           string   `xml:"createDate"`
	HasUserJoined        string   `xml:"hasUserJoined"`
	Duration             string   `xml:"duration"`
	HasBeenForciblyEnded string   `xml:"hasBeenForciblyEnded"`
	MessageKey           string   `xml:"messageKey"`
	Message              string   `xml:"message"`
}

type bbbJoin struct {
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

type bbbAttendee struct {
	UserID          string  `xml:"userID"`
	FullName        string  `xml:"fullName"`
	Role            string  `xml:"role"`
	IsPresenter     string  `xml:"isPresenter"`
	IsListeningOnly string  `xml:"isListeningOnly"`
	HasJoinedVoice  string  `xml:"hasJoinedVoice"`
	HasVideo        string  `xml:"hasVideo"`
	ClientType      string  `xml:"clientType"`
	CustomData      bbbMeta `xml:"customdata"`
}

type bbbMeta struct {
	Items []struct {
		XMLName xml.Name
		Value   string `xml:",chardata"`
	} `xml:",any"`
}

type bbbMeeting struct {
	MeetingName           string        `xml:"meetingName"`
	MeetingID             string        `xml:"meetingID"`
	InternalMeetingID     string        `xml:"internalMeetingID"`
	CreateTime            string        `xml:"createTime"`
	CreateDate            string        `xml:"createDate"`
	VoiceBridge           string        `xml:"voiceBridge"`
	DialNumber            string        `xml:"dialNumber"`
	AttendeePW            string        `xml:"attendeePW"`
	ModeratorPW           string        `xml:"moderatorPW"`
	Running               string        `xml:"running"`
	Duration              string        `xml:"duration"`
	HasUserJoined         string        `xml:"hasUserJoined"`
	Recording             string        `xml:"recording"`
	HasBeenForciblyEnded  string        `xml:"hasBeenForciblyEnded"`
	StartTime             string        `xml:"startTime"`
	EndTime               string        `xml:"endTime"`
	ParticipantCount      string        `xml:"participantCount"`
	ListenerCount         string        `xml:"listenerCount"`
	VoiceParticipantCount string        `xml:"voiceParticipantCount"`
	VideoCount            string        `xml:"videoCount"`
	MaxUsers              string        `xml:"maxUsers"`
	ModeratorCount        string        `xml:"moderatorCount"`
	Attendees             []bbbAttendee `xml:"attendees>attendee"`
	Metadata              bbbMeta       `xml:"metadata"`
	IsBreakout            string        `xml:"isBreakout"`
}

type bbbInfo struct {
	XMLName    xml.Name `xml:"response"`
	ReturnCode string   `xml:"returncode"`
	bbbMeeting
}

type bbbMeetings struct {
	XMLName    xml.Name     `xml:"response"`
	ReturnCode string       `xml:"returncode"`
	Meetings   []bbbMeeting `xml:"meetings>meeting"`
	MessageKey string       `xml:"messageKey"`
}

// elementNames lists the child element names of the root, in order.
func elementNames(t *testing.T, body string) []string {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(body))
	depth := 0
	var names []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatalf("bad XML %q: %v", body, err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 {
				names = append(names, tk.Name.Local)
			}
		case xml.EndElement:
			depth--
		}
	}
}

// docs waits until the meeting holds n documents besides the blank deck,
// none of them converting any more, and returns them.
func (e *env) docs(meetingID string, n int) []room.Doc {
	e.t.Helper()
	var out []room.Doc
	testenv.Eventually(e.t, 60*time.Second, fmt.Sprintf("%d documents of %s converted or refused", n, meetingID), func() bool {
		mt, err := e.mgr.Meeting(context.Background(), meetingID)
		if err != nil {
			return false
		}
		all, err := e.mgr.PresentationDocs(mt.Key)
		if err != nil {
			return false
		}
		out = out[:0]
		for _, d := range all {
			if d.ID == room.BlankDeck {
				continue
			}
			if d.Status == room.DocConverting {
				return false
			}
			out = append(out, d)
		}
		return len(out) == n
	})
	return out
}
