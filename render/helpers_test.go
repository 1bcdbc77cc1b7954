package render

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/go-pdf/fpdf"
)

// Test documents are made by the tests themselves: PDFs with fpdf, pictures
// with the standard library, Office files as the zip or OLE2 containers
// their formats define.

// pageColors are the fills of colorPDF's pages.
var pageColors = []color.RGBA{
	{220, 40, 40, 255},
	{40, 160, 60, 255},
	{40, 80, 200, 255},
}

// colorPDF returns an A4 landscape PDF of n pages, page i filled with
// pageColors[i%3] and its number large in the top left corner.
func colorPDF(t testing.TB, n int) []byte {
	t.Helper()
	f := fpdf.New("L", "pt", "A4", "")
	for i := range n {
		f.AddPage()
		c := pageColors[i%len(pageColors)]
		f.SetFillColor(int(c.R), int(c.G), int(c.B))
		f.Rect(0, 0, 842, 595, "F")
		f.SetTextColor(255, 255, 255)
		f.SetFont("Helvetica", "B", 120)
		f.Text(40, 140, fmt.Sprint(i+1))
	}
	return pdfBytes(t, f)
}

// textPDF returns an A4 portrait PDF of n pages of running text, like
// lecture notes.
func textPDF(t testing.TB, n int) []byte {
	t.Helper()
	f := fpdf.New("P", "pt", "A4", "")
	f.SetFont("Times", "", 11)
	line := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 2)
	for i := range n {
		f.AddPage()
		f.SetFont("Helvetica", "B", 18)
		f.Text(60, 70, fmt.Sprintf("Chapter %d", i+1))
		f.SetFont("Times", "", 11)
		for l := range 50 {
			f.Text(60, 100+float64(l)*14, fmt.Sprintf("%d.%d %s", i+1, l+1, line))
		}
	}
	return pdfBytes(t, f)
}

func pdfBytes(t testing.TB, f *fpdf.Fpdf) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := f.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// solid returns a w × h picture of one colour.
func solid(w, h int, c color.Color) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	return img
}

func pngBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withOrientation puts an APP1 Exif segment with the given orientation
// (big-endian TIFF) right after a JPEG's SOI marker.
func withOrientation(jpg []byte, orient uint16) []byte {
	tiff := []byte("MM\x00\x2a\x00\x00\x00\x08")
	tiff = binary.BigEndian.AppendUint16(tiff, 1) // one entry
	tiff = binary.BigEndian.AppendUint16(tiff, 0x0112)
	tiff = binary.BigEndian.AppendUint16(tiff, 3) // SHORT
	tiff = binary.BigEndian.AppendUint32(tiff, 1)
	tiff = binary.BigEndian.AppendUint16(tiff, orient)
	tiff = append(tiff, 0, 0, 0, 0, 0, 0) // padding, next IFD = 0
	seg := append([]byte("Exif\x00\x00"), tiff...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, 0xff, 0xe1)
	out = binary.BigEndian.AppendUint16(out, uint16(len(seg)+2))
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// zipOf builds a zip archive; ODF wants its mimetype entry first and
// stored.
func zipOf(t testing.TB, files ...[2]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range files {
		method := zip.Deflate
		if f[0] == "mimetype" {
			method = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f[0], Method: method})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(f[1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// odt returns an OpenDocument text with the given paragraphs.
func odt(t testing.TB, paras ...string) []byte {
	t.Helper()
	var body strings.Builder
	for _, p := range paras {
		body.WriteString("<text:p>" + p + "</text:p>")
	}
	return odtXML(t, body.String())
}

// odtXML returns an OpenDocument text whose body is the given XML (with
// the text, drawing and xlink namespaces declared).
func odtXML(t testing.TB, body string) []byte {
	t.Helper()
	return zipOf(t,
		[2]string{"mimetype", "application/vnd.oasis.opendocument.text"},
		[2]string{"META-INF/manifest.xml", `<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>`},
		[2]string{"content.xml", `<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" office:version="1.2">
<office:body><office:text>` + body + `</office:text></office:body></office:document-content>`},
	)
}

// odp returns an OpenDocument presentation, one slide per title.
func odp(t testing.TB, titles ...string) []byte {
	t.Helper()
	var body strings.Builder
	for i, title := range titles {
		fmt.Fprintf(&body, `<draw:page draw:name="s%d"><draw:frame svg:x="2cm" svg:y="2cm" svg:width="20cm" svg:height="4cm"><draw:text-box><text:p>%s</text:p></draw:text-box></draw:frame></draw:page>`, i+1, title)
	}
	return zipOf(t,
		[2]string{"mimetype", "application/vnd.oasis.opendocument.presentation"},
		[2]string{"META-INF/manifest.xml", `<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.presentation"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>`},
		[2]string{"content.xml", `<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" office:version="1.2">
<office:body><office:presentation>` + body.String() + `</office:presentation></office:body></office:document-content>`},
	)
}

// docx returns a minimal Word document with the given paragraphs.
func docx(t testing.TB, paras ...string) []byte {
	t.Helper()
	var body strings.Builder
	for _, p := range paras {
		body.WriteString("<w:p><w:r><w:t>" + p + "</w:t></w:r></w:p>")
	}
	return zipOf(t,
		[2]string{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
</Types>`},
		[2]string{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>
</Relationships>`},
		[2]string{"word/document.xml", `<?xml version="1.0" encoding="UTF-8"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` + body.String() + `</w:body></w:document>`},
	)
}

// ole2 builds a compound file with 512-byte sectors whose directory holds
// the given stream names, spread over dirSectors directory sectors (four
// entries each) chained through the FAT: sectors 0..dirSectors-1 are the
// directory, the next one the FAT.
func ole2(names []string, dirSectors int) []byte {
	const ss = 512
	fatSect := dirSectors
	file := make([]byte, ss*(2+dirSectors))
	h := file[:ss]
	copy(h, magicOLE2)
	binary.LittleEndian.PutUint16(h[0x18:], 0x3e)
	binary.LittleEndian.PutUint16(h[0x1a:], 3)
	binary.LittleEndian.PutUint16(h[0x1c:], 0xfffe)
	binary.LittleEndian.PutUint16(h[0x1e:], 9)
	binary.LittleEndian.PutUint16(h[0x20:], 6)
	binary.LittleEndian.PutUint32(h[0x2c:], 1) // FAT sectors
	binary.LittleEndian.PutUint32(h[0x30:], 0) // first directory sector
	binary.LittleEndian.PutUint32(h[0x3c:], 0xfffffffe)
	binary.LittleEndian.PutUint32(h[0x44:], 0xfffffffe)
	for i := range 109 {
		binary.LittleEndian.PutUint32(h[0x4c+4*i:], 0xffffffff)
	}
	binary.LittleEndian.PutUint32(h[0x4c:], uint32(fatSect))
	// The directory: root entry first, then the streams, packed into the
	// sectors from the back so the interesting names land last.
	all := append([]string{"Root Entry"}, names...)
	for i, n := range all {
		slot := i
		if dirSectors > 1 && i > 0 {
			slot = 4*(dirSectors-1) + (i - 1) // last sector
		}
		e := file[ss*(1+slot/4)+128*(slot%4):][:128]
		u := utf16.Encode([]rune(n))
		for k, c := range u {
			binary.LittleEndian.PutUint16(e[2*k:], c)
		}
		binary.LittleEndian.PutUint16(e[0x40:], uint16(2*len(u)+2))
		e[0x42] = 2 // stream
		if i == 0 {
			e[0x42] = 5 // root
		}
	}
	fat := file[ss*(1+fatSect):][:ss]
	for i := range ss / 4 {
		binary.LittleEndian.PutUint32(fat[4*i:], 0xffffffff)
	}
	for s := range dirSectors {
		next := uint32(s + 1)
		if s == dirSectors-1 {
			next = 0xfffffffe
		}
		binary.LittleEndian.PutUint32(fat[4*s:], next)
	}
	binary.LittleEndian.PutUint32(fat[4*fatSect:], 0xfffffffd)
	return file
}

// writeFile writes data into the test's temporary directory.
func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// testLogger sends the package's log to the test's log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// newRenderer starts a Renderer for the test (small widths keep tests
// fast) and closes it at the end.
func newRenderer(t testing.TB, cfg Config) *Renderer {
	t.Helper()
	if cfg.Widths == nil {
		cfg.Widths = []int{640, 320}
	}
	if cfg.ThumbWidth == 0 {
		cfg.ThumbWidth = 100
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	})
	return r
}

// readPNG decodes a page image.
func readPNG(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// near reports whether two colours differ by at most tol per channel.
func near(a color.Color, b color.RGBA, tol int) bool {
	r, g, bl, _ := a.RGBA()
	d := func(x uint32, y uint8) bool {
		v := int(x>>8) - int(y)
		return v >= -tol && v <= tol
	}
	return d(r, b.R) && d(g, b.G) && d(bl, b.B)
}

func centre(img image.Image) color.Color {
	b := img.Bounds()
	return img.At(b.Min.X+b.Dx()/2, b.Min.Y+b.Dy()/2)
}

// entries lists a directory's names (none if it does not exist).
func entries(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// discardLogger drops the log (benchmarks).
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
