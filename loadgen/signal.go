package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gorilla/websocket"
)

// envelope is the protocol's one message shape (docs/protocol.md).
type envelope struct {
	Type string          `json:"type"`
	Ref  string          `json:"ref,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
}

// Payloads of the media messages the generator uses.
type (
	mediaOffer struct {
		Target string      `json:"target"`
		SDP    string      `json:"sdp"`
		Tracks []trackInfo `json:"tracks"`
	}
	trackInfo struct {
		MID           string `json:"mid"`
		ParticipantID string `json:"participantId"`
		Kind          string `json:"kind"`
		TrackID       string `json:"trackId"`
	}
	mediaAnswer struct {
		Target string `json:"target"`
		SDP    string `json:"sdp"`
	}
	mediaPublish struct {
		SDP   string            `json:"sdp"`
		Kinds map[string]string `json:"kinds"`
	}
	mediaState struct {
		Audio  bool `json:"audio"`
		Video  bool `json:"video"`
		Screen bool `json:"screen"`
	}
	mediaLayer struct {
		TrackID string `json:"trackId"`
		Width   int    `json:"width"`
		Height  int    `json:"height"`
	}
	errorData struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	welcomeData struct {
		Lobby bool `json:"lobby"`
	}
)

// wsConn is the client's end of the signaling socket: one reader (the
// caller's loop) and one writer goroutine, as the server expects.
type wsConn struct {
	c    *websocket.Conn
	out  chan envelope
	done chan struct{}
	refs atomic.Int64
	once sync.Once
}

// dialWS opens /r/<slot>/ws with the session cookie and the Origin of the
// public URL, as the browser page does.
func dialWS(ctx context.Context, base string, s session) (*wsConn, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrJoin, err)
	}
	origin := u.Scheme + "://" + u.Host
	switch u.Scheme {
	case "https":
		u.Scheme = "wss"
	default:
		u.Scheme = "ws"
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/r/" + s.slot + "/ws"
	h := http.Header{}
	h.Set("Origin", origin)
	h.Set("Cookie", s.cookie.Name+"="+s.cookie.Value)
	d := websocket.Dialer{HandshakeTimeout: websocket.DefaultDialer.HandshakeTimeout}
	c, resp, err := d.DialContext(ctx, u.String(), h)
	if err != nil {
		code := 0
		if resp != nil {
			code = resp.StatusCode
		}
		return nil, fmt.Errorf("%w: websocket (HTTP %d): %v", ErrJoin, code, err)
	}
	c.SetReadLimit(4 << 20)
	w := &wsConn{c: c, out: make(chan envelope, 64), done: make(chan struct{})}
	go w.writeLoop()
	return w, nil
}

func (w *wsConn) writeLoop() {
	for {
		select {
		case <-w.done:
			return
		case e := <-w.out:
			if err := w.c.WriteJSON(e); err != nil {
				return
			}
		}
	}
}

// send queues a message with a fresh ref; it never blocks for long: a
// stuck socket is closed by the server's heartbeat anyway.
func (w *wsConn) send(typ string, data any) error {
	var raw json.RawMessage
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			return err
		}
		raw = b
	}
	e := envelope{Type: typ, Ref: "l" + strconv.FormatInt(w.refs.Add(1), 10), Data: raw}
	select {
	case w.out <- e:
		return nil
	case <-w.done:
		return fmt.Errorf("%w: connection closed", ErrServer)
	}
}

// read returns the next message.
func (w *wsConn) read() (envelope, error) {
	var e envelope
	err := w.c.ReadJSON(&e)
	return e, err
}

func (w *wsConn) close() {
	w.once.Do(func() {
		close(w.done)
		_ = w.c.Close()
	})
}
