package render

import (
	"bytes"
	"errors"
	"image/color"
	"os"
	"path/filepath"
	"testing"
)

// TestSniff: the kind comes from the content alone, Office containers
// are told apart by a look inside, and everything else is ErrUnsupported.
func TestSniff(t *testing.T) {
	pic := solid(4, 4, color.White)
	manyEntries := func() []byte {
		var files [][2]string
		files = append(files, [2]string{"[Content_Types].xml", "x"}, [2]string{"word/document.xml", "x"})
		for range maxZipEntries {
			files = append(files, [2]string{"x", ""})
		}
		return zipOf(t, files...)
	}
	cases := []struct {
		name string
		data []byte
		kind Kind
		ext  string
	}{
		{"pdf", colorPDF(t, 1), KindPDF, ".pdf"},
		{"png", pngBytes(t, pic), KindPNG, ".png"},
		{"jpeg", jpegBytes(t, pic), KindJPEG, ".jpg"},
		{"odt", odt(t, "Hallo"), KindOffice, ".odt"},
		{"odp template", zipOf(t, [2]string{"mimetype", "application/vnd.oasis.opendocument.presentation-template"}), KindOffice, ".odp"},
		{"ods", zipOf(t, [2]string{"mimetype", "application/vnd.oasis.opendocument.spreadsheet"}), KindOffice, ".ods"},
		{"docx", docx(t, "Hallo"), KindOffice, ".docx"},
		{"pptx", zipOf(t, [2]string{"[Content_Types].xml", "<Types/>"}, [2]string{"ppt/presentation.xml", "<p/>"}), KindOffice, ".pptx"},
		{"xlsx", zipOf(t, [2]string{"[Content_Types].xml", "<Types/>"}, [2]string{"xl/workbook.xml", "<w/>"}), KindOffice, ".xlsx"},
		{"doc", ole2([]string{"WordDocument", "1Table"}, 1), KindOffice, ".doc"},
		{"ppt", ole2([]string{"Current User", "PowerPoint Document"}, 1), KindOffice, ".ppt"},
		{"xls, directory in a second sector", ole2([]string{"Workbook"}, 2), KindOffice, ".xls"},
		{"html named pdf", []byte("<!doctype html><title>x</title>"), "", ""},
		{"pdf after junk", append([]byte("junk\n"), colorPDF(t, 1)...), "", ""},
		{"empty", nil, "", ""},
		{"gif", []byte("GIF89a\x01\x00\x01\x00"), "", ""},
		{"plain zip", zipOf(t, [2]string{"readme.txt", "hi"}), "", ""},
		{"jar", zipOf(t, [2]string{"META-INF/MANIFEST.MF", "Manifest-Version: 1.0"}), "", ""},
		{"content types without office parts", zipOf(t, [2]string{"[Content_Types].xml", "<Types/>"}, [2]string{"Documents/1.fdoc", "x"}), "", ""},
		{"odf formula", zipOf(t, [2]string{"mimetype", "application/vnd.oasis.opendocument.formula"}), "", ""},
		{"epub", zipOf(t, [2]string{"mimetype", "application/epub+zip"}), "", ""},
		{"too many zip entries", manyEntries(), "", ""},
		{"ole2 installer", ole2([]string{"\u4840\u3f3f\u4577"}, 1), "", ""},
		{"ole2 header only", ole2(nil, 1)[:512], "", ""},
		{"truncated zip", docx(t, "x")[:100], "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			head := c.data[:min(len(c.data), HeadSize)]
			k, ext, err := SniffExt(head, int64(len(c.data)), bytes.NewReader(c.data))
			if c.kind == "" {
				if !errors.Is(err, ErrUnsupported) {
					t.Fatalf("got %q, %v; want ErrUnsupported", k, err)
				}
				return
			}
			if err != nil || k != c.kind || ext != c.ext {
				t.Fatalf("got %q %q %v; want %q %q", k, ext, err, c.kind, c.ext)
			}
			// The exported forms agree.
			if k2, err := Sniff(head, int64(len(c.data)), bytes.NewReader(c.data)); k2 != k || err != nil {
				t.Errorf("Sniff = %q, %v", k2, err)
			}
			p := filepath.Join(t.TempDir(), "f")
			os.WriteFile(p, c.data, 0o600)
			if k3, err := SniffFile(p); k3 != k || err != nil {
				t.Errorf("SniffFile = %q, %v", k3, err)
			}
		})
	}
	// With no reader, head is the whole file.
	if k, err := Sniff(docx(t, "x"), 0, nil); k != KindOffice || err != nil {
		t.Errorf("Sniff(docx, nil reader) = %q, %v", k, err)
	}
}

// FuzzSniff: any bytes give a kind or ErrUnsupported, never a panic or
// another error.
func FuzzSniff(f *testing.F) {
	f.Add(colorPDF(f, 1))
	f.Add(pngBytes(f, solid(2, 2, color.White)))
	f.Add(odt(f, "x"))
	f.Add(docx(f, "x"))
	f.Add(ole2([]string{"WordDocument"}, 2))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := Sniff(data[:min(len(data), HeadSize)], int64(len(data)), bytes.NewReader(data))
		if err != nil && !errors.Is(err, ErrUnsupported) {
			t.Fatalf("error %v is not ErrUnsupported", err)
		}
		if err == nil && k != KindPDF && k != KindPNG && k != KindJPEG && k != KindOffice {
			t.Fatalf("kind %q", k)
		}
	})
}

// FuzzOrientation: the EXIF reader gives 1–8 for any bytes.
func FuzzOrientation(f *testing.F) {
	f.Add(withOrientation(jpegBytes(f, solid(2, 2, color.White)), 6))
	f.Add([]byte("\xff\xd8\xff\xe1\x00\x10Exif\x00\x00II*\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if o := orientationOf(data); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}

// TestOrientation: every EXIF orientation turns a picture upright; the
// marked corner (top left of the upright picture) ends up top left.
func TestOrientation(t *testing.T) {
	if o := orientationOf(withOrientation(jpegBytes(t, solid(2, 2, color.White)), 3)); o != 3 {
		t.Fatalf("orientation %d, want 3", o)
	}
	// The stored 3 × 2 picture, and where its pixel (0,0) lands upright.
	for orient, want := range map[int][2]int{
		1: {0, 0}, 2: {2, 0}, 3: {2, 1}, 4: {0, 1},
		5: {0, 0}, 6: {1, 0}, 7: {1, 2}, 8: {0, 2},
	} {
		img := scale(solid(3, 2, color.Black), 3, 2)
		copy(img.Pix[0:4], []byte{255, 0, 0, 255})
		out := orientImage(img, orient)
		if got := out.RGBAAt(want[0], want[1]); got.R != 255 {
			t.Errorf("orientation %d: marked pixel not at %v (size %v)", orient, want, out.Bounds().Size())
		}
	}
}

// TestScale: area averaging keeps flat colours exact and averages a
// checkerboard to grey.
func TestScale(t *testing.T) {
	out := scale(solid(333, 111, color.NRGBA{10, 200, 30, 255}), 100, 33)
	for _, p := range [][2]int{{0, 0}, {50, 16}, {99, 32}} {
		if c := out.RGBAAt(p[0], p[1]); !near(c, color.RGBA{10, 200, 30, 255}, 1) {
			t.Errorf("flat colour at %v: %v", p, c)
		}
	}
	board := solid(64, 64, color.White)
	for y := range 64 {
		for x := range 64 {
			if (x+y)%2 == 0 {
				board.Set(x, y, color.Black)
			}
		}
	}
	if c := scale(board, 8, 8).RGBAAt(3, 3); !near(c, color.RGBA{128, 128, 128, 255}, 1) {
		t.Errorf("checkerboard averages to %v", c)
	}
}
