package present

import (
	"context"
	"fmt"
	"io"

	"aula/render"
	"aula/room"
)

// Export writes a document of a running meeting with its whiteboard
// drawings as a PDF to w, made now and never stored (the moderator's
// "download with annotations").
func (s *Service) Export(ctx context.Context, w io.Writer, key, id string) error {
	doc, err := s.mgr.PresentationDoc(key, id)
	if err != nil {
		return err
	}
	if doc.Status != room.DocReady {
		return fmt.Errorf("%w: the document is not ready", room.ErrInvalid)
	}
	pages := make([]render.ExportPage, len(doc.Pages))
	for i, ps := range doc.Pages {
		if err := ctx.Err(); err != nil {
			return err
		}
		p := render.ExportPage{Width: ps.W, Height: ps.H}
		if id != room.BlankDeck {
			if p.Image, err = s.files.Path(key, PagePath(id, fmt.Sprintf("page-%04d-w%d.png", i+1, render.DefaultWidths[0]))); err != nil {
				return err
			}
		}
		shapes, err := s.mgr.Shapes(key, room.PageRef{Doc: id, Page: i + 1})
		if err != nil {
			return err
		}
		for _, sh := range shapes {
			if a := annotation(sh, ps); a != nil {
				p.Annotations = append(p.Annotations, a)
			}
		}
		pages[i] = p
	}
	return render.ExportPDF(w, pages)
}

// annotation maps a whiteboard shape (fractions of the page) onto the
// page's points.
func annotation(s room.Shape, ps room.PageSize) render.Annotation {
	pt := func(p room.Point) [2]float64 { return [2]float64{p[0] * ps.W, p[1] * ps.H} }
	st := render.Style{Color: s.Color, Width: s.Width * ps.W}
	switch s.Kind {
	case room.ShapePen, room.ShapeHighlighter:
		if s.Kind == room.ShapeHighlighter {
			st.Opacity = 0.35
		}
		pts := make([][2]float64, len(s.Points))
		for i, p := range s.Points {
			pts[i] = pt(p)
		}
		return render.Stroke{Style: st, Points: pts}
	case room.ShapeLine:
		return render.Line{Style: st, From: pt(s.Points[0]), To: pt(s.Points[1])}
	case room.ShapeArrow:
		return render.Arrow{Style: st, From: pt(s.Points[0]), To: pt(s.Points[1])}
	case room.ShapeRect, room.ShapeEllipse:
		a, b := pt(s.Points[0]), pt(s.Points[1])
		if s.Kind == room.ShapeRect {
			return render.Rect{Style: st, X: a[0], Y: a[1], W: b[0] - a[0], H: b[1] - a[1]}
		}
		return render.Ellipse{Style: st, X: a[0], Y: a[1], W: b[0] - a[0], H: b[1] - a[1]}
	case room.ShapeText:
		a := pt(s.Points[0])
		return render.Text{Style: render.Style{Color: s.Color}, X: a[0], Y: a[1], Size: s.Size * ps.H, Text: s.Text}
	}
	return nil
}
