package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"aula/room"
)

// session resolves the cookie of a /r/<slot>/ request. The cookie is only
// good for its own slot: a token of another participant's page is refused.
func (s *server) session(r *http.Request, slot string) (*room.Session, error) {
	ck, err := r.Cookie(CookieName)
	if err != nil || ck.Value == "" {
		return nil, room.ErrNotFound
	}
	sess, err := s.mgr.Session(r.Context(), ck.Value)
	if err != nil {
		return nil, err
	}
	if sess.Slot != slot {
		return nil, room.ErrForbidden
	}
	return sess, nil
}

// serveClient is everything under /r/<slot>/: the client page, its
// WebSocket, avatars, and the client's assets by relative path.
func (s *server) serveClient(c *gin.Context) {
	slot, rest := c.Param("slot"), c.Param("rest")
	w, r := c.Writer, c.Request
	if strings.HasPrefix(rest, "/css/") || strings.HasPrefix(rest, "/js/") || strings.HasPrefix(rest, "/vendor/") {
		// Assets (and the vendored modules they import) carry nothing
		// personal; they need no session.
		s.serveAsset(w, r, strings.TrimPrefix(rest, "/"))
		return
	}
	sess, err := s.session(r, slot)
	if err != nil {
		if !errors.Is(err, room.ErrNotFound) && !errors.Is(err, room.ErrForbidden) {
			s.log.Error("session lookup", "err", err)
			s.page(w, r, nil, http.StatusInternalServerError, "error")
			return
		}
		s.page(w, r, nil, http.StatusForbidden, "rejoin")
		return
	}
	if r.Method == http.MethodPost && rest != "/upload" {
		s.page(w, r, sess, http.StatusNotFound, "notFound")
		return
	}
	switch {
	case rest == "/" || rest == "/index.html":
		s.serveIndex(w, r, sess)
	case rest == "/ws":
		if s.o.WS == nil {
			s.page(w, r, sess, http.StatusServiceUnavailable, "unavailable")
			return
		}
		// The join line (every connect and reconnect): who, from where,
		// with which browser. Personal data under the keys of
		// logs.Personal: the log directory only, never stderr.
		s.log.Info("participant connecting", "meeting", sess.MeetingKey, "participant", sess.Identity.ParticipantID,
			"user_id", sess.Identity.UserID, "name", sess.Identity.Name,
			"ip", clientIP(r, s.o.TrustedProxies), "user_agent", r.UserAgent())
		s.o.WS.ServeWS(w, r, sess)
	case strings.HasPrefix(rest, "/avatar/"):
		s.serveAvatar(w, r, sess, strings.TrimPrefix(rest, "/avatar/"))
	case rest == "/upload":
		s.serveUpload(w, r, sess)
	case rest == "/notes/export":
		s.serveNotesExport(w, r, sess)
	case rest == "/video":
		s.serveVideoFrame(w, r, sess)
	case strings.HasPrefix(rest, "/doc/"):
		s.serveDoc(w, r, sess, strings.TrimPrefix(rest, "/doc/"))
	default:
		s.page(w, r, nil, http.StatusNotFound, "notFound")
	}
}

// serveStatic serves /static/<file> from the embedded client.
func (s *server) serveStatic(c *gin.Context) {
	s.serveAsset(c.Writer, c.Request, strings.TrimPrefix(c.Param("file"), "/"))
}

// contentTypes are fixed here rather than read from the system's
// mime.types, so that every machine serves ES modules as text/javascript.
var contentTypes = map[string]string{
	".html":  "text/html; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".mjs":   "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".json":  "application/json",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".jpg":   "image/jpeg",
	".jpeg":  "image/jpeg",
	".gif":   "image/gif",
	".webp":  "image/webp",
	".ico":   "image/x-icon",
	".woff2": "font/woff2",
	".woff":  "font/woff",
	".txt":   "text/plain; charset=utf-8",
	".wasm":  "application/wasm",
	".mp3":   "audio/mpeg",
	".ogg":   "audio/ogg",
	".wav":   "audio/wav",
	".map":   "application/json",
}

// asset is one embedded file, ready to serve: its bytes and the ETag made
// from them.
type asset struct {
	data []byte
	etag string
	ct   string
}

// loadAsset reads an embedded file once and keeps it with its ETag.
func (s *server) loadAsset(name string) (*asset, bool) {
	if a, ok := s.assets.Load(name); ok {
		return a.(*asset), true
	}
	data, err := fs.ReadFile(s.o.Static, name)
	if err != nil {
		return nil, false
	}
	ct, ok := contentTypes[strings.ToLower(path.Ext(name))]
	if !ok {
		if ct = mime.TypeByExtension(path.Ext(name)); ct == "" {
			ct = "application/octet-stream"
		}
	}
	sum := sha256.Sum256(data)
	a := &asset{data: data, ct: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	s.assets.Store(name, a)
	return a, true
}

// serveAsset writes one file of the embedded client. Each carries an ETag
// of its content: browsers revalidate (no-cache) and get 304 Not Modified
// without the body until a new binary serves other bytes.
func (s *server) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	name = path.Clean("/" + name)[1:]
	if s.o.Static == nil || name == "" || !fs.ValidPath(name) {
		s.page(w, r, nil, http.StatusNotFound, "notFound")
		return
	}
	a, ok := s.loadAsset(name)
	if !ok {
		s.page(w, r, nil, http.StatusNotFound, "notFound")
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ct)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(a.data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(a.data)
	}
}

// etagMatches reports whether an If-None-Match header names etag (or *).
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// serveIndex writes the client page in the participant's language: the
// <html lang> the client's translations follow. Never cached: it is the
// page of one session.
func (s *server) serveIndex(w http.ResponseWriter, r *http.Request, sess *room.Session) {
	a, ok := s.loadAsset("index.html")
	if s.o.Static == nil || !ok {
		s.page(w, r, sess, http.StatusNotFound, "notFound")
		return
	}
	lang := s.locale(r, sess)
	page := strings.Replace(string(a.data), `<html lang="en"`, `<html lang="`+lang+`"`, 1)
	h := w.Header()
	h.Set("Content-Type", a.ct)
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", lang)
	h.Set("Content-Length", strconv.Itoa(len(page)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = io.WriteString(w, page)
	}
}

// avatarTypes are the image types an avatar may have. SVG is left out: it
// can carry script.
var avatarTypes = map[string]bool{
	"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true, "image/avif": true,
}

// serveAvatar proxies a participant's avatar so browsers never contact the
// course platform's host. The viewer must be allowed to see the subject
// (same meeting; "participants cannot see each other" respected).
func (s *server) serveAvatar(w http.ResponseWriter, r *http.Request, sess *room.Session, pid string) {
	ps, err := s.mgr.Participants(r.Context(), sess.MeetingKey)
	if err != nil {
		s.page(w, r, sess, http.StatusNotFound, "noPicture")
		return
	}
	var self, subject *room.Participant
	for _, p := range ps {
		if p.ID == sess.Identity.ParticipantID {
			self = p
		}
		if p.ID == pid {
			subject = p
		}
	}
	if subject == nil || subject.AvatarURL == "" || !s.canSee(r.Context(), sess, self, subject) {
		s.page(w, r, sess, http.StatusNotFound, "noPicture")
		return
	}
	ct, data, err := s.fetchAvatar(r.Context(), subject.AvatarURL)
	if err != nil {
		// One page for every failure: the reason is the operator's.
		s.log.Info("avatar download failed", "reason", err.Error())
		s.page(w, r, sess, http.StatusBadGateway, "pictureUnavailable")
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "private, max-age=300")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}

// fetchAvatar downloads an avatar through the guarded outbound client:
// an image of an allowed type, within AvatarTimeout and AvatarMaxBytes.
// Its errors name the host's answer, never the URL (tokens).
func (s *server) fetchAvatar(ctx context.Context, raw string) (string, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, s.o.AvatarTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return "", nil, errors.New("bad avatar URL")
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return "", nil, errors.New("avatar URL is not http(s)")
	}
	req.Header.Set("Accept", "image/avif,image/webp,image/png,image/jpeg,image/gif")
	resp, err := s.client.Do(req)
	if err != nil {
		return "", nil, errors.New(fetchReason(err))
	}
	defer resp.Body.Close()
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusOK {
		return "", nil, fmt.Errorf("answered %d", resp.StatusCode)
	}
	if !avatarTypes[ct] {
		return "", nil, fmt.Errorf("type %q is not an allowed image type", ct)
	}
	data, err := readCapped(resp.Body, s.o.AvatarMaxBytes)
	if err != nil {
		return "", nil, fmt.Errorf("body: %w", err)
	}
	return ct, data, nil
}

// canSee applies the room's visibility: oneself always; others only when
// in the room, and under "participants cannot see each other" a viewer
// sees only moderators.
func (s *server) canSee(ctx context.Context, sess *room.Session, self, subject *room.Participant) bool {
	if subject.ID == sess.Identity.ParticipantID {
		return true
	}
	if !subject.InRoom {
		return false
	}
	mt, err := s.mgr.MeetingByKey(ctx, sess.MeetingKey)
	if err != nil {
		return false
	}
	if !mt.Lock.HideUserList {
		return true
	}
	role := sess.Identity.Role
	if self != nil {
		role = self.Role // a promotion counts
	}
	return role == room.Moderator || subject.Role == room.Moderator
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · Aula</title><link rel="icon" href="/static/favicon.svg" type="image/svg+xml"></head>
<body><main><h1>{{.Title}}</h1><p>{{.Text}}</p></main></body></html>
`))

// page writes a small HTML page (errors, expired links) in the language of
// the request (the session's, when there is one). key names its title and
// text in the catalogues (page.<key>.title, page.<key>.text). No script, no
// style from elsewhere: the CSP holds.
func (s *server) page(w http.ResponseWriter, r *http.Request, sess *room.Session, status int, key string) {
	lang := s.locale(r, sess)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Language", lang)
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, struct{ Lang, Title, Text string }{lang,
		s.i18n.text(lang, "page."+key+".title"), s.i18n.text(lang, "page."+key+".text")})
}
