package render

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"
)

// TestEncodePNG: the page image encoder round-trips through image/png,
// in colour and in grey, also for a sub-image.
func TestEncodePNG(t *testing.T) {
	colour := scale(solid(37, 23, color.NRGBA{10, 20, 30, 255}), 37, 23)
	colour.SetRGBA(5, 5, color.RGBA{200, 100, 50, 255})
	grey := scale(solid(41, 19, color.White), 41, 19)
	grey.SetRGBA(40, 18, color.RGBA{7, 7, 7, 255})
	sub := colour.SubImage(image.Rect(3, 4, 20, 15)).(*image.RGBA)
	for name, c := range map[string]struct {
		img   *image.RGBA
		model color.Model
	}{
		"colour": {colour, color.RGBAModel},
		"grey":   {grey, color.GrayModel},
		"sub":    {sub, color.RGBAModel},
	} {
		var b bytes.Buffer
		if err := encodePNG(&b, c.img); err != nil {
			t.Fatal(err)
		}
		back, err := png.Decode(&b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if back.ColorModel() != c.model {
			t.Errorf("%s: colour model %v", name, back.ColorModel())
		}
		bb, ib := back.Bounds(), c.img.Bounds()
		if bb.Size() != ib.Size() {
			t.Fatalf("%s: size %v, want %v", name, bb.Size(), ib.Size())
		}
		for y := range ib.Dy() {
			for x := range ib.Dx() {
				r1, g1, b1, _ := c.img.At(ib.Min.X+x, ib.Min.Y+y).RGBA()
				r2, g2, b2, _ := back.At(x, y).RGBA()
				if r1 != r2 || g1 != g2 || b1 != b2 {
					t.Fatalf("%s: pixel %d,%d differs", name, x, y)
				}
			}
		}
	}
}
