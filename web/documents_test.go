package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"aula/present"
	"aula/room"
)

// classroom is a meeting with a moderator (the presenter) and a viewer in
// the room, each with their session cookie and page path.
type classroom struct {
	key                  string
	modCookie, vieCookie *http.Cookie
	modPage, viePage     string
	mod, vie             *room.Member
}

func (e *env) classroom(id string) classroom {
	e.t.Helper()
	e.create(id)
	var c classroom
	c.modCookie, c.modPage = e.enter(e.joinXML(id, "Frau Lehrerin", "MODERATOR"))
	c.vieCookie, c.viePage = e.enter(e.joinXML(id, "Ben", "VIEWER"))
	ctx := context.Background()
	c.mod = e.attach(ctx, c.modCookie)
	c.vie = e.attach(ctx, c.vieCookie)
	mt, err := e.mgr.Meeting(ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	c.key = mt.Key
	return c
}

// do sends a request with a session cookie and returns status and body.
func (e *env) do(method, u string, cookie *http.Cookie, body io.Reader, header ...string) (int, string, http.Header) {
	e.t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, readBody(e.t, resp), resp.Header
}

func TestPresenterUpload(t *testing.T) {
	e := newEnv(t)
	c := e.classroom("upload")
	upload := func(cookie *http.Cookie, page string, body io.Reader, header ...string) (int, string) {
		status, b, _ := e.do(http.MethodPost, page+"upload", cookie, body, header...)
		return status, b
	}
	// A viewer is not the presenter.
	if status, body := upload(c.vieCookie, c.viePage, bytes.NewReader(tinyPDF), "X-File-Name", "x.pdf"); status != http.StatusForbidden || !strings.Contains(body, "forbidden") {
		t.Fatalf("viewer upload: %d %s", status, body)
	}
	// The presenter's PDF, named with a path, is accepted and converted.
	status, body := upload(c.modCookie, c.modPage, bytes.NewReader(tinyPDF), "X-File-Name", url.PathEscape("../../etc/Kapitel 2.pdf"))
	if status != http.StatusAccepted {
		t.Fatalf("presenter upload: %d %s", status, body)
	}
	var res struct{ ID string }
	if err := json.Unmarshal([]byte(body), &res); err != nil || res.ID == "" {
		t.Fatalf("upload answer %q", body)
	}
	d := e.docs("upload", 1)[0]
	if d.ID != res.ID || d.Status != room.DocReady || d.Name != "../../etc/Kapitel 2.pdf" || d.Uploader != c.mod.ID() {
		t.Fatalf("uploaded document %+v", d)
	}
	// A file that claims to be a PDF and is not.
	if status, body := upload(c.modCookie, c.modPage, strings.NewReader("MZ not a pdf"), "X-File-Name", "fake.pdf"); status != http.StatusUnsupportedMediaType || !strings.Contains(body, present.CodeUnsupported) {
		t.Fatalf("fake PDF: %d %s", status, body)
	}
	// Too large by its declared length: refused before the body is read.
	// The request's headers go out alone; the answer must come without a
	// byte of the body (a server reading it first would wait here).
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	u, _ := url.Parse(c.modPage + "upload")
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nCookie: %s=%s\r\nX-File-Name: big.pdf\r\nContent-Type: application/pdf\r\nContent-Length: %d\r\n\r\n",
		u.RequestURI(), u.Host, c.modCookie.Name, c.modCookie.Value, 31<<20)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to an oversized upload before its body: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized upload: %d", resp.StatusCode)
	}
	// Another site's page posting with the cookie.
	if status, _ := upload(c.modCookie, c.modPage, bytes.NewReader(tinyPDF), "Origin", "https://evil.example"); status != http.StatusForbidden {
		t.Fatalf("cross-origin upload: %d", status)
	}
	if n := len(e.docs("upload", 1)); n != 1 {
		t.Fatalf("refused uploads became documents: %d", n)
	}
}

func TestDocumentFiles(t *testing.T) {
	e := newEnv(t)
	c := e.classroom("docfiles")
	status, body, _ := e.do(http.MethodPost, c.modPage+"upload", c.modCookie, bytes.NewReader(tinyPDF), "X-File-Name", "Skript.pdf")
	if status != http.StatusAccepted {
		t.Fatalf("upload: %d %s", status, body)
	}
	d := e.docs("docfiles", 1)[0]
	page := "doc/" + d.ID + "/page-0001-w960.png"
	if status, body, h := e.do(http.MethodGet, c.viePage+page, c.vieCookie, nil); status != http.StatusOK || h.Get("Content-Type") != "image/png" || !strings.HasPrefix(body, "\x89PNG") {
		t.Fatalf("page image for a participant: %d %s", status, h.Get("Content-Type"))
	}
	// Someone of another meeting, with a valid session of their own.
	other := e.classroom("elsewhere")
	if status, _, _ := e.do(http.MethodGet, other.viePage+page, other.vieCookie, nil); status != http.StatusNotFound {
		t.Fatalf("page image through another meeting's session: %d", status)
	}
	for _, bad := range []string{"doc/" + d.ID + "/../../../secret", "doc/" + d.ID + "/original.pdf", "doc/" + d.ID + "/page-1.png", "doc/nope/page-0001-w960.png"} {
		if status, _, _ := e.do(http.MethodGet, c.viePage+bad, c.vieCookie, nil); status == http.StatusOK {
			t.Errorf("%s served", bad)
		}
	}
	// The original: the presenter allows the download, or nobody but
	// moderators gets it.
	if status, _, _ := e.do(http.MethodGet, c.viePage+"doc/"+d.ID+"/original", c.vieCookie, nil); status != http.StatusForbidden {
		t.Fatalf("original before the download was allowed: %d", status)
	}
	if _, err := c.mod.Command(context.Background(), room.FeaturePresentation, room.AllowDownload{Doc: d.ID, Allow: true}); err != nil {
		t.Fatal(err)
	}
	status, body, h := e.do(http.MethodGet, c.viePage+"doc/"+d.ID+"/original", c.vieCookie, nil)
	if status != http.StatusOK || body != string(tinyPDF) || !strings.Contains(h.Get("Content-Disposition"), "Skript.pdf") {
		t.Fatalf("original: %d %q", status, h.Get("Content-Disposition"))
	}
	// The export with drawings is the moderators'.
	if _, err := c.mod.Command(context.Background(), room.FeatureWhiteboard, room.Draw{Page: room.PageRef{Doc: d.ID, Page: 1},
		Shape: room.Shape{ID: "t", Kind: room.ShapeText, Points: []room.Point{{0.1, 0.5}}, Color: "#000000", Width: 0.01, Text: "Wichtig", Size: 0.05}}); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := e.do(http.MethodGet, c.viePage+"doc/"+d.ID+"/export.pdf", c.vieCookie, nil); status != http.StatusForbidden {
		t.Fatalf("a viewer's export: %d", status)
	}
	status, body, h = e.do(http.MethodGet, c.modPage+"doc/"+d.ID+"/export.pdf", c.modCookie, nil)
	if status != http.StatusOK || !strings.HasPrefix(body, "%PDF-") || h.Get("Content-Type") != "application/pdf" {
		t.Fatalf("export: %d %.20q", status, body)
	}
}

func TestInsertDocument(t *testing.T) {
	e := newEnv(t)
	c := e.classroom("insert")
	post := func(id, body string) bbbFailed {
		q := url.Values{"meetingID": {id}}.Encode()
		resp, err := e.http.Post(e.srv.URL+"/bigbluebutton/api/insertDocument?"+q+"&checksum="+Sign("sha1", "insertDocument", q, testSecret),
			"application/xml", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var r bbbFailed
		b := readBody(t, resp)
		if err := xml.Unmarshal([]byte(b), &r); err != nil {
			t.Fatalf("insertDocument reply %q: %v", b, err)
		}
		return r
	}
	doc := modules(`<document name="Nachtrag.pdf" current="true">` + base64.StdEncoding.EncodeToString(tinyPDF) + `</document>`)
	if r := post("insert", doc); r.ReturnCode != "SUCCESS" {
		t.Fatalf("insertDocument: %+v", r)
	}
	d := e.docs("insert", 1)[0]
	if d.Name != "Nachtrag.pdf" || d.Status != room.DocReady {
		t.Fatalf("inserted %+v", d)
	}
	if v, _ := e.mgr.PresentationDoc(c.key, d.ID); v.ID != d.ID {
		t.Fatal("inserted document missing")
	}
	if r := post("no-such-meeting", doc); r.ReturnCode != "FAILED" || r.MessageKey != "notFound" {
		t.Fatalf("insertDocument into no meeting: %+v", r)
	}
	if r := post("insert", "<modules><mod"); r.ReturnCode != "FAILED" {
		t.Fatalf("insertDocument with a broken body: %+v", r)
	}
	if r := post("insert", modules()); r.ReturnCode != "FAILED" {
		t.Fatalf("insertDocument without documents: %+v", r)
	}
}

// TestDuplicateCreateReadsItsBody: platforms call create before every
// join, often with the course's slides in the body. For a meeting already
// running the reply comes only after the whole (authenticated, capped)
// body was read, so the platform's upload completes instead of being cut
// off by an early reply (a proxy's 502, an HTTP/2 stream reset).
func TestDuplicateCreateReadsItsBody(t *testing.T) {
	e := newEnv(t)
	if r := e.postModules("again", modules()); r.ReturnCode != "SUCCESS" {
		t.Fatalf("first create: %+v", r)
	}
	// Far more than socket buffers hold, below the cap.
	doc := `<document name="big.pdf">` + strings.Repeat("QUFB", 5<<20) + `</document>`
	body := &countingReader{r: strings.NewReader(modules(doc))}
	size := int64(len(modules(doc)))
	q := url.Values{"meetingID": {"again"}, "name": {"Slides"}}.Encode()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/bigbluebutton/api/create?"+q+"&checksum="+Sign("sha1", "create", q, testSecret), body)
	req.Header.Set("Content-Type", "application/xml")
	req.ContentLength = size
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatalf("the duplicate create with a body failed: %v (sent %d of %d bytes)", err, body.n, size)
	}
	if b := readBody(t, resp); !strings.Contains(b, "duplicateWarning") {
		t.Fatalf("reply %s", b)
	}
	if body.n != size {
		t.Fatalf("sent %d of %d bytes", body.n, size)
	}
}

// countingReader counts what was taken of a body.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
