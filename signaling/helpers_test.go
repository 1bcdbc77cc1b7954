package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"aula/room"
	"aula/store"
)

const waitFor = 5 * time.Second

// env is a real signaling server over a real room manager and memory store,
// reached by real WebSocket clients. The session token travels in the
// query here; in Aula package web resolves it from the cookie.
type env struct {
	t     *testing.T
	mgr   *room.Manager
	store *store.Memory
	srv   *Server
	ts    *httptest.Server
	mt    *room.Meeting
	// sessions as resolved at join: a page may still hold one after its
	// meeting ended and the store forgot it.
	sessions sync.Map
}

func newEnv(t *testing.T, tune func(*Options, *httptest.Server)) *env {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st := store.NewMemory(nil)
	mgr := room.NewManager(room.Config{Logger: log, Features: []room.FeatureSpec{room.ReactionFeature(),
		room.PresentationFeature(), room.WhiteboardFeature(), room.PollFeature(), room.NotesFeature(), room.TimerFeature(),
		room.VideoFeature(room.VideoPolicy{Providers: []string{room.ProviderFile, room.ProviderYouTube}})}}, st, nil)
	mt, _, err := mgr.Create(context.Background(), room.Settings{
		MeetingID: "course-42", Name: "Biology 101", AttendeePW: "ap", ModeratorPW: "mp",
		PIN: "12345", DialNumber: "+49 30 1234567", LogoutURL: "https://lms.example/course/42",
		Welcome: "Welcome to %%CONFNAME%%, dial %%DIALNUM%% PIN %%CONFNUM%%",
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, mgr: mgr, store: st, mt: mt}
	opt := Options{Manager: mgr, Logger: log, MaxMessageBytes: 1024}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, ok := e.sessions.Load(r.URL.Query().Get("s"))
		if !ok {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		e.srv.ServeWS(w, r, sess.(*room.Session))
	})
	e.ts = httptest.NewUnstartedServer(h)
	if tune != nil {
		tune(&opt, e.ts)
	}
	e.srv = New(opt)
	e.ts.Start()
	t.Cleanup(func() {
		e.srv.Close()
		e.ts.Close()
	})
	return e
}

// join creates a session as the API join would and returns its token.
func (e *env) join(name string, role room.Role) string {
	e.t.Helper()
	return e.joinMeeting(e.mt.Key, name, role)
}

// joinMeeting joins another meeting of the same manager.
func (e *env) joinMeeting(key, name string, role room.Role) string {
	e.t.Helper()
	tok, sess, err := e.mgr.NewSession(context.Background(), key, room.Identity{
		Name: name, Role: role, UserID: "lms-user-" + name, AvatarURL: "https://lms.example/avatar/" + name + ".png",
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.sessions.Store(tok, sess)
	return tok
}

func (e *env) wsURL(token string) string {
	return "ws" + strings.TrimPrefix(e.ts.URL, "http") + "/ws?s=" + token
}

// client is a test participant: a gorilla WebSocket whose messages are
// collected by a goroutine so tests can wait for them with a deadline.
type client struct {
	t    *testing.T
	ws   *websocket.Conn
	msgs chan Envelope
	raw  chan []byte
	// closed receives the read error (with the close code) when the socket
	// ends. msgs is unbuffered so that nothing read before the end can be
	// overtaken by it.
	closed chan error
}

func (e *env) dial(token string) *client {
	e.t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(e.wsURL(token), nil)
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	return startClient(e.t, ws)
}

func startClient(t *testing.T, ws *websocket.Conn) *client {
	c := &client{t: t, ws: ws, msgs: make(chan Envelope), raw: make(chan []byte, 4096), closed: make(chan error, 1)}
	go func() {
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				c.closed <- err
				return
			}
			var m Envelope
			if err := json.Unmarshal(b, &m); err != nil {
				c.closed <- err
				return
			}
			select {
			case c.raw <- b:
			default:
			}
			c.msgs <- m
		}
	}()
	t.Cleanup(func() { ws.Close() })
	return c
}

func (c *client) sendRaw(b []byte) {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *client) send(typ, ref string, data any) {
	c.t.Helper()
	b, err := encode(typ, ref, data)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(b)
}

// expect waits for the first message of type typ that satisfies ok (nil:
// any), skipping others.
func (c *client) expect(typ string, ok func(Envelope) bool) Envelope {
	c.t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case m := <-c.msgs:
			if m.Type == typ && (ok == nil || ok(m)) {
				return m
			}
		case err := <-c.closed:
			c.t.Fatalf("waiting for %s: connection ended: %v", typ, err)
		case <-deadline:
			c.t.Fatalf("no %s message within %v", typ, waitFor)
		}
	}
}

// expectClose waits for the socket to end and returns its close code.
func (c *client) expectClose() int {
	c.t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case <-c.msgs:
		case err := <-c.closed:
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code
			}
			return -1
		case <-deadline:
			c.t.Fatalf("connection still open after %v", waitFor)
		}
	}
}

// pending returns the messages that arrive before a ping's pong: the
// messages caused by everything sent before it.
func (c *client) pending() []Envelope {
	c.t.Helper()
	c.send(TypePing, "pending", nil)
	var out []Envelope
	deadline := time.After(waitFor)
	for {
		select {
		case m := <-c.msgs:
			if m.Type == TypePong && m.Ref == "pending" {
				return out
			}
			out = append(out, m)
		case err := <-c.closed:
			c.t.Fatalf("connection ended: %v", err)
		case <-deadline:
			c.t.Fatalf("no pong within %v", waitFor)
		}
	}
}

// ping proves the connection still works end to end.
func (c *client) ping(ref string) {
	c.t.Helper()
	c.send(TypePing, ref, nil)
	c.expect(TypePong, func(m Envelope) bool { return m.Ref == ref })
}

func decodeData[T any](t *testing.T, m Envelope) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(m.Data, &v); err != nil {
		t.Fatalf("decode %s: %v", m.Type, err)
	}
	return v
}

func welcomeOfMsg(t *testing.T, c *client) Welcome {
	t.Helper()
	return decodeData[Welcome](t, c.expect(TypeWelcome, nil))
}

func errorWithRef(ref string) func(Envelope) bool {
	return func(m Envelope) bool { return m.Ref == ref }
}

// smallBuffers shrinks socket buffers so that a client that stops reading
// backs the server up after a few kilobytes instead of megabytes.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return c, err
}
