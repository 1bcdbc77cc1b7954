package present_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-pdf/fpdf"

	"aula/internal/testenv"
	"aula/present"
	"aula/render"
	"aula/room"
	"aula/store"
)

type env struct {
	t    *testing.T
	ctx  context.Context
	root string
	dir  *store.Dir
	mgr  *room.Manager
	svc  *present.Service
	mt   *room.Meeting
	mod  *room.Member
}

// The renderer is shared by the package's tests: compiling pdfium's
// WebAssembly takes seconds.
var conv *render.Renderer

func TestMain(m *testing.M) {
	var err error
	conv, err = render.New(render.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	code := m.Run()
	conv.Close()
	os.Exit(code)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	root := t.TempDir()
	dir, err := store.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	mgr := room.NewManager(room.Config{Logger: log, Features: []room.FeatureSpec{room.PresentationFeature(), room.WhiteboardFeature()}},
		store.NewMemory(nil), dir)
	svc := present.New(mgr, dir, conv, 1<<20, log)
	t.Cleanup(svc.Close)
	e := &env{t: t, ctx: context.Background(), root: root, dir: dir, mgr: mgr, svc: svc}
	e.mt, _, err = mgr.Create(e.ctx, room.Settings{MeetingID: "lesson", Name: "Lesson"})
	if err != nil {
		t.Fatal(err)
	}
	_, sess, err := mgr.NewSession(e.ctx, e.mt.Key, room.Identity{Name: "Mona", Role: room.Moderator})
	if err != nil {
		t.Fatal(err)
	}
	if e.mod, err = mgr.Attach(e.ctx, e.mt.Key, sess.Identity, room.ListenerFunc(func(room.Event) {})); err != nil {
		t.Fatal(err)
	}
	return e
}

// pdf makes a PDF of n pages, each with its number in large type.
func pdf(t *testing.T, n int) []byte {
	t.Helper()
	f := fpdf.New("L", "pt", "A4", "")
	f.SetFont("Helvetica", "B", 120)
	for i := range n {
		f.AddPage()
		f.SetFillColor(40*i, 120, 200)
		f.Rect(0, 0, 842, 595, "F")
		f.Text(360, 330, string(rune('1'+i)))
	}
	var b bytes.Buffer
	if err := f.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func (e *env) doc(id string) room.Doc {
	e.t.Helper()
	d, err := e.mgr.PresentationDoc(e.mt.Key, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

func (e *env) waitStatus(id, status string) room.Doc {
	e.t.Helper()
	testenv.Eventually(e.t, 60*time.Second, "document "+status, func() bool { return e.doc(id).Status == status })
	return e.doc(id)
}

func staged(t *testing.T, root string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(root, "staging"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestUploadedPDFBecomesPages(t *testing.T) {
	e := newEnv(t)
	id, err := e.svc.Add(e.ctx, e.mt.Key, "Kapitel 1.pdf", bytes.NewReader(pdf(t, 3)), e.mod.ID(), true)
	if err != nil {
		t.Fatal(err)
	}
	d := e.waitStatus(id, room.DocReady)
	if len(d.Pages) != 3 || d.Name != "Kapitel 1.pdf" || d.Ext != ".pdf" || d.Uploader != e.mod.ID() {
		t.Fatalf("document %+v", d)
	}
	for _, f := range []string{present.PagePath(id, "page-0003-w1920.png"), present.PagePath(id, "page-0001-thumb.png"), present.OriginalPath(id)} {
		fh, err := e.dir.OpenFile(e.mt.Key, f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		fh.Close()
	}
	if s, err := e.mgr.PresentationDoc(e.mt.Key, "blank"); err != nil || s.Status != room.DocReady {
		t.Fatalf("the blank deck: %+v %v", s, err)
	}
	if left := staged(t, e.root); len(left) != 0 {
		t.Fatalf("staging keeps %v", left)
	}
}

func TestRefusedFilesLeaveNothing(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"claims to be a PDF.pdf", []byte("MZ this is a windows program"), present.ErrUnsupported},
		{"big.pdf", append([]byte("%PDF-1.4\n"), make([]byte, 2<<20)...), present.ErrTooLarge},
		{"../../etc/passwd", []byte("root:x:0:0"), present.ErrUnsupported},
	}
	for _, c := range cases {
		if _, err := e.svc.Add(e.ctx, e.mt.Key, c.name, bytes.NewReader(c.data), e.mod.ID(), false); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	v, _ := e.mod.Snapshot(e.ctx)
	if docs := v.Features[room.FeaturePresentation].(room.PresentationView).Docs; len(docs) != 1 {
		t.Fatalf("refused files became documents: %+v", docs)
	}
	if left := staged(t, e.root); len(left) != 0 {
		t.Fatalf("staging keeps %v", left)
	}
	if ms, _ := e.dir.Meetings(); len(ms) != 0 {
		t.Fatalf("meeting folders %v", ms)
	}
}

func TestCorruptPDFFailsWithAReason(t *testing.T) {
	e := newEnv(t)
	id, err := e.svc.Add(e.ctx, e.mt.Key, "broken.pdf", strings.NewReader("%PDF-1.7\n1 0 obj garbage"), e.mod.ID(), true)
	if err != nil {
		t.Fatal(err)
	}
	d := e.waitStatus(id, room.DocFailed)
	if d.Error != present.CodeCorrupt {
		t.Fatalf("failed with %q, want %q", d.Error, present.CodeCorrupt)
	}
	v, _ := e.mod.Snapshot(e.ctx)
	if cur := v.Features[room.FeaturePresentation].(room.PresentationView).Current; cur != room.BlankDeck {
		t.Fatalf("a failed document became current: %s", cur)
	}
	if ms, _ := e.dir.Meetings(); len(ms) != 0 {
		t.Fatalf("a failed document left folders: %v", ms)
	}
}

// TestEndDuringConversion: the meeting ends while its document converts:
// the conversion stops and no file of it remains anywhere.
func TestEndDuringConversion(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.Add(e.ctx, e.mt.Key, "long.pdf", bytes.NewReader(pdf(t, 40)), e.mod.ID(), false); err != nil {
		t.Fatal(err)
	}
	if err := e.mgr.End(e.ctx, e.mt.Key, room.ReasonAPI); err != nil {
		t.Fatal(err)
	}
	e.svc.Close() // waits for the conversion to stop
	if left := staged(t, e.root); len(left) != 0 {
		t.Fatalf("staging keeps %v", left)
	}
	if ms, _ := e.dir.Meetings(); len(ms) != 0 {
		t.Fatalf("folders of an ended meeting: %v", ms)
	}
	if _, err := e.svc.Add(e.ctx, e.mt.Key, "late.pdf", bytes.NewReader(pdf(t, 1)), "", false); err == nil {
		t.Fatal("a document was added to an ended meeting")
	}
}

// TestExportWithDrawings: the export is a PDF of the pages with the
// drawings on them, text included.
func TestExportWithDrawings(t *testing.T) {
	pdftotext := testenv.Tool(t, "pdftotext")
	e := newEnv(t)
	id, err := e.svc.Add(e.ctx, e.mt.Key, "deck.pdf", bytes.NewReader(pdf(t, 2)), e.mod.ID(), true)
	if err != nil {
		t.Fatal(err)
	}
	e.waitStatus(id, room.DocReady)
	page := room.PageRef{Doc: id, Page: 2}
	for _, s := range []room.Shape{
		{ID: "p", Kind: room.ShapePen, Points: []room.Point{{0.1, 0.1}, {0.2, 0.3}, {0.3, 0.2}}, Color: "#e53935", Width: 0.005},
		{ID: "r", Kind: room.ShapeRect, Points: []room.Point{{0.5, 0.5}, {0.8, 0.7}}, Color: "#1e88e5", Width: 0.003},
		{ID: "t", Kind: room.ShapeText, Points: []room.Point{{0.1, 0.8}}, Color: "#000000", Width: 0.003, Text: "Merke dir das", Size: 0.05},
	} {
		if _, err := e.mod.Command(e.ctx, room.FeatureWhiteboard, room.Draw{Page: page, Shape: s}); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := e.svc.Export(e.ctx, &out, e.mt.Key, id); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "export.pdf")
	if err := os.WriteFile(f, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	txt, err := exec.Command(pdftotext, f, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	if !strings.Contains(string(txt), "Merke dir das") {
		t.Fatalf("the export's text: %q", txt)
	}
	if err := e.svc.Export(e.ctx, io.Discard, e.mt.Key, "nope"); !errors.Is(err, room.ErrNotFound) {
		t.Fatalf("export of an unknown document: %v", err)
	}
}
