package render

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
)

// A picture (PNG or JPEG) becomes a one-page document: decoded by Go's
// memory-safe decoders (no sandbox needed), turned upright by its EXIF
// orientation, flattened on white, scaled down to each width and written
// as a new PNG. Nothing of the original file (metadata, location, camera
// serial numbers, extra chunks) survives.

// renderImage converts the picture at src into stage.
func (r *Renderer) renderImage(ctx context.Context, src string, kind Kind, stage string, progress func(done, total int)) (*Document, error) {
	if err := r.acquire(ctx); err != nil {
		return nil, err
	}
	defer r.release()
	f, err := os.Open(src)
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	defer f.Close()

	decodeConfig, decode := png.DecodeConfig, png.Decode
	if kind == KindJPEG {
		decodeConfig, decode = jpeg.DecodeConfig, jpeg.Decode
	}
	// The header first: a 100 000 × 100 000 picture compresses to a few
	// kilobytes and would need 40 GB decoded.
	cfg, err := decodeConfig(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrCorrupt, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%w (the picture has no pixels)", ErrCorrupt)
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxImagePixels {
		return nil, fmt.Errorf("%w: the picture has %d × %d pixels, at most %d megapixels are allowed",
			ErrTooLarge, cfg.Width, cfg.Height, maxImagePixels/1_000_000)
	}
	orient := 1
	if kind == KindJPEG {
		orient = jpegOrientation(f)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	progress(0, 1)
	img, err := decode(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrCorrupt, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// Sizes after turning the picture upright.
	b := img.Bounds()
	uw, uh := b.Dx(), b.Dy()
	if orient >= 5 {
		uw, uh = uh, uw
	}
	files, thumb := r.pageNames(0)
	page := Page{Width: float64(uw) * 0.75, Height: float64(uh) * 0.75, Files: files, Thumb: thumb}

	// Largest first: each smaller image is scaled from the one before,
	// which costs a fraction of scaling from the original again.
	widths := append([]int{r.cfg.ThumbWidth}, r.cfg.Widths...)
	names := append([]string{thumb}, make([]string, len(r.cfg.Widths))...)
	for i, w := range r.cfg.Widths {
		names[i+1] = files[w]
	}
	sortDesc(widths, names)
	var prev *image.RGBA
	for i, w := range widths {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		dw, dh := fit(uw, uh, w)
		if orient >= 5 {
			dw, dh = dh, dw // scale first, then turn
		}
		var out *image.RGBA
		if prev == nil {
			out = scale(img, dw, dh)
		} else {
			out = scale(prev, dw, dh)
		}
		prev = out
		if err := writePNG(filepath.Join(stage, names[i]), orientImage(out, orient)); err != nil {
			return nil, err
		}
	}
	progress(1, 1)
	return &Document{Pages: []Page{page}}, nil
}

// fit returns the size of a w × h picture scaled to fit in a box of
// size × size pixels, never larger than it is.
func fit(w, h, size int) (int, int) {
	if w <= size && h <= size {
		return w, h
	}
	if w >= h {
		return size, max(1, int((int64(h)*int64(size)+int64(w)/2)/int64(w)))
	}
	return max(1, int((int64(w)*int64(size)+int64(h)/2)/int64(h))), size
}

// sortDesc sorts widths from the largest, keeping names in step.
func sortDesc(widths []int, names []string) {
	for i := 1; i < len(widths); i++ {
		for j := i; j > 0 && widths[j] > widths[j-1]; j-- {
			widths[j], widths[j-1] = widths[j-1], widths[j]
			names[j], names[j-1] = names[j-1], names[j]
		}
	}
}

// writePNG writes img as a new file (0600), flattened on white if it has
// transparency; a failed write leaves no file.
func writePNG(path string, img image.Image) (err error) {
	rgba, ok := img.(*image.RGBA)
	if !ok || !rgba.Opaque() {
		rgba = onWhite(img)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("render: %w", cerr)
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	if err := encodePNG(f, rgba); err != nil {
		return fmt.Errorf("render: write page image: %w", err)
	}
	return nil
}

// onWhite draws img over an opaque white background.
func onWhite(img image.Image) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(out, out.Bounds(), img, b.Min, draw.Over)
	return out
}
