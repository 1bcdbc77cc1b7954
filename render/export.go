package render

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/go-pdf/fpdf"
)

// The presenter's "download with annotations": the page images with the
// whiteboard drawn over them as vectors, one PDF page per page, made on
// request and streamed to the caller, never stored.

// ExportPage is one page of an export.
type ExportPage struct {
	// Image is the path of the page image (a PNG or JPEG, e.g. a file
	// Convert wrote); "" gives a white page (a whiteboard without a
	// document).
	Image string
	// Width and Height are the page size in points (Page.Width and
	// Page.Height), the coordinate space of the annotations: origin top
	// left, y downwards. At most 14400 (PDF's limit).
	Width, Height float64
	// Annotations are drawn in order over the image.
	Annotations []Annotation
}

// Annotation is a vector drawing on a page: Stroke, Line, Arrow, Rect,
// Ellipse or Text. The lead's whiteboard shapes map onto these.
type Annotation interface {
	draw(pdf *fpdf.Fpdf, tr func(string) string) error
}

// Style is how an annotation is drawn. Zero values mean the default.
type Style struct {
	// Color is "#rrggbb" (default black).
	Color string
	// Width is the line width in points (default 2).
	Width float64
	// Opacity is 0 to 1; 0 means the default, opaque (a shape meant to
	// be invisible is better left out).
	Opacity float64
}

// Stroke is a freehand line through Points.
type Stroke struct {
	Style
	Points [][2]float64
}

// Line is a straight line.
type Line struct {
	Style
	From, To [2]float64
}

// Arrow is a straight line with a head at To.
type Arrow struct {
	Style
	From, To [2]float64
}

// Rect is a rectangle with its top-left corner at X, Y (a negative W or H
// extends it left or up). Fill, "#rrggbb", fills it; "" draws only its
// outline.
type Rect struct {
	Style
	X, Y, W, H float64
	Fill       string
}

// Ellipse is the ellipse inside the box X, Y, W, H; Fill as for Rect.
type Ellipse struct {
	Style
	X, Y, W, H float64
	Fill       string
}

// Text is text whose first line's top-left corner is X, Y, in Size
// points (default 16), in Helvetica; lines are split at "\n". Style.Width
// does not apply. Characters outside Windows-1252 (most of Latin
// scripts: German, French, Spanish … are in) are written as ".": the
// PDF's standard fonts have no others.
type Text struct {
	Style
	X, Y, Size float64
	Text       string
}

// maxPageSide is PDF's largest page side in points.
const maxPageSide = 14400

// ExportPDF writes a PDF of pages to w. A page that cannot be drawn
// (ErrInvalid: no size, a bad colour, a number that is not finite; or an
// image that cannot be read) fails the whole export before anything is
// written.
func ExportPDF(w io.Writer, pages []ExportPage) error {
	if len(pages) == 0 {
		return fmt.Errorf("%w: no pages", ErrInvalid)
	}
	pdf := fpdf.NewCustom(&fpdf.InitType{
		UnitStr: "pt",
		Size:    fpdf.SizeType{Wd: pages[0].Width, Ht: pages[0].Height},
	})
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetMargins(0, 0, 0)
	pdf.SetProducer("Aula", true)
	tr := pdf.UnicodeTranslatorFromDescriptor("") // cp1252
	for i, p := range pages {
		if !finite(p.Width, p.Height) || p.Width < 1 || p.Height < 1 || p.Width > maxPageSide || p.Height > maxPageSide {
			return fmt.Errorf("%w: page %d is %v × %v points", ErrInvalid, i+1, p.Width, p.Height)
		}
		pdf.AddPageFormat("P", fpdf.SizeType{Wd: p.Width, Ht: p.Height})
		if p.Image != "" {
			if err := placeImage(pdf, i, p); err != nil {
				return err
			}
		}
		for j, a := range p.Annotations {
			if a == nil {
				continue
			}
			if err := a.draw(pdf, tr); err != nil {
				return fmt.Errorf("page %d, drawing %d: %w", i+1, j+1, err)
			}
			pdf.SetAlpha(1, "Normal")
		}
		if err := pdf.Error(); err != nil {
			return fmt.Errorf("render: export page %d: %w", i+1, err)
		}
	}
	return pdf.Output(w)
}

// placeImage draws the page image over the whole page.
func placeImage(pdf *fpdf.Fpdf, i int, p ExportPage) error {
	data, err := os.ReadFile(p.Image)
	if err != nil {
		return fmt.Errorf("render: export page %d: %w", i+1, err)
	}
	typ := ""
	switch {
	case bytes.HasPrefix(data, magicPNG):
		typ = "PNG"
	case bytes.HasPrefix(data, magicJPEG):
		typ = "JPG"
	default:
		return fmt.Errorf("%w: page %d's image is not a PNG or JPEG", ErrInvalid, i+1)
	}
	name := "page" + strconv.Itoa(i)
	opt := fpdf.ImageOptions{ImageType: typ}
	pdf.RegisterImageOptionsReader(name, opt, bufio.NewReader(bytes.NewReader(data)))
	pdf.ImageOptions(name, 0, 0, p.Width, p.Height, false, opt, 0, "")
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("%w: page %d's image: %v", ErrInvalid, i+1, err)
	}
	return nil
}

// apply sets the line colour, width and opacity of s (fill colour too,
// for heads and dots).
func (s Style) apply(pdf *fpdf.Fpdf) error {
	r, g, b, err := parseColor(s.Color)
	if err != nil {
		return err
	}
	width := s.Width
	if width == 0 {
		width = 2
	}
	op := s.Opacity
	if op == 0 {
		op = 1
	}
	if !finite(width, op) || width < 0 || op < 0 || op > 1 {
		return fmt.Errorf("%w: width %v, opacity %v", ErrInvalid, s.Width, s.Opacity)
	}
	pdf.SetDrawColor(r, g, b)
	pdf.SetFillColor(r, g, b)
	pdf.SetTextColor(r, g, b)
	pdf.SetLineWidth(width)
	pdf.SetLineCapStyle("round")
	pdf.SetLineJoinStyle("round")
	pdf.SetAlpha(op, "Normal")
	return nil
}

func (s Stroke) draw(pdf *fpdf.Fpdf, _ func(string) string) error {
	if len(s.Points) == 0 {
		return nil
	}
	for _, p := range s.Points {
		if !finite(p[0], p[1]) {
			return fmt.Errorf("%w: a point is not a number", ErrInvalid)
		}
	}
	if err := s.apply(pdf); err != nil {
		return err
	}
	if len(s.Points) == 1 { // a dot
		w := s.Width
		if w == 0 {
			w = 2
		}
		pdf.Circle(s.Points[0][0], s.Points[0][1], w/2, "F")
		return nil
	}
	pdf.MoveTo(s.Points[0][0], s.Points[0][1])
	for _, p := range s.Points[1:] {
		pdf.LineTo(p[0], p[1])
	}
	pdf.DrawPath("D")
	return nil
}

func (l Line) draw(pdf *fpdf.Fpdf, _ func(string) string) error {
	if !finite(l.From[0], l.From[1], l.To[0], l.To[1]) {
		return fmt.Errorf("%w: a point is not a number", ErrInvalid)
	}
	if err := l.apply(pdf); err != nil {
		return err
	}
	pdf.Line(l.From[0], l.From[1], l.To[0], l.To[1])
	return nil
}

func (a Arrow) draw(pdf *fpdf.Fpdf, tr func(string) string) error {
	if err := (Line{a.Style, a.From, a.To}).draw(pdf, tr); err != nil {
		return err
	}
	dx, dy := a.To[0]-a.From[0], a.To[1]-a.From[1]
	length := math.Hypot(dx, dy)
	if length == 0 {
		return nil
	}
	w := a.Width
	if w == 0 {
		w = 2
	}
	// A head of 4 line widths (at least 8 points), 25° to either side.
	head := math.Max(4*w, 8)
	angle := math.Atan2(dy, dx)
	pt := func(turn float64) fpdf.PointType {
		return fpdf.PointType{
			X: a.To[0] - head*math.Cos(angle+turn),
			Y: a.To[1] - head*math.Sin(angle+turn),
		}
	}
	const spread = 25 * math.Pi / 180
	pdf.Polygon([]fpdf.PointType{{X: a.To[0], Y: a.To[1]}, pt(spread), pt(-spread)}, "DF")
	return nil
}

// box normalises a box with a negative side and checks it.
func box(x, y, w, h float64) (float64, float64, float64, float64, error) {
	if !finite(x, y, w, h) {
		return 0, 0, 0, 0, fmt.Errorf("%w: a box is not a number", ErrInvalid)
	}
	if w < 0 {
		x, w = x+w, -w
	}
	if h < 0 {
		y, h = y+h, -h
	}
	return x, y, w, h, nil
}

// fillStyle sets the fill colour and returns fpdf's style string.
func fillStyle(pdf *fpdf.Fpdf, fill string) (string, error) {
	if fill == "" {
		return "D", nil
	}
	r, g, b, err := parseColor(fill)
	if err != nil {
		return "", err
	}
	pdf.SetFillColor(r, g, b)
	return "DF", nil
}

func (s Rect) draw(pdf *fpdf.Fpdf, _ func(string) string) error {
	x, y, w, h, err := box(s.X, s.Y, s.W, s.H)
	if err != nil {
		return err
	}
	if err := s.apply(pdf); err != nil {
		return err
	}
	style, err := fillStyle(pdf, s.Fill)
	if err != nil {
		return err
	}
	pdf.Rect(x, y, w, h, style)
	return nil
}

func (e Ellipse) draw(pdf *fpdf.Fpdf, _ func(string) string) error {
	x, y, w, h, err := box(e.X, e.Y, e.W, e.H)
	if err != nil {
		return err
	}
	if err := e.apply(pdf); err != nil {
		return err
	}
	style, err := fillStyle(pdf, e.Fill)
	if err != nil {
		return err
	}
	pdf.Ellipse(x+w/2, y+h/2, w/2, h/2, 0, style)
	return nil
}

func (t Text) draw(pdf *fpdf.Fpdf, tr func(string) string) error {
	size := t.Size
	if size == 0 {
		size = 16
	}
	if !finite(t.X, t.Y, size) || size < 0 || size > 1000 {
		return fmt.Errorf("%w: text at %v, %v in %v points", ErrInvalid, t.X, t.Y, t.Size)
	}
	if err := t.apply(pdf); err != nil {
		return err
	}
	pdf.SetFont("Helvetica", "", size)
	for i, line := range strings.Split(t.Text, "\n") {
		// pdf.Text places the baseline; Helvetica's ascent is 0.718 em.
		pdf.Text(t.X, t.Y+size*0.718+float64(i)*size*1.2, tr(line))
	}
	return nil
}

// parseColor reads "#rrggbb"; "" is black.
func parseColor(c string) (int, int, int, error) {
	if c == "" {
		return 0, 0, 0, nil
	}
	if len(c) != 7 || c[0] != '#' {
		return 0, 0, 0, fmt.Errorf("%w: colour %q is not #rrggbb", ErrInvalid, c)
	}
	v, err := strconv.ParseUint(c[1:], 16, 32)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("%w: colour %q is not #rrggbb", ErrInvalid, c)
	}
	return int(v >> 16), int(v >> 8 & 0xff), int(v & 0xff), nil
}

func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}
