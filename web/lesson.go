package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"time"

	"aula/present"
	"aula/room"
)

// The lesson tools' HTTP side: the shared notes' export and the frame the
// external video plays in.

// serveNotesExport is GET /r/<slot>/notes/export?format=txt|md|html|pdf:
// the notes made into a file now, for moderators only, never stored.
func (s *server) serveNotesExport(w http.ResponseWriter, r *http.Request, sess *room.Session) {
	p, err := s.participant(r, sess)
	if err != nil || p.Role != room.Moderator {
		s.page(w, r, sess, http.StatusForbidden, "notFound")
		return
	}
	md, err := s.mgr.NotesText(sess.MeetingKey)
	if err != nil {
		s.page(w, r, sess, http.StatusNotFound, "notFound")
		return
	}
	mt, err := s.mgr.MeetingByKey(r.Context(), sess.MeetingKey)
	if err != nil {
		s.page(w, r, sess, http.StatusNotFound, "notFound")
		return
	}
	lang := s.locale(r, sess)
	title := s.i18n.text(lang, "notes.exportTitle")
	if title == "notes.exportTitle" {
		title = "Notes"
	}
	title += " – " + mt.Name
	name := "notes-" + time.Now().UTC().Format("2006-01-02")
	var body []byte
	var ct, ext string
	switch r.URL.Query().Get("format") {
	case "txt":
		body, ct, ext = []byte(present.NotesText(md)), "text/plain; charset=utf-8", ".txt"
	case "md":
		body, ct, ext = []byte(md), "text/markdown; charset=utf-8", ".md"
	case "html":
		body, ct, ext = []byte(present.NotesHTML(title, lang, md)), "text/html; charset=utf-8", ".html"
	case "pdf":
		var buf bytes.Buffer
		if err := present.NotesPDF(&buf, title, md); err != nil {
			s.log.Warn("notes PDF", "meeting", sess.MeetingKey, "err", err)
			s.page(w, r, sess, http.StatusInternalServerError, "error")
			return
		}
		body, ct, ext = buf.Bytes(), "application/pdf", ".pdf"
	default:
		s.page(w, r, sess, http.StatusBadRequest, "notFound")
		return
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Disposition", contentDisposition(name+ext))
	// An HTML export opened from the download must not run anything.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	_, _ = w.Write(body)
}

// serveVideoFrame is GET /r/<slot>/video: the page the shared external
// video plays in. Its Content-Security-Policy opens exactly the shared
// video's origin, and only while a video is shared: before that, nothing
// of a third party can load, and the frame answers 404.
func (s *server) serveVideoFrame(w http.ResponseWriter, r *http.Request, sess *room.Session) {
	if _, err := s.participant(r, sess); err != nil {
		s.page(w, r, sess, http.StatusForbidden, "rejoin")
		return
	}
	v, err := s.mgr.SharedVideo(sess.MeetingKey)
	if err != nil || v.URL == "" || v.Origin == "" {
		s.page(w, r, sess, http.StatusNotFound, "notFound")
		return
	}
	a, ok := s.loadAsset("video.html")
	if !ok {
		s.page(w, r, sess, http.StatusNotFound, "notFound")
		return
	}
	origin := v.Origin
	if strings.ContainsAny(origin, " ;'\"") {
		s.page(w, r, sess, http.StatusNotFound, "notFound")
		return
	}
	src := "media-src " + origin + "; frame-src 'none'"
	if v.Provider != room.ProviderFile {
		src = "media-src 'none'; frame-src " + origin
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", fmt.Sprintf("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; %s; connect-src 'none'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'", src))
	// The video's provider learns nothing of the page it plays in.
	h.Set("Referrer-Policy", "no-referrer")
	_, _ = w.Write(a.data)
}
