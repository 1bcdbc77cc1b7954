package render

import (
	"image"
	"image/draw"
	"math"
)

// scale returns src scaled to dw × dh (both no larger than src) by area
// averaging: each output pixel is the mean of the source pixels it
// covers, weighted by how much of each it covers. That is the right
// filter for shrinking (no aliasing on text and line art) and needs no
// dependency. Rows are streamed, so the memory is a few rows, not a copy
// of the source; transparent pixels are flattened on white on the way.
func scale(src image.Image, dw, dh int) *image.RGBA {
	b := src.Bounds()
	sw, sh := b.Dx(), b.Dy()
	if rgba, ok := src.(*image.RGBA); ok && sw == dw && sh == dh && rgba.Opaque() && b.Min == (image.Point{}) {
		return rgba
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	hs, vs := boxWeights(sw, dw), boxWeights(sh, dh)
	row := image.NewRGBA(image.Rect(0, 0, sw, 1))
	hrow := make([]float32, dw*3) // source row `cached`, scaled across
	acc := make([]float32, dw*3)
	cached := -1
	load := func(sy int) {
		if sy == cached {
			return
		}
		cached = sy
		// draw.Draw has fast paths from the decoders' types (YCbCr,
		// NRGBA, Gray, RGBA) into RGBA; one row at a time.
		draw.Draw(row, row.Bounds(), src, image.Pt(b.Min.X, b.Min.Y+sy), draw.Src)
		pix := row.Pix
		for x, sp := range hs {
			var r, g, bl float32
			for k, w := range sp.w {
				i := (sp.start + k) * 4
				// Premultiplied colour over white: c + (255 − alpha).
				white := float32(255 - pix[i+3])
				r += w * (float32(pix[i]) + white)
				g += w * (float32(pix[i+1]) + white)
				bl += w * (float32(pix[i+2]) + white)
			}
			hrow[x*3], hrow[x*3+1], hrow[x*3+2] = r, g, bl
		}
	}
	for y, sp := range vs {
		clear(acc)
		for k, w := range sp.w {
			load(sp.start + k)
			for i, v := range hrow {
				acc[i] += w * v
			}
		}
		out := dst.Pix[y*dst.Stride:]
		for x := range dw {
			out[x*4] = clamp8(acc[x*3])
			out[x*4+1] = clamp8(acc[x*3+1])
			out[x*4+2] = clamp8(acc[x*3+2])
			out[x*4+3] = 255
		}
	}
	return dst
}

// span is the run of source pixels one output pixel covers, with the
// share of each (they sum to 1).
type span struct {
	start int
	w     []float32
}

// boxWeights maps sn source pixels onto dn ≤ sn output pixels.
func boxWeights(sn, dn int) []span {
	spans := make([]span, dn)
	ratio := float64(sn) / float64(dn)
	for d := range spans {
		lo, hi := float64(d)*ratio, float64(d+1)*ratio
		s0 := int(math.Floor(lo))
		s1 := min(int(math.Ceil(hi)), sn)
		sp := span{start: s0, w: make([]float32, 0, s1-s0)}
		for s := s0; s < s1; s++ {
			cover := math.Min(hi, float64(s+1)) - math.Max(lo, float64(s))
			sp.w = append(sp.w, float32(cover/ratio))
		}
		spans[d] = sp
	}
	return spans
}

func clamp8(v float32) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}

// orientImage turns img upright by its EXIF orientation (1–8; 1 is
// upright already).
func orientImage(img *image.RGBA, orient int) *image.RGBA {
	if orient < 2 || orient > 8 {
		return img
	}
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	ow, oh := w, h
	if orient >= 5 {
		ow, oh = h, w
	}
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	for y := range oh {
		for x := range ow {
			var sx, sy int
			switch orient {
			case 2: // mirrored
				sx, sy = w-1-x, y
			case 3: // upside down
				sx, sy = w-1-x, h-1-y
			case 4: // mirrored upside down
				sx, sy = x, h-1-y
			case 5: // transposed
				sx, sy = y, x
			case 6: // needs a quarter turn clockwise
				sx, sy = y, h-1-x
			case 7: // transversed
				sx, sy = w-1-y, h-1-x
			case 8: // needs a quarter turn anticlockwise
				sx, sy = w-1-y, x
			}
			copy(out.Pix[y*out.Stride+x*4:][:4], img.Pix[sy*img.Stride+sx*4:][:4])
		}
	}
	return out
}
