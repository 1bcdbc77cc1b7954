package signaling

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"aula/room"
	"aula/sfu"
)

// allTypes lists every message type; the test below keeps the JS mirror
// and docs/protocol.md in step with it.
var allTypes = []string{
	TypeChatSend, TypeHandRaise, TypeHandLower, TypeRoleSet, TypeParticipantMute,
	TypeParticipantRemove, TypeMeetingEnd, TypeLeave, TypePing,
	TypeWelcome, TypeLobbyAdmitted, TypeParticipantJoined, TypeParticipantUpdated,
	TypeParticipantLeft, TypeChatMessage, TypeMeetingEnded, TypeRemoved, TypeReplaced,
	TypeAck, TypeError, TypePong,
	TypeMediaPublish, TypeMediaAnswer, TypeMediaCandidate, TypeMediaState, TypeMediaLayer,
	TypeMediaRestart, TypeMediaConfig, TypeMediaOffer, TypeMediaSpeaking, TypeMediaEcho,
	TypeGuestAdmit, TypeGuestWaiting, TypeGuestDenied,
	TypeLockSet, TypeChatClear, TypeMeetingUpdated, TypeChatCleared,
	TypeHandLowerAll, TypeMuteAll, TypePresenterSet, TypeStatusSet, TypeReactionSend, TypeReaction,
	TypePresentationShow, TypePresentationPage, TypePresentationView, TypePresentationRemove,
	TypePresentationDownload, TypePresentationAddPage, TypePresentationState,
	TypeWBDraw, TypeWBDrawing, TypeWBErase, TypeWBMove, TypeWBUndo, TypeWBRedo, TypeWBClear,
	TypeWBAccess, TypeWBCursor, TypeWBAdded, TypeWBRemoved, TypeWBMoved,
	TypePollStart, TypePollVote, TypePollStop, TypePollPublish, TypePollState,
	TypeNotesEdit, TypeNotesCursor, TypeNotesSync, TypeNotesToBoard, TypeNotesOp, TypeNotesAck, TypeNotesState,
	TypeTimerStart, TypeTimerPause, TypeTimerResume, TypeTimerClear, TypeTimerState, TypeTimerDone,
	TypeVideoShare, TypeVideoControl, TypeVideoStop, TypeVideoState,
}

var allCodes = []string{
	CodeBadRequest, CodeUnknownType, CodeTooLarge, CodeRateLimited, CodeForbidden,
	CodeNotFound, CodeNotInRoom, CodeEnded, CodeFull, CodeDenied, CodeInternal,
	CodeReplaced, CodeUnavailable, CodeMediaFailed, CodeConflict,
}

func TestDocsAndClientMirrorProtocol(t *testing.T) {
	doc, err := os.ReadFile("../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile("../web/static/js/protocol.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range allTypes {
		if !strings.Contains(string(doc), "### `"+typ+"`") {
			t.Errorf("docs/protocol.md has no section ### `%s`", typ)
		}
		if !strings.Contains(string(js), "'"+typ+"'") {
			t.Errorf("protocol.js does not name '%s'", typ)
		}
	}
	for _, code := range allCodes {
		if !strings.Contains(string(doc), "`"+code+"`") {
			t.Errorf("docs/protocol.md does not list error code %s", code)
		}
	}
	for _, c := range []int{CloseEnded, CloseRemoved, CloseReplaced, CloseLeft, CloseFull, CloseDenied, CloseFlood, CloseMoved} {
		n := itoa(c)
		if !strings.Contains(string(doc), n) || !strings.Contains(string(js), n) {
			t.Errorf("close code %d missing from docs or protocol.js", c)
		}
	}
}

// TestDocsNameEveryField: every JSON field of every payload appears in
// docs/protocol.md and in the JSDoc of protocol.js.
func TestDocsNameEveryField(t *testing.T) {
	doc, err := os.ReadFile("../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile("../web/static/js/protocol.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []any{ChatSend{}, HandRaise{}, Target{}, RoleSet{}, MeetingInfo{}, Welcome{},
		ParticipantMsg{}, Ended{}, Error{}, room.Public{}, room.ChatMessage{}, Envelope{},
		MediaConfig{}, MediaPublish{}, MediaAnswer{}, MediaOffer{}, MediaCandidate{}, MediaState{},
		MediaLayer{}, MediaSpeaking{}, MediaEcho{}, sfu.TrackInfo{}, sfu.ICEServer{}, GuestAdmit{}, GuestWaiting{},
		LockSet{}, MeetingUpdated{}, room.LockSettings{}, MuteAll{}, StatusSet{}, ReactionSend{}, ReactionMsg{},
		DocRef{}, PageTurn{}, ViewSet{}, DownloadSet{}, room.PresentationView{}, room.Doc{}, room.PageSize{},
		WBShape{}, WBShapes{}, WBShapesAdded{}, WBMove{}, WBClear{}, WBAccessMsg{}, WBCursorMsg{},
		room.Shape{}, room.PageRef{}, room.WhiteboardView{},
		PollStartMsg{}, PollVoteMsg{}, room.PollView{}, NotesEditMsg{}, NotesOpMsg{}, NotesAckMsg{}, NotesCursorMsg{},
		room.NotesView{}, TimerStartMsg{}, VideoShareMsg{}, VideoControlMsg{}, room.VideoView{}} {
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			if !strings.Contains(string(doc), `"`+name+`"`) && !strings.Contains(string(doc), "`"+name+"`") {
				t.Errorf("docs/protocol.md never shows field %s.%s", typ.Name(), name)
			}
			if !strings.Contains(string(js), name) {
				t.Errorf("protocol.js never names field %s.%s", typ.Name(), name)
			}
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestDecodeRequest(t *testing.T) {
	tests := []struct {
		in      string
		typ     string
		ref     string
		payload any
		err     error
	}{
		{`{"type":"chat.send","ref":"a","data":{"text":"hi","to":"p1"}}`, TypeChatSend, "a", &ChatSend{To: "p1", Text: "hi"}, nil},
		{`{"type":"hand.raise","data":{"up":false}}`, TypeHandRaise, "", &HandRaise{Up: ptr(false)}, nil},
		{`{"type":"role.set","data":{"id":"p","role":"VIEWER"}}`, TypeRoleSet, "", &RoleSet{ID: "p", Role: room.Viewer}, nil},
		{`{"type":"ping","ref":"x"}`, TypePing, "x", nil, nil},
		{`{"type":"leave","data":null}`, TypeLeave, "", nil, nil},
		{`{"type":"meeting.end","data":{}}`, TypeMeetingEnd, "", nil, nil},
		{` {"type":"ping"} `, TypePing, "", nil, nil},
		{`{"type":"ping"}{"type":"ping"}`, "", "", nil, ErrBadRequest},
		{`{"type":"ping","extra":1}`, "", "", nil, ErrBadRequest},
		{`{"type":"ping","ref":"` + strings.Repeat("r", 65) + `"}`, "", "", nil, ErrBadRequest},
		{`{"type":"` + strings.Repeat("t", 65) + `"}`, "", "", nil, ErrBadRequest},
		{`{"type":"nope","ref":"r"}`, "nope", "r", nil, ErrUnknownType},
		{`{"type":"participant.remove","ref":"r","data":{"id":""}}`, TypeParticipantRemove, "r", nil, ErrBadRequest},
		{"{\"type\":\"ping\",\"ref\":\"\xff\"}", "", "", nil, ErrBadRequest},
		{`{"type":"guest.admit","data":{"id":"g","allow":false}}`, TypeGuestAdmit, "", &GuestAdmit{ID: "g", Allow: ptr(false)}, nil},
		{`{"type":"guest.admit","data":{"all":true,"allow":true}}`, TypeGuestAdmit, "", &GuestAdmit{All: true, Allow: ptr(true)}, nil},
		{`{"type":"guest.admit","ref":"g1","data":{"id":"g"}}`, TypeGuestAdmit, "g1", nil, ErrBadRequest},
		{`{"type":"guest.admit","data":{"allow":true}}`, TypeGuestAdmit, "", nil, ErrBadRequest},
		{`{"type":"guest.admit","data":{"id":"g","all":true,"allow":true}}`, TypeGuestAdmit, "", nil, ErrBadRequest},
		{`{"type":"guest.admit","data":{"all":true,"allow":false}}`, TypeGuestAdmit, "", nil, ErrBadRequest},
		{`{"type":"guest.admit","data":{"id":"g","allow":"yes"}}`, TypeGuestAdmit, "", nil, ErrBadRequest},
		{`{"type":"lock.set","data":{"lock":{"disableCam":true}}}`, TypeLockSet, "", &LockSet{Lock: &room.LockSettings{DisableCam: true}}, nil},
		{`{"type":"lock.set","data":{}}`, TypeLockSet, "", nil, ErrBadRequest},
		{`{"type":"lock.set","data":{"lock":{"disableCamera":true}}}`, TypeLockSet, "", nil, ErrBadRequest},
		{`{"type":"chat.clear"}`, TypeChatClear, "", nil, nil},
		{`{"type":"chat.clear","data":{"all":true}}`, TypeChatClear, "", nil, ErrBadRequest},
		{`null`, "", "", nil, ErrBadRequest},
		{``, "", "", nil, ErrBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			req, err := DecodeRequest([]byte(tc.in))
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if req.Type != tc.typ || req.Ref != tc.ref {
				t.Errorf("type/ref = %q/%q, want %q/%q", req.Type, req.Ref, tc.typ, tc.ref)
			}
			if tc.err == nil {
				got, _ := json.Marshal(req.Payload)
				want, _ := json.Marshal(tc.payload)
				if string(got) != string(want) {
					t.Errorf("payload %s, want %s", got, want)
				}
			}
		})
	}
}

func TestWelcomeInLobbyHidesDialIn(t *testing.T) {
	snap := &room.Snapshot{
		Meeting: room.Meeting{Settings: room.Settings{Name: "R", PIN: "11111", DialNumber: "+1", Welcome: "PIN %%CONFNUM%%", LogoutURL: "https://x"}},
		Self:    room.Public{ID: "a", InRoom: false},
	}
	w := welcomeOfMsgFromSnap(t, snap)
	if !w.Lobby || w.Meeting.PIN != "" || w.Meeting.DialNumber != "" || w.Meeting.Welcome != "" {
		t.Errorf("lobby welcome shows dial-in: %+v", w.Meeting)
	}
	snap.Self.InRoom = true
	w = welcomeOfMsgFromSnap(t, snap)
	if w.Lobby || w.Meeting.PIN != "11111" || w.Meeting.Welcome != "PIN 11111" {
		t.Errorf("room welcome: %+v", w.Meeting)
	}
}

func welcomeOfMsgFromSnap(t *testing.T, s *room.Snapshot) Welcome {
	t.Helper()
	b, err := encode(TypeWelcome, "", welcomeOf(s, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	var e Envelope
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return decodeData[Welcome](t, e)
}

// FuzzDecodeRequest: no input makes the decoder panic, and whatever it
// accepts is a known client type with a valid payload that survives a
// round trip.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		`{"type":"chat.send","ref":"a","data":{"text":"hi"}}`,
		`{"type":"hand.raise","data":{"up":true}}`,
		`{"type":"role.set","data":{"id":"p","role":"MODERATOR"}}`,
		`{"type":"participant.remove","data":{"id":"p"}}`,
		`{"type":"guest.admit","data":{"id":"g","allow":false}}`,
		`{"type":"guest.admit","data":{"all":true,"allow":true}}`,
		`{"type":"ping"}`, `{"type":"leave","data":null}`, `[]`, `{"type":1}`, "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := DecodeRequest(b)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) && !errors.Is(err, ErrUnknownType) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		p, known := payloadOf(req.Type)
		if !known || (p == nil) != (req.Payload == nil) {
			t.Fatalf("accepted %q with payload %T", req.Type, req.Payload)
		}
		if req.Payload != nil {
			if err := validate(req.Payload); err != nil {
				t.Fatalf("accepted invalid payload: %v", err)
			}
		}
		again, err := encode(req.Type, req.Ref, req.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeRequest(again); err != nil {
			t.Fatalf("re-encoded request refused: %v (%s)", err, again)
		}
	})
}
