package render

import (
	"fmt"
	"io"

	"github.com/go-pdf/fpdf"
)

// A text document as a PDF (the shared notes' export): headings,
// paragraphs and list items with bold and italic runs, set on A4 pages,
// made on request and streamed, never stored.

// TextRun is a piece of text in one style.
type TextRun struct {
	Text         string
	Bold, Italic bool
}

// TextBlock is a heading (Level 1 to 3), a paragraph (Level 0) or, with
// Bullet set ("•", "1." …), a list item.
type TextBlock struct {
	Level  int
	Bullet string
	Runs   []TextRun
}

// TextPDF writes title and blocks as an A4 PDF to w. Like the drawings'
// export it uses PDF's standard fonts: characters outside Windows-1252
// come out as ".".
func TextPDF(w io.Writer, title string, blocks []TextBlock) error {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetProducer("Aula", true)
	pdf.SetTitle(title, true)
	pdf.SetMargins(20, 20, 20)
	pdf.SetAutoPageBreak(true, 20)
	tr := pdf.UnicodeTranslatorFromDescriptor("") // cp1252
	pdf.AddPage()
	if title != "" {
		pdf.SetFont("Helvetica", "B", 18)
		pdf.MultiCell(0, 8, tr(title), "", "L", false)
		pdf.Ln(4)
	}
	for _, b := range blocks {
		size, lead := 11.0, 5.5
		switch b.Level {
		case 1:
			size, lead = 16, 8
		case 2:
			size, lead = 14, 7
		case 3:
			size, lead = 12, 6
		}
		if b.Level > 0 {
			pdf.Ln(2)
		}
		left := 20.0
		if b.Bullet != "" {
			pdf.SetFont("Helvetica", "", size)
			pdf.SetX(left + 2)
			pdf.Write(lead, tr(b.Bullet+" "))
		}
		for _, r := range b.Runs {
			style := ""
			if r.Bold || b.Level > 0 {
				style += "B"
			}
			if r.Italic {
				style += "I"
			}
			pdf.SetFont("Helvetica", style, size)
			pdf.Write(lead, tr(r.Text))
		}
		pdf.Ln(lead + 1)
		if err := pdf.Error(); err != nil {
			return fmt.Errorf("render: text PDF: %w", err)
		}
	}
	return pdf.Output(w)
}
