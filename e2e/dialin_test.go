package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/xml"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"aula/app"
	"aula/dialin/siptest"
	"aula/internal/testenv"
	"aula/room"
	"aula/store"
)

// The caller of these tests. Only its last three digits may show
// anywhere but the server log.
const (
	callerFrom   = "+4930123456789"
	callerDigits = "4930123456789"
	// hiddenFrom calls with "Privacy: id": not even the log keeps it.
	hiddenFrom = "+4915112345678"
)

// startDialinServer is the real app, SIP gateway included, on loopback
// ephemeral ports. The server log is returned for the privacy checks.
func startDialinServer(t *testing.T, redisURL string) (*app.App, *testenv.LogBuffer) {
	t.Helper()
	logs := &testenv.LogBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := app.Defaults()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.Secret = secret
	cfg.RedisURL = redisURL
	cfg.DataDir = t.TempDir()
	cfg.DialNumber = "+49 30 1234567"
	cfg.Demo = false
	cfg.SIPAddr = "127.0.0.1:0"
	cfg.SIPRTPPorts = "42000-43999"
	a, err := app.New(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	if !a.SIPAddr().IsValid() {
		t.Fatal("AULA_SIP_ADDR set but no SIP gateway")
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := a.Close(ctx); err != nil {
			t.Errorf("close server: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return a, logs
}

// freePIN is a random PIN no running meeting has.
func freePIN(t *testing.T, a *app.App) string {
	t.Helper()
	for {
		n, err := rand.Int(rand.Reader, big.NewInt(90000))
		if err != nil {
			t.Fatal(err)
		}
		pin := strconv.Itoa(10000 + int(n.Int64()))
		if _, err := a.Manager().MeetingByPIN(context.Background(), pin); err != nil {
			return pin
		}
	}
}

func createWithPIN(t *testing.T, rec *recorder, base, meetingID, pin string) {
	t.Helper()
	b := apiGet(t, rec, base, "create", url.Values{
		"meetingID": {meetingID}, "name": {"Phone lesson"}, "voiceBridge": {pin},
		"attendeePW": {"ap-secret"}, "moderatorPW": {"mp-secret"},
	})
	if !bytes.Contains(b, []byte("<returncode>SUCCESS</returncode>")) {
		t.Fatalf("create: %s", b)
	}
}

type attendee struct {
	FullName       string `xml:"fullName"`
	Role           string `xml:"role"`
	HasJoinedVoice bool   `xml:"hasJoinedVoice"`
	ClientType     string `xml:"clientType"`
}

type meetingInfo struct {
	ReturnCode string     `xml:"returncode"`
	Voice      int        `xml:"voiceParticipantCount"`
	Attendees  []attendee `xml:"attendees>attendee"`
}

func getInfo(t *testing.T, rec *recorder, base, meetingID string) meetingInfo {
	t.Helper()
	var mi meetingInfo
	b := apiGet(t, rec, base, "getMeetingInfo", url.Values{"meetingID": {meetingID}})
	if err := xml.Unmarshal(b, &mi); err != nil {
		t.Fatalf("getMeetingInfo: %v\n%s", err, b)
	}
	return mi
}

func (mi meetingInfo) attendee(name string) (attendee, bool) {
	for _, a := range mi.Attendees {
		if a.FullName == name {
			return a, true
		}
	}
	return attendee{}, false
}

// dialPhone calls the app's gateway with the scriptable test phone.
func dialPhone(t *testing.T, a *app.App, o siptest.Options) *siptest.Phone {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := siptest.Dial(ctx, a.SIPAddr(), o)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// scrape returns the /metrics text.
func scrape(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// metricValue reads one unlabelled series from the /metrics text.
func metricValue(text, name string) float64 {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == name {
			v, _ := strconv.ParseFloat(f[1], 64)
			return v
		}
	}
	return -1
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, d, what, cond)
}

func waitBye(t *testing.T, p *siptest.Phone, who string) {
	t.Helper()
	select {
	case <-p.Byes():
	case <-time.After(10 * time.Second):
		t.Fatalf("%s got no BYE", who)
	}
}

// wrongPIN types pin and waits until the gateway counted it as wrong.
func wrongPIN(t *testing.T, base string, p *siptest.Phone, pin string) {
	t.Helper()
	before := metricValue(scrape(t, base), "aula_dialin_pin_failures_total")
	p.Digits4733(pin + "#")
	waitFor(t, 10*time.Second, "PIN "+pin+" refused", func() bool {
		return metricValue(scrape(t, base), "aula_dialin_pin_failures_total") > before
	})
}

// TestDialinThroughTheApp is issue 5's "done when" through the real wired
// app with Redis: a caller with the right PIN appears masked in
// getMeetingInfo with voice; audio crosses both ways between the caller's
// G.711 and a Pion WebRTC participant's Opus through the SFU; a withheld
// number shows as "Phone 1"; three wrong PINs hang up; the full number is
// in no API reply, WebSocket message, Redis key or value, or metric, and
// is in the server log; the end of the room sends BYE to every caller and
// kills the PIN.
func TestDialinThroughTheApp(t *testing.T) {
	redisURL := testenv.RedisURL(t)
	a, logs := startDialinServer(t, redisURL)
	base := a.URL()
	rec := &recorder{}
	meetingID := "phone-" + room.NewID()
	pin := freePIN(t, a)
	createWithPIN(t, rec, base, meetingID, pin)

	// A trainer in the "browser" (Pion), microphone on, and a viewer who
	// only watches the roster.
	trainer := joinPion(t, base, meetingID, "Trainer Tina", room.Moderator, true)
	viewer := joinPion(t, base, meetingID, "Viewer Vic", room.Viewer, false)

	// 1. The right PIN joins; the caller shows only the last three digits.
	caller := dialPhone(t, a, siptest.Options{From: callerFrom, Display: "Caller " + callerFrom})
	caller.Digits4733(pin + "#")
	masked := "Phone \u00b7\u00b7\u00b7789"
	waitFor(t, 15*time.Second, "the caller in getMeetingInfo as "+masked, func() bool {
		at, ok := getInfo(t, rec, base, meetingID).attendee(masked)
		return ok && at.HasJoinedVoice
	})
	mi := getInfo(t, rec, base, meetingID)
	if at, _ := mi.attendee(masked); at.ClientType != "DIAL-IN-USER" || at.Role != "VIEWER" {
		t.Errorf("caller attendee = %+v, want a DIAL-IN-USER viewer", at)
	}
	if mi.Voice < 1 {
		t.Errorf("voiceParticipantCount = %d, want the caller counted", mi.Voice)
	}
	var callerID string
	for _, p := range mustParticipants(t, a, meetingID) {
		if p.Kind == room.Phone {
			callerID = p.ID
		}
	}

	// 2. Audio both ways through the SFU: the caller's 600 Hz G.711 tone
	// is decoded from Opus by the trainer; the trainer's 1 kHz Opus tone
	// arrives in the G.711 the caller receives.
	caller.SetSource(siptest.Tone(600, 8000))
	trainer.speak(1000)
	waitFor(t, 15*time.Second, "the caller's 600 Hz tone decoded by the Pion participant", func() bool {
		pcm, _ := trainer.heard(callerID)
		return len(pcm) == roomFrame && share32(pcm, 600) > 0.6
	})
	waitFor(t, 15*time.Second, "the trainer's 1 kHz tone in the caller's G.711", func() bool {
		return share16(caller.LastPCM(160), 1000) > 0.6
	})
	if s := share16(caller.LastPCM(160), 600); s > 0.2 {
		t.Errorf("the caller hears its own voice back (600 Hz share %.2f)", s)
	}

	// A withheld number is "Phone 1".
	hidden := dialPhone(t, a, siptest.Options{From: hiddenFrom, Privacy: "id"})
	hidden.Digits4733(pin + "#")
	waitFor(t, 15*time.Second, "the withheld caller as Phone 1", func() bool {
		_, ok := getInfo(t, rec, base, meetingID).attendee("Phone 1")
		return ok
	})

	// Three wrong PINs hang up.
	wrong := dialPhone(t, a, siptest.Options{From: "+4917000000111"})
	bad := freePIN(t, a)
	wrongPIN(t, base, wrong, bad)
	wrongPIN(t, base, wrong, bad)
	wrongPIN(t, base, wrong, bad)
	waitBye(t, wrong, "the caller with three wrong PINs")

	// 3. Privacy: everything outside the server log, collected during the
	// call.
	apiGet(t, rec, base, "getMeetings", nil)
	apiGet(t, rec, base, "isMeetingRunning", url.Values{"meetingID": {meetingID}})
	getInfo(t, rec, base, meetingID)
	metrics := scrape(t, base)
	rec.add("metrics", metrics)
	if metricValue(metrics, "aula_dialin_calls") != 2 {
		t.Errorf("aula_dialin_calls = %v, want 2\n", metricValue(metrics, "aula_dialin_calls"))
	}
	for _, c := range []*pionClient{trainer, viewer} {
		for _, m := range c.messages() {
			rec.add("websocket to "+c.name, m)
		}
	}
	dump, err := store.Dump(context.Background(), a.Store())
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range dump {
		rec.add("redis key", k)
		rec.add("redis value of "+k, v)
	}
	if _, ok := rec.find(masked); !ok {
		t.Fatal("the masked name is nowhere: the collection misses what clients see")
	}
	for _, n := range []string{callerDigits, hiddenFrom[1:], "0123456789"} {
		if where, ok := rec.find(n); ok {
			t.Errorf("a full phone number leaked outside the server log:\n%.400s", where)
		}
	}
	if n := strings.Count(logs.String(), callerDigits); n != 1 {
		t.Errorf("the server log has the caller's number %d times, want once (the incoming call line)", n)
	}
	if strings.Contains(logs.String(), hiddenFrom[1:]) {
		t.Error("the server log has a number the caller withheld")
	}

	// 4. The room's end sends BYE to every caller; the PIN is dead.
	apiGet(t, rec, base, "end", url.Values{"meetingID": {meetingID}, "password": {"mp-secret"}})
	waitBye(t, caller, "the caller")
	waitBye(t, hidden, "the withheld caller")
	late := dialPhone(t, a, siptest.Options{From: "+4917000000222"})
	wrongPIN(t, base, late, pin)
	waitFor(t, 10*time.Second, "no call left but the late one", func() bool {
		return metricValue(scrape(t, base), "aula_dialin_calls") == 1
	})
}

func mustParticipants(t *testing.T, a *app.App, meetingID string) []*room.Participant {
	t.Helper()
	mt, err := a.Manager().Meeting(context.Background(), meetingID)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := a.Manager().Participants(context.Background(), mt.Key)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// TestDialinSipp: a real SIP phone, sipp (package sip-tester) with its own
// RFC 2833 captures, dials into the wired app, appears masked with voice
// in getMeetingInfo and is hung up when the room ends.
func TestDialinSipp(t *testing.T) {
	sipp := testenv.Tool(t, "sipp")
	a, _ := startDialinServer(t, "")
	base := a.URL()
	meetingID := "sipp-" + room.NewID()
	// The scenario types 12345; the memory store of this server is its own,
	// so no other test's meeting holds that PIN.
	createWithPIN(t, nil, base, meetingID, "12345")
	joinPion(t, base, meetingID, "Trainer Tina", room.Moderator, false)

	scenario, err := filepath.Abs("../dialin/testdata/sipp_pin.xml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(scenario); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out testenv.LogBuffer
	cmd := exec.CommandContext(ctx, sipp, "-sf", scenario, "-m", "1", "-i", "127.0.0.1",
		"-p", strconv.Itoa(testenv.UDPPort(t)), "-mi", "127.0.0.1", "-mp", strconv.Itoa(testenv.UDPPort(t)),
		"-timeout", "50s", "-timeout_error", "-nostdin", "-trace_err", "-error_file", filepath.Join(t.TempDir(), "err.log"),
		a.SIPAddr().String())
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	masked := "Phone \u00b7\u00b7\u00b7789"
	waitFor(t, 20*time.Second, "sipp's caller in getMeetingInfo", func() bool {
		mi := getInfo(t, nil, base, meetingID)
		at, ok := mi.attendee(masked)
		return ok && at.HasJoinedVoice && mi.Voice == 1
	})
	apiGet(t, nil, base, "end", url.Values{"meetingID": {meetingID}, "password": {"mp-secret"}})
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sipp: %v\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("sipp got no BYE\n%s", out.String())
	}
}

// TestDialinPolicyAndMute: "participants cannot see each other" holds for
// callers as for browsers (the caller hears the moderator but not the
// viewer, the viewer does not hear the caller, the moderator does), and a
// moderator's mute stops the caller's voice in the room.
func TestDialinPolicyAndMute(t *testing.T) {
	a, _ := startDialinServer(t, "")
	base := a.URL()
	meetingID := "hidden-" + room.NewID()
	pin := freePIN(t, a)
	b := apiGet(t, nil, base, "create", url.Values{
		"meetingID": {meetingID}, "name": {"Exam"}, "voiceBridge": {pin},
		"attendeePW": {"ap-secret"}, "moderatorPW": {"mp-secret"}, "lockSettingsHideUserList": {"true"},
	})
	if !bytes.Contains(b, []byte("SUCCESS")) {
		t.Fatalf("create: %s", b)
	}
	trainer := joinPion(t, base, meetingID, "Trainer Tina", room.Moderator, true)
	student := joinPion(t, base, meetingID, "Student Sam", room.Viewer, true)
	trainer.speak(1000)
	student.speak(1500)

	caller := dialPhone(t, a, siptest.Options{From: callerFrom})
	caller.Digits4733(pin + "#")
	var callerID string
	waitFor(t, 15*time.Second, "the caller in the room", func() bool {
		for _, p := range mustParticipants(t, a, meetingID) {
			if p.Kind == room.Phone && p.InRoom {
				callerID = p.ID
				return true
			}
		}
		return false
	})
	caller.SetSource(siptest.Tone(600, 8000))

	waitFor(t, 15*time.Second, "the moderator hears the caller", func() bool {
		pcm, n := trainer.heard(callerID)
		return n >= 50 && len(pcm) == roomFrame && share32(pcm, 600) > 0.6
	})
	waitFor(t, 15*time.Second, "the caller hears the moderator", func() bool {
		return share16(caller.LastPCM(160), 1000) > 0.6
	})
	if s := share16(caller.LastPCM(1600), 1500); s > 0.1 {
		t.Errorf("the caller hears the viewer although participants cannot see each other (1500 Hz share %.2f)", s)
	}
	if _, n := student.heard(callerID); n > 0 {
		t.Errorf("the viewer received %d frames of the caller although participants cannot see each other", n)
	}

	// The moderator mutes the caller: its voice stops reaching the room.
	trainer.send("participant.mute", map[string]string{"id": callerID})
	_, last := trainer.heard(callerID)
	since := time.Now()
	waitFor(t, 10*time.Second, "the caller's voice stops after the moderator's mute", func() bool {
		_, n := trainer.heard(callerID)
		if n != last {
			last, since = n, time.Now()
			return false
		}
		return time.Since(since) >= time.Second
	})
	mi := getInfo(t, nil, base, meetingID)
	if at, ok := mi.attendee("Phone \u00b7\u00b7\u00b7789"); !ok || !at.HasJoinedVoice {
		t.Errorf("muted caller = %+v, %v; a muted caller is still in the voice conference", at, ok)
	}
}
