package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"image"
	pngenc "image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/go-pdf/fpdf"

	"aula/present"
	"aula/room"
)

func TestVersionReply(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/bigbluebutton/api", "/bigbluebutton/api/"} {
		resp := e.get(e.srv.URL + p)
		body := readBody(t, resp)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml") {
			t.Fatalf("%s: %d %s", p, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		want := []string{"returncode", "version", "apiVersion", "bbbVersion"}
		if got := elementNames(t, body); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: elements %v, want %v", p, got, want)
		}
		if !strings.Contains(body, "<returncode>SUCCESS</returncode>") || !strings.Contains(body, "<version>2.0</version>") ||
			!strings.Contains(body, "<bbbVersion>2.7.0</bbbVersion>") {
			t.Fatalf("%s: %s", p, body)
		}
	}
}

func TestChecksumAlgorithms(t *testing.T) {
	e := newEnv(t)
	params := url.Values{"meetingID": {"algo room"}, "name": {"A room with spaces"}}
	for _, algo := range []string{"sha1", "sha256", "sha384", "sha512"} {
		t.Run(algo, func(t *testing.T) {
			q := params.Encode()
			sum := Sign(algo, "isMeetingRunning", q, testSecret)
			base := e.srv.URL + "/bigbluebutton/api/isMeetingRunning?"
			cases := []struct {
				name, url, want string
			}{
				{"good", base + q + "&checksum=" + sum, "SUCCESS"},
				{"good upper-case hex", base + q + "&checksum=" + strings.ToUpper(sum), "SUCCESS"},
				{"checksum first", base + "checksum=" + sum + "&" + q, "SUCCESS"},
				{"one digit wrong", base + q + "&checksum=" + flip(sum), "checksumError"},
				{"wrong secret", base + q + "&checksum=" + Sign(algo, "isMeetingRunning", q, "other"), "checksumError"},
				{"other call's checksum", base + q + "&checksum=" + Sign(algo, "getMeetingInfo", q, testSecret), "checksumError"},
				{"tampered parameter", base + strings.Replace(q, "algo", "algx", 1) + "&checksum=" + sum, "checksumError"},
				{"truncated", base + q + "&checksum=" + sum[:len(sum)-2], "checksumError"},
				{"missing", base + q, "checksumError"},
				{"twice", base + q + "&checksum=" + sum + "&checksum=" + sum, "checksumError"},
			}
			for _, c := range cases {
				body := readBody(t, e.get(c.url))
				if !strings.Contains(body, ">"+c.want+"<") {
					t.Errorf("%s: want %s, got %s", c.name, c.want, body)
				}
			}
		})
	}
}

// flip changes the last hex digit.
func flip(sum string) string {
	last := sum[len(sum)-1]
	if last == '0' {
		return sum[:len(sum)-1] + "1"
	}
	return sum[:len(sum)-1] + "0"
}

func TestChecksumRawQuery(t *testing.T) {
	// The npm client writes spaces as %20; Go's encoder writes +. Both are
	// hashed exactly as sent.
	e := newEnv(t)
	for _, q := range []string{"meetingID=a%20room&name=My%20Room", "meetingID=a+room&name=My+Room"} {
		u := e.srv.URL + "/bigbluebutton/api/create?" + q + "&checksum=" + Sign("sha1", "create", q, testSecret)
		var c bbbCreate
		if err := xml.Unmarshal([]byte(readBody(t, e.get(u))), &c); err != nil || c.ReturnCode != "SUCCESS" || c.MeetingID != "a room" {
			t.Fatalf("%s: %+v %v", q, c, err)
		}
	}
}

func TestUnknownCall(t *testing.T) {
	e := newEnv(t)
	for _, call := range []string{"frobnicate", "hooks"} {
		e.mustFail(call, url.Values{"meetingID": {"x1"}}, "unsupportedRequest")
	}
}

func TestMissingAndBadParameters(t *testing.T) {
	e := newEnv(t)
	e.create("room1")
	long := strings.Repeat("x", 257)
	cases := []struct {
		call   string
		params url.Values
		key    string
	}{
		{"create", url.Values{"name": {"n1"}}, "missingParamMeetingID"},
		{"create", url.Values{"meetingID": {"   "}, "name": {"n1"}}, "missingParamMeetingID"},
		{"create", url.Values{"meetingID": {"a,b"}, "name": {"n1"}}, "invalidMeetingIdentifier"},
		{"create", url.Values{"meetingID": {"a"}, "name": {"n1"}}, "invalidMeetingIdentifier"},
		{"create", url.Values{"meetingID": {long}, "name": {"n1"}}, "invalidMeetingIdentifier"},
		{"create", url.Values{"meetingID": {"new1"}}, "validationError"},
		{"create", url.Values{"meetingID": {"new1"}, "name": {"n1"}, "voiceBridge": {"1234"}}, "validationError"},
		{"create", url.Values{"meetingID": {"new1"}, "name": {"n1"}, "voiceBridge": {"12a45"}}, "validationError"},
		{"create", url.Values{"meetingID": {"new1"}, "name": {"n1"}, "duration": {"-5"}}, "validationError"},
		{"create", url.Values{"meetingID": {"new1"}, "name": {"n1"}, "duration": {"ten"}}, "validationError"},
		{"create", url.Values{"meetingID": {"new1"}, "name": {"n1"}, "maxParticipants": {"1.5"}}, "validationError"},
		{"create", url.Values{"meetingID": {"new1"}, "name": {"n1"}, "muteOnStart": {"yes"}}, "validationError"},
		{"create", url.Values{"meetingID": {"new1"}, "name": {"n1"}, "record": {"1"}}, "validationError"},
		{"create", url.Values{"meetingID": {"new1"}, "name": {"n1"}, "lockSettingsHideUserList": {"maybe"}}, "validationError"},
		{"create", url.Values{"meetingID": {"new1"}, "name": {"n1"}, "guestPolicy": {"SOMETIMES"}}, "validationError"},
		{"create", url.Values{"meetingID": {"new1"}, "name": {"n1"}, "logoutURL": {"javascript:alert(1)"}}, "validationError"},
		{"create", url.Values{"meetingID": {"new1"}, "name": {"n1"}, "attendeePW": {"same"}, "moderatorPW": {"same"}}, "validationError"},
		{"create", url.Values{"meetingID": {"new1"}, "name": {"n1"}, "meta_<bad>": {"v"}}, "validationError"},
		{"create", url.Values{"meetingID": {"new1"}, "name": {"bell\x07"}}, "validationError"},
		{"join", url.Values{"meetingID": {"room1"}, "role": {"VIEWER"}}, "missingParamFullName"},
		{"join", url.Values{"meetingID": {"room1"}, "fullName": {"  "}, "role": {"VIEWER"}}, "missingParamFullName"},
		{"join", url.Values{"fullName": {"Ann"}, "role": {"VIEWER"}}, "missingParamMeetingID"},
		{"join", url.Values{"meetingID": {"nope"}, "fullName": {"Ann"}, "role": {"VIEWER"}}, "notFound"},
		{"join", url.Values{"meetingID": {"room1"}, "fullName": {"Ann"}}, "invalidPassword"},
		{"join", url.Values{"meetingID": {"room1"}, "fullName": {"Ann"}, "password": {"wrong"}}, "invalidPassword"},
		{"join", url.Values{"meetingID": {"room1"}, "fullName": {"Ann"}, "role": {"ADMIN"}}, "validationError"},
		{"join", url.Values{"meetingID": {"room1"}, "fullName": {"Ann"}, "role": {"VIEWER"}, "createTime": {"123"}}, "mismatchCreateTimeParam"},
		{"join", url.Values{"meetingID": {"room1"}, "fullName": {"Ann"}, "role": {"VIEWER"}, "redirect": {"perhaps"}}, "validationError"},
		{"end", url.Values{}, "missingParamMeetingID"},
		{"end", url.Values{"meetingID": {"nope"}}, "notFound"},
		{"end", url.Values{"meetingID": {"room1"}, "password": {"ap-room1"}}, "invalidPassword"},
		{"getMeetingInfo", url.Values{}, "missingParamMeetingID"},
		{"getMeetingInfo", url.Values{"meetingID": {"nope"}}, "notFound"},
		{"isMeetingRunning", url.Values{}, "missingParamMeetingID"},
	}
	for _, c := range cases {
		body := e.mustFail(c.call, c.params, c.key)
		if got := elementNames(t, body); !reflect.DeepEqual(got, []string{"returncode", "messageKey", "message"}) {
			t.Errorf("%s %v: FAILED reply elements %v", c.call, c.params, got)
		}
	}
	// Nothing was created by any failed create; room1 is unharmed.
	var ms bbbMeetings
	e.call("getMeetings", nil, &ms)
	if len(ms.Meetings) != 1 || ms.Meetings[0].MeetingID != "room1" {
		t.Fatalf("meetings after bad input: %+v", ms.Meetings)
	}
	if ms, _ := e.files.Meetings(); len(ms) != 0 {
		t.Fatalf("files written for meetings %v", ms)
	}
}

func TestCreateReply(t *testing.T) {
	e := newEnv(t)
	p := url.Values{
		"meetingID": {"course-42"}, "name": {"Physik 1"}, "attendeePW": {"ap"}, "moderatorPW": {"mp"},
		"voiceBridge": {"71234"}, "duration": {"90"}, "record": {"true"},
		"welcome":         {"Welcome to %%CONFNAME%%: dial %%DIALNUM%% and PIN %%CONFNUM%%"},
		"meta_bbb-origin": {"Moodle"}, "meta_Course": {"Physik"},
	}
	var c bbbCreate
	body := e.call("create", p, &c)
	want := []string{"returncode", "meetingID", "internalMeetingID", "parentMeetingID", "attendeePW", "moderatorPW",
		"createTime", "voiceBridge", "dialNumber", "createDate", "hasUserJoined", "duration", "hasBeenForciblyEnded",
		"messageKey", "message"}
	if got := elementNames(t, body); !reflect.DeepEqual(got, want) {
		t.Fatalf("elements %v\nwant %v", got, want)
	}
	mt, err := e.mgr.Meeting(context.Background(), "course-42")
	if err != nil {
		t.Fatal(err)
	}
	if c.ReturnCode != "SUCCESS" || c.MeetingID != "course-42" || c.InternalMeetingID != mt.InternalID() ||
		c.ParentMeetingID != "bbb-none" || c.AttendeePW != "ap" || c.ModeratorPW != "mp" || c.VoiceBridge != "71234" ||
		c.DialNumber != "+49 30 1234567" || c.Duration != "90" || c.HasUserJoined != "false" || c.HasBeenForciblyEnded != "false" {
		t.Fatalf("reply %+v", c)
	}
	if !strings.Contains(c.CreateDate, "UTC") || c.CreateTime == "" {
		t.Fatalf("dates %q %q", c.CreateDate, c.CreateTime)
	}
	if got := mt.WelcomeText(); got != "Welcome to Physik 1: dial +49 30 1234567 and PIN 71234" {
		t.Fatalf("welcome %q", got)
	}

	// Same meetingID again: idempotent, with BBB's warning.
	var d bbbCreate
	e.call("create", p, &d)
	if d.ReturnCode != "SUCCESS" || d.MessageKey != "duplicateWarning" || d.InternalMeetingID != c.InternalMeetingID {
		t.Fatalf("duplicate %+v", d)
	}
	// Without passwords: still the same meeting, passwords returned.
	e.call("create", url.Values{"meetingID": {"course-42"}, "name": {"Physik 1"}}, &d)
	if d.MessageKey != "duplicateWarning" || d.ModeratorPW != "mp" {
		t.Fatalf("duplicate without passwords %+v", d)
	}
	// Other passwords: someone else's meetingID.
	e.mustFail("create", url.Values{"meetingID": {"course-42"}, "name": {"x1"}, "moderatorPW": {"other"}}, "idNotUnique")

	// The PIN is taken by course-42.
	e.mustFail("create", url.Values{"meetingID": {"course-43"}, "name": {"x1"}, "voiceBridge": {"71234"}}, "voiceBridgeNotUnique")

	var info bbbInfo
	e.call("getMeetingInfo", url.Values{"meetingID": {"course-42"}}, &info)
	if info.Recording != "false" {
		t.Fatalf("record=true must never record: %+v", info)
	}
	meta := map[string]string{}
	for _, it := range info.Metadata.Items {
		meta[it.XMLName.Local] = it.Value
	}
	if !reflect.DeepEqual(meta, map[string]string{"bbb-origin": "Moodle", "course": "Physik"}) {
		t.Fatalf("metadata %v", meta)
	}
}

func TestCreateGeneratesPasswordsAndPIN(t *testing.T) {
	e := newEnv(t)
	var c bbbCreate
	e.call("create", url.Values{"meetingID": {"bare"}, "name": {"Bare"}, "dialNumber": {"+49 89 555"}}, &c)
	if len(c.AttendeePW) < 8 || len(c.ModeratorPW) < 8 || c.AttendeePW == c.ModeratorPW {
		t.Fatalf("generated passwords %q %q", c.AttendeePW, c.ModeratorPW)
	}
	if !room.ValidPIN(c.VoiceBridge) || c.DialNumber != "+49 89 555" {
		t.Fatalf("pin %q dial %q", c.VoiceBridge, c.DialNumber)
	}
	// An empty dialNumber means the operator's number.
	e.call("create", url.Values{"meetingID": {"bare2"}, "name": {"Bare"}, "dialNumber": {""}}, &c)
	if c.DialNumber != "+49 30 1234567" {
		t.Fatalf("default dial number %q", c.DialNumber)
	}
}

func TestCreateSettings(t *testing.T) {
	e := newEnv(t)
	e.create("locked", "lockSettingsDisableCam", "true", "lockSettingsDisableMic", "true",
		"lockSettingsDisablePrivateChat", "true", "lockSettingsDisablePublicChat", "true",
		"lockSettingsDisableNote", "true", "lockSettingsHideUserList", "true", "webcamsOnlyForModerator", "true",
		"lockSettingsLockOnJoin", "true", "muteOnStart", "true", "guestPolicy", "ALWAYS_DENY",
		"meetingExpireIfNoUserJoinedInMinutes", "7", "meetingExpireWhenLastUserLeftInMinutes", "3",
		"endWhenNoModerator", "true", "endWhenNoModeratorDelayInMinutes", "4", "maxParticipants", "25",
		"logoutURL", "https://lms.example/course/42", "record", "true")
	mt, err := e.mgr.Meeting(context.Background(), "locked")
	if err != nil {
		t.Fatal(err)
	}
	want := room.LockSettings{DisableCam: true, DisableMic: true, DisablePrivChat: true, DisablePublicChat: true,
		DisableNotes: true, HideUserList: true, WebcamsOnlyForModerator: true, LockOnJoin: true}
	if mt.Lock != want || !mt.MuteOnStart || mt.GuestPolicy != room.GuestAlwaysDeny ||
		mt.ExpireIfNoUserJoined.Minutes() != 7 || mt.ExpireWhenLastUserLeft.Minutes() != 3 ||
		!mt.EndWhenNoModerator || mt.EndWhenNoModeratorDelay.Minutes() != 4 || mt.MaxParticipants != 25 ||
		mt.LogoutURL != "https://lms.example/course/42" || !mt.RecordRequested {
		t.Fatalf("settings %+v", mt.Settings)
	}
}

func TestCreatePOST(t *testing.T) {
	e := newEnv(t)
	// Form body: the checksum covers query and body.
	q := "name=Posted"
	body := "meetingID=posted-1&attendeePW=ap&moderatorPW=mp"
	sum := Sign("sha256", "create", q+"&"+body, testSecret)
	resp, err := e.http.Post(e.srv.URL+"/bigbluebutton/api/create?"+q+"&checksum="+sum,
		"application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var c bbbCreate
	if err := xml.Unmarshal([]byte(readBody(t, resp)), &c); err != nil || c.ReturnCode != "SUCCESS" || c.MeetingID != "posted-1" {
		t.Fatalf("form POST: %+v %v", c, err)
	}
	// A body the checksum does not cover is refused.
	sum = Sign("sha256", "create", q, testSecret)
	resp, err = e.http.Post(e.srv.URL+"/bigbluebutton/api/create?"+q+"&checksum="+sum,
		"application/x-www-form-urlencoded", strings.NewReader("meetingID=posted-2"))
	if err != nil {
		t.Fatal(err)
	}
	if b := readBody(t, resp); !strings.Contains(b, "checksumError") {
		t.Fatalf("uncovered body accepted: %s", b)
	}
	if _, err := e.mgr.Meeting(context.Background(), "posted-2"); err == nil {
		t.Fatal("posted-2 created")
	}
}

var (
	// tinyPDF and tinyPNG are real, small documents (made by
	// realDocs below), so conversions succeed.
	tinyPDF, tinyPNG = realDocs()
)

func modules(docs ...string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><modules><module name="presentation">` + strings.Join(docs, "") + `</module></modules>`
}

// TestCreatePresentations: a create's documents (embedded and by URL)
// become the meeting's presentation, the first one shown; documents that
// cannot be used never fail create (as in BBB): the meeting starts, and
// each shows as failed with its reason for moderators. Only a body that is
// not XML at all is refused.
func TestCreatePresentations(t *testing.T) {
	docSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slides":
			_, _ = w.Write(tinyPNG)
		case "/big":
			_, _ = w.Write(append([]byte("%PDF-"), make([]byte, 1<<20)...))
		default:
			http.NotFound(w, r)
		}
	}))
	defer docSrv.Close()
	e := newEnv(t, allowLoopback, func(o *Options) { o.MaxUploadBytes = 64 << 10 })
	post := func(id, xmlBody string) string {
		q := url.Values{"meetingID": {id}, "name": {"Slides"}}.Encode()
		resp, err := e.http.Post(e.srv.URL+"/bigbluebutton/api/create?"+q+"&checksum="+Sign("sha1", "create", q, testSecret),
			"application/xml", strings.NewReader(xmlBody))
		if err != nil {
			t.Fatal(err)
		}
		return readBody(t, resp)
	}
	good := modules(
		`<document name="Kapitel 1.pdf">`+base64.StdEncoding.EncodeToString(tinyPDF)+`</document>`,
		`<document url="`+docSrv.URL+`/slides" filename="../../etc/passwd.png"/>`,
	)
	if b := post("pres-ok", good); !strings.Contains(b, "SUCCESS") {
		t.Fatalf("good presentations: %s", b)
	}
	docs := e.docs("pres-ok", 2)
	names := map[string]room.Doc{}
	for _, d := range docs {
		names[d.Name] = d
	}
	if d := names["Kapitel 1.pdf"]; d.Status != room.DocReady || d.Ext != ".pdf" {
		t.Fatalf("embedded PDF: %+v", docs)
	}
	if d := names["../../etc/passwd.png"]; d.Status != room.DocReady || d.Ext != ".png" {
		t.Fatalf("downloaded picture: %+v", docs)
	}
	presOK, _ := e.mgr.Meeting(context.Background(), "pres-ok")
	if cur, _ := e.mgr.PresentationDocs(presOK.Key); len(cur) != 3 {
		t.Fatalf("documents %+v", cur)
	}
	bad := []struct{ name, body, code string }{
		{"not a PDF", modules(`<document name="x.pdf">` + base64.StdEncoding.EncodeToString([]byte("MZ\x90\x00 windows exe")) + `</document>`), present.CodeUnsupported},
		{"bad base64", modules(`<document name="x.pdf">%%%notbase64</document>`), present.CodeCorrupt},
		{"too big", modules(`<document name="x.pdf">` + base64.StdEncoding.EncodeToString(append([]byte("%PDF-"), make([]byte, 70<<10)...)) + `</document>`), present.CodeTooLarge},
		{"download too big", modules(`<document url="` + docSrv.URL + `/big"/>`), present.CodeDownload},
		{"download 404", modules(`<document url="` + docSrv.URL + `/missing"/>`), present.CodeDownload},
		{"file URL", modules(`<document url="file:///etc/passwd"/>`), present.CodeDownload},
		{"an Office file name, a text inside", modules(`<document name="notes.pptx">` + base64.StdEncoding.EncodeToString([]byte("just text")) + `</document>`), present.CodeUnsupported},
	}
	for i, c := range bad {
		id := "pres-bad-" + string(rune('a'+i))
		if b := post(id, c.body); !strings.Contains(b, "<returncode>SUCCESS</returncode>") {
			t.Errorf("%s: create failed: %s", c.name, b)
			continue
		}
		got := e.docs(id, 1)
		if got[0].Status != room.DocFailed || got[0].Error != c.code {
			t.Errorf("%s: document %+v, want failed with %s", c.name, got[0], c.code)
		}
	}
	if b := post("pres-not-xml", "<modules><module"); !strings.Contains(b, "<returncode>FAILED</returncode>") || !strings.Contains(b, "invalidPresentation") {
		t.Errorf("a body that is not XML: %s", b)
	}
	if _, err := e.mgr.Meeting(context.Background(), "pres-not-xml"); err == nil {
		t.Error("a meeting was created from a body that is not XML")
	}
	if ms, _ := e.files.Meetings(); len(ms) != 1 || ms[0] != presOK.Key {
		t.Errorf("file folders %v, want only the good meeting's", ms)
	}
}

func TestGetMeetingInfoAttendees(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.create("info", "maxParticipants", "10", "meta_origin", "lms")
	// Before anyone is in: BBB's shape with empty lists.
	var info bbbInfo
	body := e.call("getMeetingInfo", url.Values{"meetingID": {"info"}}, &info)
	want := []string{"returncode", "meetingName", "meetingID", "internalMeetingID", "createTime", "createDate",
		"voiceBridge", "dialNumber", "attendeePW", "moderatorPW", "running", "duration", "hasUserJoined", "recording",
		"hasBeenForciblyEnded", "startTime", "endTime", "participantCount", "listenerCount", "voiceParticipantCount",
		"videoCount", "maxUsers", "moderatorCount", "attendees", "metadata", "isBreakout"}
	if got := elementNames(t, body); !reflect.DeepEqual(got, want) {
		t.Fatalf("elements %v\nwant %v", got, want)
	}
	if info.Running != "false" || info.ParticipantCount != "0" || info.HasUserJoined != "false" || info.MaxUsers != "10" {
		t.Fatalf("empty meeting %+v", info)
	}

	mod, _ := e.enter(e.joinXML("info", "Frau Lehrerin", "moderator"))
	vie, _ := e.enter(e.joinXML("info", "Schüler Ben", "VIEWER"))
	var running bbbRunning
	e.call("isMeetingRunning", url.Values{"meetingID": {"info"}}, &running)
	if running.Running != "false" {
		t.Fatal("running before a moderator entered")
	}
	m := e.attach(ctx, mod)
	if err := m.SetMedia(ctx, room.MediaState{Audio: true, Video: true}); err != nil {
		t.Fatal(err)
	}
	e.attach(ctx, vie)
	infoMt, err := e.mgr.Meeting(ctx, "info")
	if err != nil {
		t.Fatal(err)
	}
	key := infoMt.Key
	if _, err := e.mgr.Attach(ctx, key, room.Identity{ParticipantID: room.NewID(), Name: "Phone ···789", Role: room.Viewer, Kind: room.Phone},
		room.ListenerFunc(func(room.Event) {})); err != nil {
		t.Fatal(err)
	}
	info = bbbInfo{}
	e.call("getMeetingInfo", url.Values{"meetingID": {"info"}}, &info)
	if info.Running != "true" || info.HasUserJoined != "true" || info.StartTime == "0" ||
		info.ParticipantCount != "3" || info.ModeratorCount != "1" || info.VideoCount != "1" ||
		info.VoiceParticipantCount != "2" || info.ListenerCount != "1" {
		t.Fatalf("counts %+v", info.bbbMeeting)
	}
	byName := map[string]bbbAttendee{}
	for _, a := range info.Attendees {
		byName[a.FullName] = a
	}
	if a := byName["Frau Lehrerin"]; a.Role != "MODERATOR" || a.HasJoinedVoice != "true" || a.HasVideo != "true" || a.IsPresenter != "true" || a.IsListeningOnly != "false" {
		t.Fatalf("moderator %+v", a)
	}
	if a := byName["Schüler Ben"]; a.Role != "VIEWER" || a.HasJoinedVoice != "false" || a.HasVideo != "false" || a.IsPresenter != "false" || a.IsListeningOnly != "true" {
		t.Fatalf("viewer %+v", a)
	}
	if a := byName["Phone ···789"]; a.HasJoinedVoice != "true" || a.ClientType != "DIAL-IN-USER" {
		t.Fatalf("phone %+v", a)
	}
	e.call("isMeetingRunning", url.Values{"meetingID": {"info"}}, &running)
	if running.Running != "true" {
		t.Fatal("not running with a moderator in")
	}
}

type bbbRunning struct {
	XMLName    xml.Name `xml:"response"`
	ReturnCode string   `xml:"returncode"`
	Running    string   `xml:"running"`
}

func TestEndAndGetMeetings(t *testing.T) {
	e := newEnv(t)
	var ms bbbMeetings
	e.call("getMeetings", nil, &ms)
	if ms.ReturnCode != "SUCCESS" || len(ms.Meetings) != 0 || ms.MessageKey != "noMeetings" {
		t.Fatalf("empty list %+v", ms)
	}
	e.create("one")
	e.create("two")
	e.call("getMeetings", nil, &ms)
	if len(ms.Meetings) != 2 || ms.Meetings[0].MeetingID != "one" || ms.Meetings[1].MeetingID != "two" || ms.Meetings[0].Recording != "false" {
		t.Fatalf("list %+v", ms.Meetings)
	}
	var end struct {
		ReturnCode string `xml:"returncode"`
		MessageKey string `xml:"messageKey"`
	}
	e.call("end", url.Values{"meetingID": {"one"}, "password": {"mp-one"}}, &end)
	if end.ReturnCode != "SUCCESS" || end.MessageKey != "sentEndMeetingRequest" {
		t.Fatalf("end %+v", end)
	}
	e.mustFail("getMeetingInfo", url.Values{"meetingID": {"one"}}, "notFound")
	e.mustFail("end", url.Values{"meetingID": {"one"}}, "notFound")
	e.mustFail("join", url.Values{"meetingID": {"one"}, "fullName": {"Late"}, "role": {"VIEWER"}}, "notFound")
	var running bbbRunning
	e.call("isMeetingRunning", url.Values{"meetingID": {"one"}}, &running)
	if running.ReturnCode != "SUCCESS" || running.Running != "false" {
		t.Fatalf("running %+v", running)
	}
	ms = bbbMeetings{}
	e.call("getMeetings", nil, &ms)
	if len(ms.Meetings) != 1 || ms.Meetings[0].MeetingID != "two" {
		t.Fatalf("after end %+v", ms.Meetings)
	}
	// end without a password works (BBB ≥ 2.6).
	e.call("end", url.Values{"meetingID": {"two"}}, &end)
	if end.ReturnCode != "SUCCESS" {
		t.Fatalf("end without password %+v", end)
	}
}

func TestRecordingsNeverExist(t *testing.T) {
	e := newEnv(t)
	var r struct {
		ReturnCode string `xml:"returncode"`
		MessageKey string `xml:"messageKey"`
	}
	e.call("getRecordings", url.Values{"meetingID": {"x1"}}, &r)
	if r.ReturnCode != "SUCCESS" || r.MessageKey != "noRecordings" {
		t.Fatalf("getRecordings %+v", r)
	}
	e.mustFail("deleteRecordings", url.Values{"recordID": {"x1"}}, "notFound")
}

// realDocs makes a one-page PDF and a small PNG.
func realDocs() ([]byte, []byte) {
	f := fpdf.New("P", "pt", "A5", "")
	f.AddPage()
	f.SetFont("Helvetica", "", 24)
	f.Text(40, 80, "Kapitel 1")
	var pdf bytes.Buffer
	if err := f.Output(&pdf); err != nil {
		panic(err)
	}
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for i := range img.Pix {
		img.Pix[i] = 0xc0
	}
	var png bytes.Buffer
	if err := pngenc.Encode(&png, img); err != nil {
		panic(err)
	}
	return pdf.Bytes(), png.Bytes()
}
