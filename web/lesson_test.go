package web

import (
	"context"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"aula/internal/testenv"
	"aula/room"
)

// TestNotesExport: moderators get the notes as TXT, Markdown, HTML (with
// nothing of the notes turned into markup) and PDF, made on request;
// viewers are refused.
func TestNotesExport(t *testing.T) {
	pdftotext := testenv.Tool(t, "pdftotext")
	e := newEnv(t)
	c := e.classroom("notes")
	ctx := context.Background()
	md := "# Protokoll\n\nHeute **wichtig**: <script>alert(1)</script>\n\n- erstens\n- *zweitens*\n"
	if _, err := c.mod.Command(ctx, room.FeatureNotes, room.NotesEdit{Rev: 0, Op: room.TextOp{{S: md}}}); err != nil {
		t.Fatal(err)
	}
	get := func(cookie *http.Cookie, page, format string) (int, string, http.Header) {
		status, body, h := e.do(http.MethodGet, page+"notes/export?format="+format, cookie, nil)
		if status == 200 && !strings.Contains(h.Get("Cache-Control"), "no-store") {
			t.Errorf("%s export may be cached: Cache-Control %q", format, h.Get("Cache-Control"))
		}
		return status, body, h
	}
	filesBefore := listFiles(t, e.dataDir)
	if status, _, _ := get(c.vieCookie, c.viePage, "txt"); status != http.StatusForbidden {
		t.Fatalf("a viewer's export: %d", status)
	}
	status, body, h := get(c.modCookie, c.modPage, "md")
	if status != 200 || body != md || !strings.Contains(h.Get("Content-Disposition"), ".md") {
		t.Fatalf("markdown: %d %q", status, body)
	}
	if status, body, _ = get(c.modCookie, c.modPage, "txt"); status != 200 || strings.Contains(body, "**") || !strings.Contains(body, "Heute wichtig") {
		t.Fatalf("text: %d %q", status, body)
	}
	status, body, h = get(c.modCookie, c.modPage, "html")
	if status != 200 || strings.Contains(body, "<script>") || !strings.Contains(body, "<strong>wichtig</strong>") ||
		!strings.Contains(body, "<li><em>zweitens</em></li>") || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("html: %d %q", status, body)
	}
	status, body, _ = get(c.modCookie, c.modPage, "pdf")
	if status != 200 || !strings.HasPrefix(body, "%PDF-") {
		t.Fatalf("pdf: %d", status)
	}
	f := filepath.Join(t.TempDir(), "notes.pdf")
	if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, f, "-").Output()
	if err != nil || !strings.Contains(string(out), "Protokoll") || !strings.Contains(string(out), "zweitens") {
		t.Fatalf("pdftotext: %q %v", out, err)
	}
	if status, _, _ := get(c.modCookie, c.modPage, "exe"); status != http.StatusBadRequest {
		t.Fatalf("an unknown format: %d", status)
	}
	// Made on request, never stored: no file was added, and no store
	// value holds an export (the notes' own text is state, not an export).
	if after := listFiles(t, e.dataDir); !slices.Equal(after, filesBefore) {
		t.Errorf("files before the exports %v, after %v", filesBefore, after)
	}
	for k, v := range e.mem.Dump() {
		if strings.Contains(v, "%PDF") || strings.Contains(v, "<strong>") || strings.Contains(v, "Heute wichtig") {
			t.Errorf("the store keeps an export under %s", k)
		}
	}
}

// listFiles lists the files under dir, sorted.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestVideoFrame: the video frame exists only while a video is shared, and
// its policy opens exactly that video's origin.
func TestVideoFrame(t *testing.T) {
	e := newEnv(t)
	c := e.classroom("video")
	if status, _, _ := e.do(http.MethodGet, c.viePage+"video", c.vieCookie, nil); status != http.StatusNotFound {
		t.Fatalf("the frame before a video is shared: %d", status)
	}
	ctx := context.Background()
	if _, err := c.mod.Command(ctx, room.FeatureVideo, room.VideoShare{URL: "https://media.example.org/lesson/clip.mp4"}); err != nil {
		t.Fatal(err)
	}
	status, _, h := e.do(http.MethodGet, c.viePage+"video", c.vieCookie, nil)
	csp := h.Get("Content-Security-Policy")
	if status != 200 || !strings.Contains(csp, "media-src https://media.example.org;") || !strings.Contains(csp, "frame-src 'none'") {
		t.Fatalf("file video frame: %d %q", status, csp)
	}
	if _, err := c.mod.Command(ctx, room.FeatureVideo, room.VideoShare{URL: "https://youtu.be/dQw4w9WgXcQ"}); err != nil {
		t.Fatal(err)
	}
	_, _, h = e.do(http.MethodGet, c.viePage+"video", c.vieCookie, nil)
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-src https://www.youtube-nocookie.com;") || strings.Contains(csp, "youtube.com ") {
		t.Fatalf("YouTube frame policy %q", csp)
	}
	// The main page never opens a third party.
	if _, _, h := e.do(http.MethodGet, c.viePage, c.vieCookie, nil); strings.Contains(h.Get("Content-Security-Policy"), "youtube") {
		t.Fatal("the page's own policy names the provider")
	}
	other := e.classroom("elsewhere")
	if status, _, _ := e.do(http.MethodGet, other.viePage+"video", other.vieCookie, nil); status != http.StatusNotFound {
		t.Fatalf("another meeting's frame: %d", status)
	}
	if _, err := c.mod.Command(ctx, room.FeatureVideo, room.VideoStop{}); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := e.do(http.MethodGet, c.viePage+"video", c.vieCookie, nil); status != http.StatusNotFound {
		t.Fatalf("the frame after the video stopped: %d", status)
	}
}
