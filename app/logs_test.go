package app

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"aula/dialin/siptest"
	"aula/internal/testenv"
	"aula/logs"
)

// TestLogOfAFullSession is the privacy notice's promise about the server
// log, end to end with the log directory set: a whole session — create,
// two joins (one through a one-time link), chat, a text poll, a note, a
// phone caller, the end — leaves in neither the log directory nor stderr
// any chat text, note text, poll answer, PIN, secret, password, join
// token or session cookie; the caller's full number, the participants'
// names, platform user IDs, addresses and browsers are in the log
// directory only; access lines keep a truncated address. Once with the
// memory store, once with Redis.
func TestLogOfAFullSession(t *testing.T) {
	for _, tc := range []struct {
		name  string
		redis bool
	}{{"memory", false}, {"redis", true}} {
		t.Run(tc.name, func(t *testing.T) {
			redisURL := ""
			if tc.redis {
				redisURL = testenv.RedisURL(t)
			}
			fullSessionLog(t, redisURL)
		})
	}
}

// unique makes a value that cannot be in a log by accident.
func unique(prefix string) string { return prefix + "-" + hex.EncodeToString(randBytes(6)) }

func randBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

func randDigits(n int) string {
	var b strings.Builder
	for range n {
		d, _ := rand.Int(rand.Reader, big.NewInt(10))
		b.WriteString(d.String())
	}
	return b.String()
}

type session struct {
	t      *testing.T
	base   string
	secret string
}

func (s *session) api(call string, params url.Values) string {
	q := params.Encode()
	sum := sha1.Sum([]byte(call + q + s.secret))
	return s.base + "/bigbluebutton/api/" + call + "?" + q + "&checksum=" + hex.EncodeToString(sum[:])
}

func (s *session) get(c *http.Client, u string) (*http.Response, string) {
	s.t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// wsClient is a participant's socket; next waits for a message type.
type wsClient struct {
	t    *testing.T
	ws   *websocket.Conn
	msgs chan map[string]any
}

func (s *session) dial(jar http.CookieJar, page *url.URL, userAgent string) *wsClient {
	s.t.Helper()
	u := *page
	u.Scheme = "ws"
	u.Path = strings.TrimSuffix(u.Path, "/") + "/ws"
	d := websocket.Dialer{Jar: jar, HandshakeTimeout: 10 * time.Second}
	ws, _, err := d.Dial(u.String(), http.Header{"Origin": {s.base}, "User-Agent": {userAgent}})
	if err != nil {
		s.t.Fatalf("websocket: %v", err)
	}
	c := &wsClient{t: s.t, ws: ws, msgs: make(chan map[string]any, 256)}
	go func() {
		defer close(c.msgs)
		for {
			var m map[string]any
			if err := ws.ReadJSON(&m); err != nil {
				return
			}
			c.msgs <- m
		}
	}()
	s.t.Cleanup(func() { ws.Close() })
	return c
}

func (c *wsClient) send(typ string, data any) {
	c.t.Helper()
	if err := c.ws.WriteJSON(map[string]any{"type": typ, "ref": "r", "data": data}); err != nil {
		c.t.Fatal(err)
	}
}

func (c *wsClient) next(typ string, ok func(data map[string]any) bool) map[string]any {
	c.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m, open := <-c.msgs:
			if !open {
				c.t.Fatalf("socket closed waiting for %s", typ)
			}
			if m["type"] == "error" {
				c.t.Fatalf("waiting for %s: error %v", typ, m["data"])
			}
			data, _ := m["data"].(map[string]any)
			if m["type"] == typ && (ok == nil || ok(data)) {
				return data
			}
		case <-deadline:
			c.t.Fatalf("no %s within 10s", typ)
		}
	}
}

func fullSessionLog(t *testing.T, redisURL string) {
	logDir := filepath.Join(t.TempDir(), "log")
	cfg := Defaults()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.Demo = false
	cfg.RedisURL = redisURL
	cfg.LogDir = logDir
	cfg.LogLevel = "debug" // the most the server ever writes
	cfg.Secret = unique("secret")
	cfg.SIPAddr = "127.0.0.1:0"
	cfg.SIPRTPPorts = "44000-44999"
	cfg.DialNumber = "+49 30 1234567"
	stderr := &testenv.LogBuffer{}
	log, closer, err := NewLogger(cfg, stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	ctx := context.Background()
	a, err := New(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	closed := false
	closeApp := func() {
		if closed {
			return
		}
		closed = true
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := a.Close(cctx); err != nil {
			t.Errorf("close: %v", err)
		}
	}
	defer closeApp()
	s := &session{t: t, base: a.URL(), secret: cfg.Secret}
	plain := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	// Values that must never be logged, and personal data that must
	// reach the log directory only.
	meetingID := unique("course")
	modPW, attPW := unique("modpw"), unique("attpw")
	chatText, noteText, pollAnswer := unique("chat line"), unique("note text"), unique("poll answer")
	modName, viewerName := "Vera "+unique("Schulz"), "Tom "+unique("Berg")
	modUser, viewerUser := unique("moodle-user"), unique("moodle-user")
	userAgent := "AulaTestBrowser/" + randDigits(6) + " (X11; Linux x86_64)"
	number := "+4930" + randDigits(9)

	var pin string
	for try := 0; ; try++ {
		// Above 65535, so no port or small count can look like it.
		pin = fmt.Sprint(70000 + mustInt(t, 29999))
		_, body := s.get(plain, s.api("create", url.Values{"meetingID": {meetingID}, "name": {"Biology"},
			"voiceBridge": {pin}, "moderatorPW": {modPW}, "attendeePW": {attPW}}))
		if strings.Contains(body, "<returncode>SUCCESS</returncode>") {
			break
		}
		if !strings.Contains(body, "voiceBridgeNotUnique") || try > 20 {
			t.Fatalf("create: %s", body)
		}
	}

	// The moderator through a one-time link (redirect=false), the viewer
	// straight through the API (redirect=true), each in their own browser.
	modJar, _ := cookiejar.New(nil)
	modBrowser := &http.Client{Jar: modJar, Timeout: 10 * time.Second}
	_, body := s.get(plain, s.api("join", url.Values{"meetingID": {meetingID}, "fullName": {modName}, "password": {modPW},
		"userID": {modUser}, "redirect": {"false"}}))
	var jx struct {
		Token string `xml:"session_token"`
		URL   string `xml:"url"`
	}
	if err := xml.Unmarshal([]byte(body), &jx); err != nil || jx.Token == "" {
		t.Fatalf("join: %v %s", err, body)
	}
	resp, _ := s.get(modBrowser, jx.URL)
	modPage := resp.Request.URL
	viewerJar, _ := cookiejar.New(nil)
	viewerBrowser := &http.Client{Jar: viewerJar, Timeout: 10 * time.Second}
	resp, _ = s.get(viewerBrowser, s.api("join", url.Values{"meetingID": {meetingID}, "fullName": {viewerName}, "password": {attPW},
		"userID": {viewerUser}}))
	viewerPage := resp.Request.URL
	var cookies []string
	for _, c := range append(modJar.Cookies(modPage), viewerJar.Cookies(viewerPage)...) {
		cookies = append(cookies, c.Value)
	}
	if len(cookies) != 2 {
		t.Fatalf("session cookies: %v (pages %s, %s)", cookies, modPage, viewerPage)
	}

	mod := s.dial(modJar, modPage, userAgent)
	mod.next("welcome", nil)
	viewer := s.dial(viewerJar, viewerPage, userAgent)
	viewer.next("welcome", func(d map[string]any) bool { return d["lobby"] != true })

	mod.send("chat.send", map[string]any{"text": chatText})
	viewer.next("chat.message", func(d map[string]any) bool { return d["text"] == chatText })
	mod.send("poll.start", map[string]any{"question": "What did you learn?", "kind": "text"})
	poll := viewer.next("poll.state", func(d map[string]any) bool { return d["status"] == "open" })
	viewer.send("poll.vote", map[string]any{"poll": poll["id"], "text": pollAnswer})
	mod.next("poll.state", func(d map[string]any) bool { return fmt.Sprint(d["total"]) == "1" })
	mod.send("notes.edit", map[string]any{"rev": 0, "op": []any{noteText}})
	viewer.next("notes.op", nil)

	// A phone caller types the PIN and joins.
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	phone, err := siptest.Dial(cctx, a.SIPAddr(), siptest.Options{From: number})
	cancel()
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer phone.Close()
	phone.Digits4733(pin + "#")
	inDir := func(s string) bool { return strings.Contains(readAll(t, logDir), s) }
	testenv.Eventually(t, 15*time.Second, "the caller's join line", func() bool { return inDir(`"msg":"caller joined the room"`) })

	// The end, through the API; then the server stops.
	if _, body := s.get(plain, s.api("end", url.Values{"meetingID": {meetingID}, "password": {modPW}})); !strings.Contains(body, "SUCCESS") {
		t.Fatalf("end: %s", body)
	}
	testenv.Eventually(t, 10*time.Second, "the end line", func() bool { return inDir(`"msg":"meeting ended"`) })
	closeApp()
	closer.Close()

	dir, errText := readAll(t, logDir), stderr.String()
	if !strings.Contains(dir, `"msg":"http"`) || !strings.Contains(errText, "msg=http") {
		t.Fatalf("no access lines; log dir:\n%s\nstderr:\n%s", dir, errText)
	}
	never := map[string]string{"chat text": chatText, "note text": noteText, "poll answer": pollAnswer,
		"secret": cfg.Secret, "moderator password": modPW, "attendee password": attPW, "join token": jx.Token,
		"session cookie": cookies[0], "second session cookie": cookies[1]}
	for what, v := range never {
		if strings.Contains(dir, v) {
			t.Errorf("the log directory holds the %s", what)
		}
		if strings.Contains(errText, v) {
			t.Errorf("stderr holds the %s", what)
		}
	}
	pinRE := regexp.MustCompile(`(^|[^0-9])` + pin + `([^0-9]|$)`)
	if pinRE.MatchString(dir) || pinRE.MatchString(errText) {
		t.Errorf("the PIN %s is logged", pin)
	}
	digits := strings.TrimPrefix(number, "+")
	personal := map[string]string{"caller's number": digits, "moderator's name": modName, "viewer's name": viewerName,
		"moderator's user ID": modUser, "viewer's user ID": viewerUser, "browser": userAgent}
	for what, v := range personal {
		if !strings.Contains(dir, v) {
			t.Errorf("the log directory lacks the %s", what)
		}
		if strings.Contains(errText, v) {
			t.Errorf("stderr holds the %s", what)
		}
	}
	if m := regexp.MustCompile(`(^| )(ip|source|user_agent|name|user_id|from|sip_call_id|meeting_id)=`).FindString(errText); m != "" {
		t.Errorf("stderr holds personal attributes (%s)", m)
	}
	// Access lines keep only a network.
	for _, l := range strings.Split(dir, "\n") {
		e := logs.ParseLine([]byte(l))
		if e.Msg == "http" && !strings.HasSuffix(e.IP, "/24") && !strings.HasSuffix(e.IP, "/48") {
			t.Errorf("access line with a full address: %s", l)
		}
	}

	// The data-subject tools find the moderator by the platform's user ID:
	// the join line, and the participant's later lines in the meeting.
	found, err := (&logs.Dir{Path: logDir}).Find(ctx, logs.Criteria{UserID: modUser})
	if err != nil {
		t.Fatal(err)
	}
	if found.Count < 2 || len(found.Meetings) != 1 || len(found.Meetings[0].MeetingIDs) != 1 || found.Meetings[0].MeetingIDs[0] != meetingID {
		t.Errorf("find by user ID: %+v", found.Summary)
	}
	byPhone, err := (&logs.Dir{Path: logDir}).Find(ctx, logs.Criteria{Phone: number})
	if err != nil {
		t.Fatal(err)
	}
	msgs := map[string]bool{}
	for _, e := range byPhone.Entries {
		msgs[e.Msg] = true
	}
	if !msgs["incoming call"] || !msgs["caller joined the room"] {
		t.Errorf("find by phone: %v", msgs)
	}
}

func mustInt(t *testing.T, n int64) int64 {
	v, err := rand.Int(rand.Reader, big.NewInt(n))
	if err != nil {
		t.Fatal(err)
	}
	return v.Int64()
}

// readAll returns every file of the log directory (day files and any
// other: nothing may hide there).
func readAll(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		data, err := os.ReadFile(filepath.Join(dir, de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return b.String()
}

// The log settings are read, defaulted and checked like every other.
func TestLogSettings(t *testing.T) {
	cfg, err := Load(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LogRetention != 28*24*time.Hour || cfg.AccessLogRetention != 7*24*time.Hour || cfg.LogLevel != "info" || cfg.LogDir != "" {
		t.Errorf("defaults: %+v", cfg.LogSettings)
	}
	cfg, err = Load([]string{"-log-retention", "720h"}, env(map[string]string{"AULA_ACCESS_LOG_RETENTION": "48h", "AULA_LOG_DIR": "/var/log/aula"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LogRetention != 720*time.Hour || cfg.AccessLogRetention != 48*time.Hour || cfg.LogDir != "/var/log/aula" {
		t.Errorf("read: %+v", cfg.LogSettings)
	}
	d, err := cfg.LogDirectory()
	if err != nil || d.Path != "/var/log/aula" || d.Retention != 720*time.Hour || d.AccessRetention != 48*time.Hour {
		t.Errorf("log directory: %+v %v", d, err)
	}
	for _, kv := range [][2]string{{"AULA_LOG_RETENTION", "0s"}, {"AULA_LOG_RETENTION", "forever"}, {"AULA_ACCESS_LOG_RETENTION", "1m"},
		{"AULA_LOG_LEVEL", "loud"}} {
		if _, err := Load(nil, env(map[string]string{kv[0]: kv[1]})); err == nil || !strings.Contains(err.Error(), kv[0]) {
			t.Errorf("%s=%s: %v", kv[0], kv[1], err)
		}
	}
	def := Defaults()
	if _, err := def.LogDirectory(); !errors.Is(err, logs.ErrNoDir) {
		t.Errorf("a log directory without AULA_LOG_DIR: %v", err)
	}
}
