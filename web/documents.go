package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"aula/present"
	"aula/room"
)

// Documents in the web layer: the platform's pre-uploads (create,
// insertDocument), the presenter's uploads, the page images, the originals
// participants may download, and the moderators' export with drawings.
// Conversion itself is package present's.

// maxDocsPerCall caps the documents of one create or insertDocument.
const maxDocsPerCall = 10

// addDocuments hands a platform's documents to the meeting: embedded ones
// at once (stored and sniffed, converted in the background), URLs fetched
// in the background through the guarded client. With firstShown, the
// first document (or the one marked current) is shown once converted.
// Nothing here fails the API call: a document that cannot be used is
// logged and shown to moderators as failed.
func (s *server) addDocuments(key string, docs []docSource, firstShown bool) {
	if len(docs) == 0 {
		return
	}
	if s.o.Docs == nil {
		s.log.Warn("documents sent, but this server converts none", "meeting", key, "documents", len(docs))
		return
	}
	show := -1
	for i, d := range docs {
		if d.Current {
			show = i
			break
		}
	}
	if show < 0 && firstShown {
		show = 0
	}
	ctx := context.Background()
	for i, d := range docs {
		switch {
		case d.Refused != "":
			s.log.Info("document refused", "meeting", key, "reason", d.Refused)
			s.o.Docs.Refused(ctx, key, d.Name, d.Refused)
		case d.URL != "":
			s.docFetches.Add(1)
			go func() {
				defer s.docFetches.Done()
				s.fetchAndAdd(key, d, i == show)
			}()
		default:
			if _, err := s.o.Docs.Add(ctx, key, d.Name, bytes.NewReader(d.Data), "", i == show); err != nil {
				s.docRefused(key, d.Name, err)
			}
		}
	}
}

// fetchAndAdd downloads one document and adds it.
func (s *server) fetchAndAdd(key string, d docSource, show bool) {
	ctx, cancel := context.WithTimeout(context.Background(), s.o.FetchTimeout)
	defer cancel()
	data, err := s.fetch(ctx, d.URL, s.o.MaxUploadBytes)
	if err != nil {
		// fetchDocument logged why; the room learns only that it failed.
		s.o.Docs.Refused(context.Background(), key, d.Name, present.CodeDownload)
		return
	}
	if _, err := s.o.Docs.Add(context.Background(), key, d.Name, bytes.NewReader(data), "", show); err != nil {
		s.docRefused(key, d.Name, err)
	}
}

// docRefused logs a document present would not take and, unless the
// meeting is gone, shows it to moderators as failed.
func (s *server) docRefused(key, name string, err error) {
	if errors.Is(err, room.ErrEnded) || errors.Is(err, room.ErrNotFound) {
		return
	}
	code := present.CodeOf(err)
	s.log.Info("document refused", "meeting", key, "reason", code)
	s.o.Docs.Refused(context.Background(), key, name, code)
}

// apiInsertDocument is BBB's insertDocument: documents added to a running
// meeting (Nextcloud's "send file to the running room").
func (s *server) apiInsertDocument(req *apiReq) error {
	id, err := meetingIDParam(req.p)
	if err != nil {
		return err
	}
	mt, err := s.mgr.Meeting(req.r.Context(), id)
	if err != nil {
		return err
	}
	var docs []docSource
	if req.xmlBody != nil {
		if docs, err = parsePresentations(req.xmlBody, s.o.MaxUploadBytes, maxDocsPerCall); err != nil {
			return err
		}
	}
	if len(docs) == 0 {
		return fmt.Errorf("%w: no documents in the request", ErrPresentation)
	}
	s.addDocuments(mt.Key, docs, false)
	return s.ok(req, messageXML{ReturnCode: success, MessageKey: "", Message: "Presentation is being uploaded"})
}

// pageFile matches the names of a document's page images.
var pageFile = regexp.MustCompile(`^page-[0-9]{4}-(w[0-9]{2,4}|thumb)\.png$`)

// participant returns the session's participant in its running meeting.
func (s *server) participant(r *http.Request, sess *room.Session) (*room.Participant, error) {
	ps, err := s.mgr.Participants(r.Context(), sess.MeetingKey)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if p.ID == sess.Identity.ParticipantID && p.InRoom {
			return p, nil
		}
	}
	return nil, room.ErrNotInRoom
}

// jsonError answers a document request with a code the client shows.
func jsonError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":%q,"code":%q}`, msg, code)
}

// serveUpload is POST /r/<slot>/upload: the presenter's document, the
// raw body, its name in X-File-Name. Nothing is read before the session
// and the presenter role are checked and the declared size fits.
func (s *server) serveUpload(w http.ResponseWriter, r *http.Request, sess *room.Session) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		jsonError(w, http.StatusMethodNotAllowed, "bad_request", "use POST")
		return
	}
	if s.o.Docs == nil {
		jsonError(w, http.StatusServiceUnavailable, "unavailable", "this server converts no documents")
		return
	}
	// The session cookie is SameSite; an Origin from elsewhere is refused
	// all the same (a page of another site posting with it).
	if o := r.Header.Get("Origin"); o != "" && !strings.EqualFold(o, s.o.PublicURL.Scheme+"://"+s.o.PublicURL.Host) {
		jsonError(w, http.StatusForbidden, "forbidden", "uploads come from the conference page only")
		return
	}
	p, err := s.participant(r, sess)
	if err != nil || !p.Presenter {
		jsonError(w, http.StatusForbidden, "forbidden", "only the presenter uploads documents")
		return
	}
	max := s.o.Docs.MaxBytes()
	if r.ContentLength > max {
		jsonError(w, http.StatusRequestEntityTooLarge, present.CodeTooLarge, fmt.Sprintf("the file is larger than %d MiB", max>>20))
		return
	}
	name, err := url.PathUnescape(r.Header.Get("X-File-Name"))
	if err != nil || name == "" {
		name = "document"
	}
	name = strings.TrimSpace(name)
	body := http.MaxBytesReader(w, r.Body, max+1)
	id, err := s.o.Docs.Add(r.Context(), sess.MeetingKey, name, body, p.ID, true)
	if err != nil {
		var tooLarge *http.MaxBytesError
		switch code := present.CodeOf(err); {
		case errors.As(err, &tooLarge), code == present.CodeTooLarge:
			jsonError(w, http.StatusRequestEntityTooLarge, present.CodeTooLarge, fmt.Sprintf("the file is larger than %d MiB", max>>20))
		case code == present.CodeUnsupported:
			jsonError(w, http.StatusUnsupportedMediaType, code, "upload a PDF, a PNG or JPEG image, or an Office document")
		case errors.Is(err, room.ErrInvalid):
			jsonError(w, http.StatusConflict, "too_many", "this meeting holds as many documents as it can")
		case errors.Is(err, room.ErrEnded), errors.Is(err, room.ErrNotFound):
			jsonError(w, http.StatusGone, "ended", "the meeting has ended")
		default:
			s.log.Error("upload", "meeting", sess.MeetingKey, "err", err)
			jsonError(w, http.StatusInternalServerError, "internal", "the upload failed")
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintf(w, `{"id":%q}`, id)
}

// serveDoc is GET /r/<slot>/doc/<id>/<file>: a page image, the original
// (when the presenter allows it), or the export with drawings
// (moderators). Only participants of the meeting, in the room, get them.
func (s *server) serveDoc(w http.ResponseWriter, r *http.Request, sess *room.Session, rest string) {
	id, file, ok := strings.Cut(rest, "/")
	if !ok || id == "" {
		s.page(w, r, sess, http.StatusNotFound, "notFound")
		return
	}
	p, err := s.participant(r, sess)
	if err != nil {
		s.page(w, r, sess, http.StatusForbidden, "rejoin")
		return
	}
	doc, err := s.mgr.PresentationDoc(sess.MeetingKey, id)
	if err != nil {
		s.page(w, r, sess, http.StatusNotFound, "notFound")
		return
	}
	switch {
	case pageFile.MatchString(file):
		s.serveMeetingFile(w, r, sess, present.PagePath(id, file), "image/png", "private, max-age=3600", "")
	case file == "original":
		if !doc.Downloadable && !p.Presenter && p.Role != room.Moderator {
			s.page(w, r, sess, http.StatusForbidden, "notFound")
			return
		}
		name := strings.TrimSuffix(doc.Name, doc.Ext) + doc.Ext
		s.serveMeetingFile(w, r, sess, present.OriginalPath(id), "application/octet-stream", "private, no-store", name)
	case file == "export.pdf":
		if p.Role != room.Moderator {
			s.page(w, r, sess, http.StatusForbidden, "notFound")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), time.Minute)
		defer cancel()
		var buf bytes.Buffer
		// Into memory first: a failure must not leave half a PDF.
		if err := s.o.Docs.Export(ctx, &buf, sess.MeetingKey, id); err != nil {
			s.log.Warn("export", "meeting", sess.MeetingKey, "err", err)
			s.page(w, r, sess, http.StatusConflict, "error")
			return
		}
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Cache-Control", "private, no-store")
		w.Header().Set("Content-Disposition", contentDisposition(strings.TrimSuffix(doc.Name, doc.Ext)+".pdf"))
		_, _ = w.Write(buf.Bytes())
	default:
		s.page(w, r, sess, http.StatusNotFound, "notFound")
	}
}

// serveMeetingFile writes a file of the meeting's folder.
func (s *server) serveMeetingFile(w http.ResponseWriter, r *http.Request, sess *room.Session, rel, ct, cache, download string) {
	f, err := s.o.Files.OpenFile(sess.MeetingKey, rel)
	if err != nil {
		s.page(w, r, sess, http.StatusNotFound, "notFound")
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		s.page(w, r, sess, http.StatusNotFound, "notFound")
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", cache)
	if download != "" {
		w.Header().Set("Content-Disposition", contentDisposition(download))
	}
	http.ServeContent(w, r, "", st.ModTime(), f)
}

// contentDisposition names a download, safely for any name.
func contentDisposition(name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '/' {
			return '_'
		}
		return r
	}, name)
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii, url.PathEscape(name))
}
