package render

import (
	"context"
	"errors"
	"image"
	"image/color"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"aula/internal/testenv"
)

// TestConvertOffice: an ODT and a DOCX (Writer) and an ODP (Impress) go
// through LibreOffice and pdfium into page images with the text drawn on
// them. Under CI=true a missing soffice fails the test (scripts/test
// installs libreoffice-core-nogui, -writer-nogui and -impress-nogui).
func TestConvertOffice(t *testing.T) {
	soffice := testenv.Tool(t, "soffice")
	r := newRenderer(t, Config{Soffice: soffice})
	cases := map[string]struct {
		data  []byte
		pages int
		// portrait is a text page (A4 or Letter), else a slide.
		portrait bool
	}{
		"odt":  {odt(t, "Aula Office test", "Second paragraph"), 1, true},
		"docx": {docx(t, "Aula Word test"), 1, true},
		"odp":  {odp(t, "Erste Folie", "Second slide"), 2, false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			data := c.data
			// The server's name for the upload says nothing of its type.
			src := writeFile(t, "upload-1", data)
			out := filepath.Join(t.TempDir(), "doc")
			start := time.Now()
			doc, err := r.Convert(context.Background(), src, KindOffice, out, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s converted in %v", name, time.Since(start))
			if doc.Kind != KindOffice || len(doc.Pages) != c.pages {
				t.Fatalf("got %s with %d pages, want office with %d", doc.Kind, len(doc.Pages), c.pages)
			}
			for i, p := range doc.Pages {
				if c.portrait && (p.Width < 590 || p.Width > 615 || p.Height < 790 || p.Height > 845) {
					t.Errorf("page %d is %v × %v points, want A4 or Letter", i+1, p.Width, p.Height)
				}
				if !c.portrait && p.Width <= p.Height {
					t.Errorf("slide %d is %v × %v points, want landscape", i+1, p.Width, p.Height)
				}
				img := readPNG(t, filepath.Join(out, p.Files[640]))
				if dark := darkPixels(img); dark < 50 {
					t.Errorf("page %d: only %d dark pixels: no text drawn?", i+1, dark)
				}
			}
			// Only the page images are left: LibreOffice's temporary
			// directory and profile are gone.
			if e := entries(t, out); len(e) != 3*c.pages {
				t.Errorf("outDir holds %v, want %d page images", e, 3*c.pages)
			}
			for _, e := range entries(t, out) {
				if !strings.HasPrefix(e, "page-000") {
					t.Errorf("left in outDir: %s", e)
				}
			}
		})
	}
}

func darkPixels(img image.Image) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if r, g, bl, _ := img.At(x, y).RGBA(); r+g+bl < 3*0x6000 {
				n++
			}
		}
	}
	return n
}

// TestConvertOfficeFetchesNothing: a document whose picture is a link to
// a web address converts without LibreOffice connecting anywhere (the
// profile blocks linked content), so an upload cannot make the server
// fetch from its own network.
func TestConvertOfficeFetchesNothing(t *testing.T) {
	soffice := testenv.Tool(t, "soffice")
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "image/png")
		w.Write(pngBytes(t, solid(50, 50, color.Black)))
	}))
	defer srv.Close()
	doc := odtXML(t, `<text:p>Linked picture:</text:p><text:p><draw:frame svg:width="5cm" svg:height="5cm" text:anchor-type="as-char"><draw:image xlink:href="`+srv.URL+`/picture.png" xlink:type="simple" xlink:show="embed" xlink:actuate="onLoad"/></draw:frame></text:p>`)
	r := newRenderer(t, Config{Soffice: soffice})
	if _, err := r.Convert(context.Background(), writeFile(t, "u", doc), "", filepath.Join(t.TempDir(), "o"), nil); err != nil {
		t.Fatal(err)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("LibreOffice fetched the linked picture %d times", n)
	}
}

// TestConvertOfficeTimeout: LibreOffice past the document's deadline is
// killed with its whole process group, and nothing is left behind.
func TestConvertOfficeTimeout(t *testing.T) {
	soffice := testenv.Tool(t, "soffice")
	r := newRenderer(t, Config{Soffice: soffice, DocTimeout: 300 * time.Millisecond})
	out := filepath.Join(t.TempDir(), "doc")
	_, err := r.Convert(context.Background(), writeFile(t, "u", odt(t, "slow")), "", out, nil)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("outDir left: %v", entries(t, out))
	}
	// No process runs with the document's profile (its path is on every
	// LibreOffice command line of that conversion).
	testenv.Eventually(t, 5*time.Second, "LibreOffice processes ending", func() bool {
		return len(processesMentioning(out)) == 0
	}, func() { t.Logf("still running: %v", processesMentioning(out)) })
}

// processesMentioning lists the command lines that contain s.
func processesMentioning(s string) []string {
	var out []string
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range dirs {
		b, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(b), s) {
			out = append(out, strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return out
}

// TestConvertNoOffice: without LibreOffice an Office document is
// ErrNoOffice, whose message names what to install, and nothing is
// written; PDFs still work.
func TestConvertNoOffice(t *testing.T) {
	r := newRenderer(t, Config{Soffice: "/nonexistent/soffice"})
	out := filepath.Join(t.TempDir(), "doc")
	for _, data := range [][]byte{odt(t, "x"), docx(t, "x"), ole2([]string{"WordDocument"}, 1)} {
		_, err := r.Convert(context.Background(), writeFile(t, "u", data), "", out, nil)
		if !errors.Is(err, ErrNoOffice) {
			t.Fatalf("got %v, want ErrNoOffice", err)
		}
		if !strings.Contains(err.Error(), "libreoffice-core-nogui") {
			t.Errorf("message does not name the package: %v", err)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("outDir created: %v", entries(t, out))
	}
	if _, err := r.Convert(context.Background(), writeFile(t, "p", colorPDF(t, 1)), "", out, nil); err != nil {
		t.Errorf("PDF without LibreOffice: %v", err)
	}
}
