package web

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"aula/room"
	"aula/store"
)

// endlessBody is a request body that counts what the server read: an XML
// document that never ends (up to limit bytes).
type endlessBody struct {
	prefix string
	read   atomic.Int64
	limit  int64
}

func (b *endlessBody) Read(p []byte) (int, error) {
	n := b.read.Load()
	if n >= b.limit {
		return 0, io.EOF
	}
	if int64(len(p)) > b.limit-n {
		p = p[:b.limit-n]
	}
	for i := range p {
		if int(n)+i < len(b.prefix) {
			p[i] = b.prefix[int(n)+i]
		} else {
			p[i] = 'A'
		}
	}
	b.read.Add(int64(len(p)))
	return len(p), nil
}

func (b *endlessBody) Close() error { return nil }

// TestCreateChecksumBeforeBody: an unsigned create cannot make the server
// read (and hold) a large XML body: the query's checksum is checked first.
func TestCreateChecksumBeforeBody(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxUploadBytes = 64 << 10 })
	prefix := `<modules><module name="presentation"><document name="a.pdf">`
	q := url.Values{"meetingID": {"big"}, "name": {"Big"}}.Encode()
	serve := func(query string, body *endlessBody) string {
		req := httptest.NewRequest(http.MethodPost, "/bigbluebutton/api/create?"+query, body)
		req.Header.Set("Content-Type", "application/xml")
		rec := httptest.NewRecorder()
		e.srv.Config.Handler.ServeHTTP(rec, req)
		return rec.Body.String()
	}
	body := &endlessBody{prefix: prefix, limit: 8 << 20}
	reply := serve(q+"&checksum="+flip(Sign("sha1", "create", q, testSecret)), body)
	if !strings.Contains(reply, "<messageKey>checksumError</messageKey>") {
		t.Fatalf("wrong checksum: %s", reply)
	}
	if n := body.read.Load(); n > 4096 {
		t.Fatalf("read %d bytes of an unauthenticated body", n)
	}
	// Signed, the body is read, but never beyond its cap.
	body = &endlessBody{prefix: prefix, limit: 8 << 20}
	reply = serve(q+"&checksum="+Sign("sha1", "create", q, testSecret), body)
	if !strings.Contains(reply, "<messageKey>invalidPresentation</messageKey>") {
		t.Fatalf("endless signed body: %s", reply)
	}
	if n, cap := body.read.Load(), int64(2*(64<<10)+maxFormBody); n > cap+64<<10 {
		t.Fatalf("read %d bytes, cap %d", n, cap)
	}
}

// flakyStore is the memory store whose Ping fails while down is set.
type flakyStore struct {
	room.Store
	down atomic.Bool
}

func (f *flakyStore) Ping(ctx context.Context) error {
	if f.down.Load() {
		return errors.New("connection refused")
	}
	return f.Store.Ping(ctx)
}

// TestReadyz: /readyz tells whether the store answers; /healthz only that
// the process serves.
func TestReadyz(t *testing.T) {
	st := &flakyStore{Store: store.NewMemory(nil)}
	e := newEnv(t, func(o *Options) {
		o.Manager = room.NewManager(room.Config{Logger: o.Logger}, st, o.Files)
	})
	probe := func(path string) (int, string) {
		resp := e.get(e.srv.URL + path)
		return resp.StatusCode, readBody(t, resp)
	}
	if code, body := probe("/readyz"); code != http.StatusOK || body != "ready\n" {
		t.Fatalf("readyz with the store up: %d %q", code, body)
	}
	st.down.Store(true)
	if code, body := probe("/readyz"); code != http.StatusServiceUnavailable || strings.Contains(body, "refused") {
		t.Fatalf("readyz with the store down: %d %q", code, body)
	}
	if code, _ := probe("/healthz"); code != http.StatusOK {
		t.Fatalf("healthz with the store down: %d", code)
	}
	st.down.Store(false)
	if code, _ := probe("/readyz"); code != http.StatusOK {
		t.Fatalf("readyz after the store came back: %d", code)
	}
}

// recordingFiles keeps the order of Put and Remove per meeting, and calls
// beforeFirst before a meeting's first file is stored.
type recordingFiles struct {
	room.Files
	beforeFirst func(key string)
	mu          sync.Mutex
	events      map[string][]string
	// idOf maps each meeting key that got a file to its meetingID.
	idOf  map[string]string
	idFor func(key string) string
}

func (f *recordingFiles) note(key, ev string) {
	f.mu.Lock()
	f.events[key] = append(f.events[key], ev)
	f.mu.Unlock()
}

func (f *recordingFiles) Put(key, name string, data []byte) (string, error) {
	f.mu.Lock()
	first := len(f.events[key]) == 0
	f.mu.Unlock()
	if first && f.idFor != nil {
		id := f.idFor(key)
		f.mu.Lock()
		f.idOf[key] = id
		f.mu.Unlock()
	}
	if first && f.beforeFirst != nil {
		f.beforeFirst(key)
	}
	n, err := f.Files.Put(key, name, data)
	if err == nil {
		f.note(key, "put")
	}
	return n, err
}

func (f *recordingFiles) Remove(key string) error {
	err := f.Files.Remove(key)
	f.note(key, "remove")
	return err
}

// TestCreateDocumentsRaceEnd races end against creates with documents, 50
// at once: no file outlives its meeting, and a create never answers
// SUCCESS for a meeting whose end began before its documents were stored.
// Half of the rounds force the worst interleaving (the end starts while
// the first document is being stored); the others race freely.
func TestCreateDocumentsRaceEnd(t *testing.T) {
	data := t.TempDir()
	dir, err := store.NewDir(data)
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	ids := make([]string, n)
	forced := map[string]int{}               // meetingID → round, for the forced rounds
	endStarted := map[string]chan struct{}{} // closed by the end hook
	for i := range n {
		ids[i] = "race-" + strconv.Itoa(i)
		endStarted[ids[i]] = make(chan struct{})
		if i%2 == 0 {
			forced[ids[i]] = i
		}
	}
	endResult := make([]chan bool, n)
	for i := range endResult {
		endResult[i] = make(chan bool, 1)
	}
	var e *env
	end := func(id string) bool {
		resp, err := e.http.Get(e.apiURL("sha1", "end", url.Values{"meetingID": {id}}))
		if err != nil {
			return false
		}
		var r bbbFailed
		return xml.Unmarshal([]byte(readBody(t, resp)), &r) == nil && r.ReturnCode == "SUCCESS"
	}
	var mgr *room.Manager
	files := &recordingFiles{Files: dir, events: map[string][]string{}, idOf: map[string]string{}}
	files.idFor = func(key string) string {
		mt, err := mgr.MeetingByKey(context.Background(), key)
		if err != nil {
			return ""
		}
		return mt.MeetingID
	}
	files.beforeFirst = func(key string) {
		files.mu.Lock()
		id := files.idOf[key]
		files.mu.Unlock()
		i, ok := forced[id]
		if !ok {
			return
		}
		go func() { endResult[i] <- end(ids[i]) }()
		select {
		case <-endStarted[id]:
		case <-time.After(10 * time.Second):
			t.Errorf("%s: the end did not start", ids[i])
		}
	}
	e = newEnv(t, func(o *Options) {
		mgr = room.NewManager(room.Config{Logger: o.Logger}, store.NewMemory(nil), files)
		mgr.OnEnded(func(mt room.Meeting, _ string) { close(endStarted[mt.MeetingID]) })
		o.Manager, o.Files = mgr, files
	})
	e.mgr = mgr
	var docs []string
	for i := range 10 {
		docs = append(docs, `<document name="d`+strconv.Itoa(i)+`.pdf">`+base64.StdEncoding.EncodeToString(tinyPDF)+`</document>`)
	}
	body := modules(docs...)
	type result struct {
		create string // returncode/messageKey of create
		ended  bool   // an end answered SUCCESS
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var done atomic.Bool
			if _, ok := forced[ids[i]]; !ok {
				go func() {
					// End as soon as the meeting exists, until create answered.
					for !done.Load() {
						if end(ids[i]) {
							endResult[i] <- true
							return
						}
					}
					endResult[i] <- false
				}()
			}
			r := e.postModules(ids[i], body)
			done.Store(true)
			results[i] = result{create: r.ReturnCode + "/" + r.MessageKey, ended: <-endResult[i]}
		}()
	}
	wg.Wait()
	ctx := context.Background()
	var won, lost, running int
	for i, r := range results {
		id := ids[i]
		key := ""
		files.mu.Lock()
		for k, v := range files.idOf {
			if v == id {
				key = k
			}
		}
		files.mu.Unlock()
		_, gerr := e.mgr.Meeting(ctx, id)
		exists := gerr == nil
		files.mu.Lock()
		evs := strings.Join(files.events[key], ",")
		files.mu.Unlock()
		switch {
		case r.create == "SUCCESS/" && exists:
			running++
		case r.create == "SUCCESS/":
			// Ended after create answered: every document went in before
			// the wipe took them away.
			won++
			if !r.ended || strings.Contains(evs, "remove,put") {
				t.Errorf("%s: SUCCESS for a meeting that is gone (end %v, files %s)", id, r.ended, evs)
			}
		case exists:
			t.Errorf("%s: create answered %s but the meeting runs", id, r.create)
		default:
			lost++
			if r.create != "FAILED/notFound" || !r.ended {
				t.Errorf("%s: create answered %s (end %v)", id, r.create, r.ended)
			}
		}
		if !exists && key != "" {
			if _, err := os.Stat(filepath.Join(data, "rooms", key)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s: the ended meeting's folder is still there (%v, files %s)", id, err, evs)
			}
		}
	}
	t.Logf("create before end %d, end during create %d, still running %d", won, lost, running)
}
