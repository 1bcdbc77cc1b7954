package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"aula/internal/testenv"
	"aula/room"
)

// TestNotesClientsAgainstTheServer: the browser's notes client
// (web/static/js/notes-ot.js, run by node) against the real server over
// real WebSockets. Two to five editors insert and delete at random places,
// often the same one, with undo and redo, while the relay here delays
// each connection's messages at random (in order); afterwards every
// replica holds the server's text.
func TestNotesClientsAgainstTheServer(t *testing.T) {
	node := testenv.Tool(t, "node")
	a := startServer(t, "")
	base := a.URL()
	dir := t.TempDir()
	for src, dst := range map[string]string{
		"../web/static/js/notes-ot.js": "notes-ot.js",
		"testdata/notes_editors.mjs":   "notes_editors.mjs",
	} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"type":"module"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for round, editors := range []int{2, 3, 5} {
		t.Run(fmt.Sprintf("%d editors", editors), func(t *testing.T) {
			meetingID := "e2e-notes-" + room.NewID()
			apiGet(t, nil, base, "create", url.Values{"meetingID": {meetingID}, "name": {"Notes"},
				"attendeePW": {"ap"}, "moderatorPW": {"mp"}})
			mt, err := a.Manager().Meeting(context.Background(), meetingID)
			if err != nil {
				t.Fatal(err)
			}
			var socks []*websocket.Conn
			for i := range editors {
				role := room.Viewer
				if i == 0 {
					role = room.Moderator // in first: nobody waits in the lobby
				}
				socks = append(socks, joinSocket(t, base, meetingID, fmt.Sprintf("Editor %d", i), role))
			}
			texts, edits, reordered := runEditors(t, node, dir, socks, editors, 2500, round+1)
			want, err := a.Manager().NotesText(mt.Key)
			if err != nil {
				t.Fatal(err)
			}
			for i, got := range texts {
				if got != want {
					t.Errorf("editor %d ends with %q, the server with %q", i, got, want)
				}
			}
			// A revision can arrive before the one it follows (the server
			// delivers outside the meeting's lock): the client waits for it.
			t.Logf("%d editors, %d edits, %d characters in the end, %d revisions early", editors, edits, len([]rune(want)), reordered)
			if edits < editors*20 {
				t.Errorf("only %d edits: the test proves little", edits)
			}
		})
	}
}

// joinSocket enters a meeting through the BBB API's join link and opens
// the page's WebSocket with its session cookie.
func joinSocket(t *testing.T, base, meetingID, name string, role room.Role) *websocket.Conn {
	t.Helper()
	body := apiGet(t, nil, base, "join", url.Values{
		"meetingID": {meetingID}, "fullName": {name}, "role": {string(role)}, "redirect": {"false"},
	})
	var jr struct {
		URL string `xml:"url"`
	}
	if err := xml.Unmarshal(body, &jr); err != nil || jr.URL == "" {
		t.Fatalf("join %s: no url in %s", name, body)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(jr.URL)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil || len(resp.Cookies()) == 0 {
		t.Fatalf("join link: HTTP %d, %v", resp.StatusCode, err)
	}
	ck := resp.Cookies()[0]
	u, _ := url.Parse(base)
	origin := u.Scheme + "://" + u.Host
	u.Scheme = "ws"
	u.Path = strings.TrimSuffix(loc.Path, "/") + "/ws"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, u.String(), http.Header{"Origin": {origin}, "Cookie": {ck.Name + "=" + ck.Value}})
	if err != nil {
		t.Fatalf("websocket of %s: %v", name, err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

// runEditors relays between the node editors and their sockets until the
// editors report their texts.
func runEditors(t *testing.T, node, dir string, socks []*websocket.Conn, editors, ms, seed int) ([]string, int, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(ms)*time.Millisecond+60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "notes_editors.mjs", strconv.Itoa(editors), strconv.Itoa(ms), strconv.Itoa(seed))
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait() //nolint:errcheck
	defer cancel()

	var inMu sync.Mutex
	toNode := func(m any) {
		b, _ := json.Marshal(m)
		inMu.Lock()
		defer inMu.Unlock()
		stdin.Write(append(b, '\n')) //nolint:errcheck
	}
	// Each connection: messages in order, each after a random short delay.
	type msg struct {
		Type string          `json:"type"`
		Ref  string          `json:"ref,omitempty"`
		Data json.RawMessage `json:"data,omitempty"`
	}
	outs := make([]chan msg, len(socks))
	for i, ws := range socks {
		in := make(chan msg, 1024)
		outs[i] = make(chan msg, 1024)
		go func() {
			defer close(in)
			for {
				var m msg
				if err := ws.ReadJSON(&m); err != nil {
					return
				}
				switch m.Type {
				case "welcome", "notes.op", "notes.ack", "notes.state", "error":
					in <- m
				}
			}
		}()
		go func() {
			r := rand.New(rand.NewPCG(uint64(i), 7))
			for m := range in {
				time.Sleep(time.Duration(r.IntN(4000)) * time.Microsecond)
				toNode(map[string]any{"c": i, "type": m.Type, "data": m.Data})
			}
		}()
		go func() {
			r := rand.New(rand.NewPCG(uint64(i), 9))
			refs := 0
			for m := range outs[i] {
				time.Sleep(time.Duration(r.IntN(4000)) * time.Microsecond)
				refs++
				m.Ref = "e" + strconv.Itoa(refs)
				if err := ws.WriteJSON(m); err != nil {
					return
				}
			}
		}()
	}
	defer func() {
		for _, c := range outs {
			close(c)
		}
	}()
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var line struct {
			C      int             `json:"c"`
			Type   string          `json:"type"`
			Data   json.RawMessage `json:"data"`
			Done   bool            `json:"done"`
			Failed string          `json:"failed"`
			Texts  []string        `json:"texts"`
			Edits  int             `json:"edits"`
			Early  int             `json:"reordered"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("editors said %q: %v", sc.Text(), err)
		}
		switch {
		case line.Failed != "":
			t.Fatalf("editors: %s", line.Failed)
		case line.Done:
			return line.Texts, line.Edits, line.Early
		default:
			outs[line.C] <- msg{Type: line.Type, Data: line.Data}
		}
	}
	t.Fatalf("the editors stopped without a result: %v", sc.Err())
	return nil, 0, 0
}
