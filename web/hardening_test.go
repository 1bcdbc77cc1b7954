package web

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
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

// TestCreateDocumentsRaceEnd races end against creates that carry
// documents, 30 at once, each end fired as soon as its meeting exists:
// whatever the interleaving (documents being stored, sniffed, converted,
// committed), once every conversion has settled no file of an ended
// meeting is left, neither in its folder nor in staging.
func TestCreateDocumentsRaceEnd(t *testing.T) {
	e := newEnv(t)
	var docs []string
	for i := range 3 {
		docs = append(docs, `<document name="d`+strconv.Itoa(i)+`.pdf">`+base64.StdEncoding.EncodeToString(tinyPDF)+`</document>`)
	}
	body := modules(docs...)
	end := func(id string) bool {
		resp, err := e.http.Get(e.apiURL("sha1", "end", url.Values{"meetingID": {id}}))
		if err != nil {
			return false
		}
		var r bbbFailed
		return xml.Unmarshal([]byte(readBody(t, resp)), &r) == nil && r.ReturnCode == "SUCCESS"
	}
	const n = 30
	var wg sync.WaitGroup
	for i := range n {
		id := "race-" + strconv.Itoa(i)
		wg.Add(2)
		created := make(chan struct{})
		go func() {
			defer wg.Done()
			defer close(created)
			if r := e.postModules(id, body); r.ReturnCode != "SUCCESS" && r.MessageKey != "notFound" {
				t.Errorf("%s: create answered %+v", id, r)
			}
		}()
		go func() {
			defer wg.Done()
			for {
				if end(id) {
					return
				}
				select {
				case <-created:
					if !end(id) {
						t.Errorf("%s: the meeting could not be ended", id)
					}
					return
				default:
				}
			}
		}()
	}
	wg.Wait()
	e.docSvc.Close() // waits for every conversion to stop
	if ms, _ := e.files.Meetings(); len(ms) != 0 {
		t.Fatalf("folders of ended meetings remain: %v", ms)
	}
	staging := filepath.Join(filepath.Dir(e.files.Root()), "staging")
	if ents, err := os.ReadDir(staging); err != nil || len(ents) != 0 {
		t.Fatalf("staging keeps %d entries (%v)", len(ents), err)
	}
}
