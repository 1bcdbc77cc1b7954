package render

import (
	"bytes"
	"context"
	"errors"
	"image/color"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"aula/internal/testenv"
)

// exportTwoPages converts a two-page PDF and exports it with a stroke, a
// filled rectangle, an ellipse, an arrow and text on each page.
func exportTwoPages(t *testing.T, r *Renderer) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "doc")
	doc, err := r.Convert(context.Background(), writeFile(t, "d", colorPDF(t, 2)), KindPDF, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	var pages []ExportPage
	for i, p := range doc.Pages {
		pages = append(pages, ExportPage{
			Image: filepath.Join(out, p.Files[640]), Width: p.Width, Height: p.Height,
			Annotations: []Annotation{
				Stroke{Style{Color: "#0000ff", Width: 4}, [][2]float64{{50, 500}, {150, 450}, {250, 520}}},
				Rect{Style: Style{Color: "#000000"}, X: 100, Y: 200, W: 200, H: 150, Fill: "#ffff00"},
				Ellipse{Style: Style{Color: "#00ff00", Opacity: 0.5}, X: 500, Y: 100, W: -120, H: 80},
				Arrow{Style: Style{Color: "#ff00ff", Width: 3}, From: [2]float64{600, 400}, To: [2]float64{750, 300}},
				Line{Style: Style{}, From: [2]float64{0, 0}, To: [2]float64{842, 595}},
				Stroke{Style{}, [][2]float64{{700, 550}}}, // a dot
				Text{Style: Style{Color: "#000000"}, X: 400, Y: 420, Size: 28,
					Text: "Hallo Aula, Grüße\nSeite " + string(rune('1'+i))},
			},
		})
	}
	var b bytes.Buffer
	if err := ExportPDF(&b, pages); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestExportPDF: the export is a two-page PDF whose text poppler reads
// (umlauts included), and drawn back through pdfium the rectangle is
// yellow where it was put, over the page's own colour.
func TestExportPDF(t *testing.T) {
	r := newRenderer(t, Config{})
	data := exportTwoPages(t, r)
	if !bytes.HasPrefix(data, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", data[:min(len(data), 20)])
	}

	dir := filepath.Join(t.TempDir(), "back")
	doc, err := r.Convert(context.Background(), writeFile(t, "e.pdf", data), "", dir, nil)
	if err != nil {
		t.Fatalf("the export does not open in pdfium: %v", err)
	}
	if len(doc.Pages) != 2 {
		t.Fatalf("%d pages, want 2", len(doc.Pages))
	}
	for i, p := range doc.Pages {
		if math.Abs(p.Width-842) > 1 || math.Abs(p.Height-595) > 1 {
			t.Errorf("page %d is %v × %v", i+1, p.Width, p.Height)
		}
		img := readPNG(t, filepath.Join(dir, p.Files[640]))
		k := 640 / p.Width // pixels per point
		at := func(x, y float64) color.Color { return img.At(int(x*k), int(y*k)) }
		if c := at(200, 275); !near(c, color.RGBA{255, 255, 0, 255}, 8) {
			t.Errorf("page %d: rectangle is %v, want yellow", i+1, c)
		}
		if c := at(780, 60); !near(c, pageColors[i], 8) {
			t.Errorf("page %d: background %v, want %v", i+1, c, pageColors[i])
		}
	}
}

// TestExportPDFPoppler: poppler's pdfinfo and pdftotext read the export.
func TestExportPDFPoppler(t *testing.T) {
	pdfinfo, pdftotext := testenv.Tool(t, "pdfinfo"), testenv.Tool(t, "pdftotext")
	r := newRenderer(t, Config{})
	path := writeFile(t, "e.pdf", exportTwoPages(t, r))
	info, err := exec.Command(pdfinfo, path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v\n%s", err, info)
	}
	if !strings.Contains(string(info), "Pages:           2") {
		t.Errorf("pdfinfo:\n%s", info)
	}
	text, err := exec.Command(pdftotext, "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, text)
	}
	for _, want := range []string{"Hallo Aula, Grüße", "Seite 1", "Seite 2"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("pdftotext does not find %q in:\n%s", want, text)
		}
	}
}

// TestExportPDFInvalid: what cannot be drawn is ErrInvalid and nothing is
// written.
func TestExportPDFInvalid(t *testing.T) {
	notImage := writeFile(t, "x.png", []byte("GIF89a"))
	page := func(a ...Annotation) []ExportPage {
		return []ExportPage{{Width: 100, Height: 100, Annotations: a}}
	}
	for name, pages := range map[string][]ExportPage{
		"no pages":     nil,
		"no size":      {{Width: 0, Height: 100}},
		"too wide":     {{Width: 20000, Height: 100}},
		"nan size":     {{Width: math.NaN(), Height: 100}},
		"not an image": {{Image: notImage, Width: 100, Height: 100}},
		"bad colour":   page(Rect{Style: Style{Color: "red"}, W: 10, H: 10}),
		"bad fill":     page(Ellipse{Fill: "#12345", W: 10, H: 10}),
		"nan point":    page(Stroke{Points: [][2]float64{{1, 1}, {math.NaN(), 2}}}),
		"inf line":     page(Line{To: [2]float64{math.Inf(1), 0}}),
		"opacity":      page(Line{Style: Style{Opacity: 2}}),
		"text size":    page(Text{Size: -3, Text: "x"}),
	} {
		var b bytes.Buffer
		if err := ExportPDF(&b, pages); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
		if b.Len() != 0 {
			t.Errorf("%s: %d bytes written", name, b.Len())
		}
	}
	// A blank page (a whiteboard without a document) is fine.
	var b bytes.Buffer
	if err := ExportPDF(&b, page(Text{Text: "only text"})); err != nil {
		t.Fatal(err)
	}
}
