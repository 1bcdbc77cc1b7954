package render

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-pdf/fpdf"

	"aula/internal/testenv"
)

// TestConvertPDF renders a three-page PDF through pdfium in WebAssembly:
// three pages, each at every width and as a thumbnail, of the right size
// and the right colour, with progress reported page by page.
func TestConvertPDF(t *testing.T) {
	r := newRenderer(t, Config{Workers: 2})
	src := writeFile(t, "upload", colorPDF(t, 3))
	out := filepath.Join(t.TempDir(), "doc")
	var mu sync.Mutex
	var calls [][2]int
	doc, err := r.Convert(context.Background(), src, KindPDF, out, func(done, total int) {
		mu.Lock()
		calls = append(calls, [2]int{done, total})
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Kind != KindPDF || len(doc.Pages) != 3 {
		t.Fatalf("got %s with %d pages, want pdf with 3", doc.Kind, len(doc.Pages))
	}
	for i, p := range doc.Pages {
		if int(p.Width+0.5) != 842 || int(p.Height+0.5) != 595 {
			t.Errorf("page %d is %v × %v points, want 842 × 595", i+1, p.Width, p.Height)
		}
		for _, w := range []int{640, 320} {
			want := fmt.Sprintf("page-%04d-w%d.png", i+1, w)
			if p.Files[w] != want {
				t.Errorf("page %d width %d: file %q, want %q", i+1, w, p.Files[w], want)
			}
			img := readPNG(t, filepath.Join(out, p.Files[w]))
			// 842 × 595 points scaled to w pixels wide.
			if b := img.Bounds(); b.Dx() != w || abs(b.Dy()-w*595/842) > 1 {
				t.Errorf("page %d at %d: image is %v", i+1, w, b.Size())
			}
			if c := centre(img); !near(c, pageColors[i], 3) {
				t.Errorf("page %d at %d: centre pixel %v, want %v", i+1, w, c, pageColors[i])
			}
		}
		th := readPNG(t, filepath.Join(out, p.Thumb))
		if th.Bounds().Dx() != 100 || !near(centre(th), pageColors[i], 3) {
			t.Errorf("page %d thumbnail: %v, centre %v", i+1, th.Bounds().Size(), centre(th))
		}
	}
	if got := len(entries(t, out)); got != 9 {
		t.Errorf("outDir has %d files, want 9 (3 pages × 2 widths + 3 thumbnails): %v", got, entries(t, out))
	}
	mu.Lock()
	defer mu.Unlock()
	want := [][2]int{{0, 3}, {1, 3}, {2, 3}, {3, 3}}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("progress %v, want %v", calls, want)
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// TestConvertPortrait: a portrait page fits the square by its height.
func TestConvertPortrait(t *testing.T) {
	r := newRenderer(t, Config{})
	out := filepath.Join(t.TempDir(), "o")
	doc, err := r.Convert(context.Background(), writeFile(t, "d", textPDF(t, 1)), KindPDF, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := doc.Pages[0]
	for _, w := range []int{640, 320, 100} {
		name := p.Files[w]
		if w == 100 {
			name = p.Thumb
		}
		// A4 is 595 × 842 points.
		if s := readPNG(t, filepath.Join(out, name)).Bounds().Size(); s.Y != w || abs(s.X-w*595/842) > 1 {
			t.Errorf("size %d: image is %v", w, s)
		}
	}
}

// TestConvertSniffs: with kind "" Convert decides by content, and a file
// that only claims to be a PDF by its name is refused.
func TestConvertSniffs(t *testing.T) {
	r := newRenderer(t, Config{})
	src := writeFile(t, "slides.pdf", colorPDF(t, 1))
	doc, err := r.Convert(context.Background(), src, "", filepath.Join(t.TempDir(), "a"), nil)
	if err != nil || doc.Kind != KindPDF || len(doc.Pages) != 1 {
		t.Fatalf("Convert(kind \"\") = %+v, %v", doc, err)
	}

	fake := writeFile(t, "slides.pdf", []byte("<html><body>not a PDF</body></html>"))
	out := filepath.Join(t.TempDir(), "b")
	if _, err := r.Convert(context.Background(), fake, "", out, nil); !errors.Is(err, ErrUnsupported) {
		t.Errorf("HTML named .pdf: %v, want ErrUnsupported", err)
	}
	// Told it is a PDF, pdfium still refuses it.
	if _, err := r.Convert(context.Background(), fake, KindPDF, out, nil); !errors.Is(err, ErrCorrupt) {
		t.Errorf("HTML given as KindPDF: %v, want ErrCorrupt", err)
	}
	if e := entries(t, out); len(e) != 0 {
		t.Errorf("outDir after refusals: %v", e)
	}
}

// TestConvertRefusals: each way a document is refused gives its sentinel
// with a message for the presenter, and leaves nothing in outDir (an
// existing outDir keeps what it had; one Convert made is removed).
func TestConvertRefusals(t *testing.T) {
	r := newRenderer(t, Config{MaxPages: 2, MaxBytes: 64 << 10})

	enc := fpdf.New("P", "pt", "A4", "")
	enc.SetProtection(fpdf.CnProtectPrint, "secret", "owner")
	enc.AddPage()
	enc.SetFont("Helvetica", "", 12)
	enc.Text(50, 50, "secret")

	big := append([]byte("%PDF-1.4\n"), make([]byte, 65<<10)...)
	cases := []struct {
		name string
		data []byte
		kind Kind
		want error
		text string
	}{
		{"too many pages", colorPDF(t, 3), KindPDF, ErrTooManyPages, "it has 3 pages, at most 2 are allowed"},
		{"too large", big, KindPDF, ErrTooLarge, "at most 64 KiB"},
		{"encrypted", pdfBytes(t, enc), KindPDF, ErrEncrypted, "password"},
		{"garbage after header", append([]byte("%PDF-1.7\n"), []byte(strings.Repeat("\x00garbage\xff", 200))...), KindPDF, ErrCorrupt, "damaged"},
		{"truncated", colorPDF(t, 1)[:20], KindPDF, ErrCorrupt, "damaged"},
		{"empty", nil, "", ErrUnsupported, "not supported"},
		{"broken png", pngBytes(t, solid(10, 10, color.White))[:40], KindPNG, ErrCorrupt, "damaged"},
		{"broken jpeg", []byte("\xff\xd8\xff\xe0 not really"), KindJPEG, ErrCorrupt, "damaged"},
		{"zip that is not office", zipOf(t, [2]string{"a.txt", "hello"}), "", ErrUnsupported, "not an Office document"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := writeFile(t, "upload", c.data)
			base := t.TempDir()
			fresh := filepath.Join(base, "fresh", "doc")
			if _, err := r.Convert(context.Background(), src, c.kind, fresh, nil); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			} else if !strings.Contains(err.Error(), c.text) {
				t.Errorf("message %q does not say %q", err, c.text)
			}
			if _, err := os.Stat(fresh); !os.IsNotExist(err) {
				t.Errorf("outDir Convert created is still there: %v", entries(t, fresh))
			}
			kept := filepath.Join(base, "kept")
			os.Mkdir(kept, 0o700)
			os.WriteFile(filepath.Join(kept, "other"), []byte("x"), 0o600)
			r.Convert(context.Background(), src, c.kind, kept, nil)
			if e := entries(t, kept); len(e) != 1 || e[0] != "other" {
				t.Errorf("existing outDir after refusal: %v, want [other]", e)
			}
		})
	}
}

// TestConvertImages: PNG and JPEG become one page each, scaled down to the
// widths and never up, flattened on white, without metadata, and a photo
// tagged "turn a quarter clockwise" comes out turned.
func TestConvertImages(t *testing.T) {
	r := newRenderer(t, Config{})
	ctx := context.Background()

	// A wide PNG with a transparent right half.
	pic := solid(1000, 500, color.NRGBA{20, 120, 220, 255})
	for y := range 500 {
		for x := 500; x < 1000; x++ {
			pic.SetNRGBA(x, y, color.NRGBA{0, 0, 0, 0})
		}
	}
	out := filepath.Join(t.TempDir(), "png")
	doc, err := r.Convert(ctx, writeFile(t, "p", pngBytes(t, pic)), "", out, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := doc.Pages[0]
	if doc.Kind != KindPNG || len(doc.Pages) != 1 || p.Width != 750 || p.Height != 375 {
		t.Fatalf("got %s, %d pages, %v × %v points", doc.Kind, len(doc.Pages), p.Width, p.Height)
	}
	img := readPNG(t, filepath.Join(out, p.Files[640]))
	if img.Bounds().Size() != image.Pt(640, 320) {
		t.Errorf("640 image is %v", img.Bounds().Size())
	}
	if c := img.At(160, 160); !near(c, color.RGBA{20, 120, 220, 255}, 2) {
		t.Errorf("left half %v", c)
	}
	if c := img.At(480, 160); !near(c, color.RGBA{255, 255, 255, 255}, 0) {
		t.Errorf("transparent half %v, want white", c)
	}
	if th := readPNG(t, filepath.Join(out, p.Thumb)); th.Bounds().Size() != image.Pt(100, 50) {
		t.Errorf("thumbnail %v", th.Bounds().Size())
	}

	// A small JPEG is not scaled up: every width gets its own size.
	small := jpegBytes(t, solid(200, 100, color.NRGBA{200, 30, 30, 255}))
	out = filepath.Join(t.TempDir(), "small")
	doc, err = r.Convert(ctx, writeFile(t, "j", small), KindJPEG, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{640, 320} {
		if img := readPNG(t, filepath.Join(out, doc.Pages[0].Files[w])); img.Bounds().Size() != image.Pt(200, 100) {
			t.Errorf("width %d: %v, want the original 200 × 100", w, img.Bounds().Size())
		}
	}

	// Left red, right blue, tagged orientation 6: upright, red is on top.
	photo := solid(400, 200, color.NRGBA{230, 20, 20, 255})
	for y := range 200 {
		for x := 200; x < 400; x++ {
			photo.SetNRGBA(x, y, color.NRGBA{20, 20, 230, 255})
		}
	}
	out = filepath.Join(t.TempDir(), "photo")
	doc, err = r.Convert(ctx, writeFile(t, "o", withOrientation(jpegBytes(t, photo), 6)), "", out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p := doc.Pages[0]; p.Width != 150 || p.Height != 300 {
		t.Errorf("turned photo is %v × %v points, want 150 × 300", p.Width, p.Height)
	}
	img = readPNG(t, filepath.Join(out, doc.Pages[0].Files[640]))
	if img.Bounds().Size() != image.Pt(200, 400) {
		t.Fatalf("turned photo image %v, want 200 × 400", img.Bounds().Size())
	}
	if c := img.At(100, 100); !near(c, color.RGBA{230, 20, 20, 255}, 12) {
		t.Errorf("top %v, want red", c)
	}
	if c := img.At(100, 300); !near(c, color.RGBA{20, 20, 230, 255}, 12) {
		t.Errorf("bottom %v, want blue", c)
	}
}

// TestConvertImageBomb: a picture whose header claims more than 50
// megapixels is refused before it is decoded.
func TestConvertImageBomb(t *testing.T) {
	r := newRenderer(t, Config{})
	// A valid PNG header and IHDR for 10000 × 10000, nothing after.
	ihdr := pngBytes(t, solid(1, 1, color.White))[:33]
	ihdr[16], ihdr[17], ihdr[18], ihdr[19] = 0, 0, 0x27, 0x10
	ihdr[20], ihdr[21], ihdr[22], ihdr[23] = 0, 0, 0x27, 0x10
	binary.BigEndian.PutUint32(ihdr[29:], crc32.ChecksumIEEE(ihdr[12:29]))
	_, err := r.Convert(context.Background(), writeFile(t, "b", ihdr), KindPNG, filepath.Join(t.TempDir(), "o"), nil)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "10000 × 10000") {
		t.Fatalf("got %v, want ErrTooLarge naming the size", err)
	}
}

// TestConvertTimeouts: a page over PageTimeout kills its pdfium instance
// and the document is ErrTimeout; the pool recovers for the next one. A
// document over DocTimeout is ErrTimeout too.
func TestConvertTimeouts(t *testing.T) {
	src := writeFile(t, "d", colorPDF(t, 2))
	r := newRenderer(t, Config{PageTimeout: time.Nanosecond})
	out := filepath.Join(t.TempDir(), "o")
	if _, err := r.Convert(context.Background(), src, KindPDF, out, nil); !errors.Is(err, ErrTimeout) {
		t.Fatalf("page timeout: %v, want ErrTimeout", err)
	}
	if e := entries(t, out); len(e) != 0 {
		t.Errorf("outDir after timeout: %v", e)
	}
	r.cfg.PageTimeout = time.Minute // the next document has time
	if _, err := r.Convert(context.Background(), src, KindPDF, out, nil); err != nil {
		t.Fatalf("after a killed instance: %v", err)
	}
	os.RemoveAll(out)

	// A page of 20 000 long hairlines takes pdfium seconds: the kill
	// lands in the middle of drawing it.
	f := fpdf.New("P", "pt", "A4", "")
	f.AddPage()
	f.SetLineWidth(0.3)
	for i := range 20000 {
		x, y := float64(i%600)+1, float64(i/600%800)+1
		f.Line(x, y, 595-x, 842-y)
	}
	heavy := writeFile(t, "h", pdfBytes(t, f))
	r.cfg.PageTimeout = 300 * time.Millisecond
	start := time.Now()
	_, err := r.Convert(context.Background(), heavy, KindPDF, out, nil)
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "page 1 took more than 300ms") {
		t.Fatalf("heavy page: %v, want ErrTimeout for page 1", err)
	}
	t.Logf("heavy page stopped after %v", time.Since(start))
	r.cfg.PageTimeout = time.Minute
	if _, err := r.Convert(context.Background(), src, KindPDF, out, nil); err != nil {
		t.Fatalf("after a page was killed: %v", err)
	}

	r2 := newRenderer(t, Config{DocTimeout: time.Nanosecond})
	if _, err := r2.Convert(context.Background(), src, KindPDF, filepath.Join(t.TempDir(), "o"), nil); !errors.Is(err, ErrTimeout) {
		t.Fatalf("document timeout: %v, want ErrTimeout", err)
	}
}

// TestConvertCancel: a cancelled context stops the conversion with its
// own error, and Convert after Close is ErrClosed.
func TestConvertCancel(t *testing.T) {
	r := newRenderer(t, Config{})
	src := writeFile(t, "d", colorPDF(t, 2))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := filepath.Join(t.TempDir(), "o")
	if _, err := r.Convert(ctx, src, KindPDF, out, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("outDir left after cancel: %v", entries(t, out))
	}
	r.Close()
	if _, err := r.Convert(context.Background(), src, KindPDF, out, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v, want ErrClosed", err)
	}
}

// TestConvertConcurrent: more documents than workers at once all finish,
// each with its own pages.
func TestConvertConcurrent(t *testing.T) {
	r := newRenderer(t, Config{Workers: 2})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := i + 1
			src := writeFile(t, "d", colorPDF(t, n))
			doc, err := r.Convert(context.Background(), src, KindPDF, filepath.Join(t.TempDir(), "o"), nil)
			if err == nil && len(doc.Pages) != n {
				err = fmt.Errorf("document %d has %d pages", n, len(doc.Pages))
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// TestConvertMemoryLimit: a page bitmap larger than an instance's memory
// cap fails that document, not the process.
func TestConvertMemoryLimit(t *testing.T) {
	r := newRenderer(t, Config{MemoryLimit: 32 << 20, Widths: []int{3840}})
	_, err := r.Convert(context.Background(), writeFile(t, "d", colorPDF(t, 1)), KindPDF, filepath.Join(t.TempDir(), "o"), nil)
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("3840-pixel page in 32 MiB: %v, want ErrCorrupt", err)
	}
}

// TestCloseLeavesNoGoroutines: after Close nothing of the renderer runs
// (pool, workers, watchdogs).
func TestCloseLeavesNoGoroutines(t *testing.T) {
	check := testenv.GoroutineCheck(t, 0)
	r, err := New(Config{Workers: 2, Widths: []int{320}, ThumbWidth: 64, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	src := writeFile(t, "d", colorPDF(t, 3))
	if _, err := r.Convert(context.Background(), src, KindPDF, filepath.Join(t.TempDir(), "o"), nil); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	check()
}

// TestNewChecksConfig: impossible settings are refused, Workers is capped
// at the number of CPUs.
func TestNewChecksConfig(t *testing.T) {
	for _, c := range []Config{
		{Widths: []int{8}},
		{Widths: []int{10000}},
		{MemoryLimit: 16 << 20},
		{MemoryLimit: 8 << 30},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
	r := newRenderer(t, Config{Widths: []int{960, 1920, 960}})
	if c := r.Config(); c.MaxPages != 200 || c.MaxBytes != 30<<20 || fmt.Sprint(c.Widths) != "[960 1920]" || c.ThumbWidth != 100 {
		t.Errorf("Config() = %+v", c)
	}
	c, err := Config{Workers: 1 << 20}.withDefaults()
	if err != nil || c.Workers != runtime.NumCPU() {
		t.Fatalf("Workers %d (%v), want %d", c.Workers, err, runtime.NumCPU())
	}
}
