package render

import (
	"bufio"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"io"
)

// encodePNG writes an opaque RGBA image as an 8-bit PNG, greyscale when
// every pixel is grey (text pages: a third of the data) and RGB
// otherwise, with one filter for every row (Up; the first row has none
// above it and uses Sub). image/png instead tries all five filters on
// every row and keeps the best, which was 40 % of the time of a whole
// page here (rendering included) for files only 10 % smaller: page
// images are mostly flat areas, where Up leaves runs of zeros that
// deflate to almost nothing.
func encodePNG(w io.Writer, img *image.RGBA) error {
	b := img.Bounds()
	width, height := b.Dx(), b.Dy()
	row := func(y int) []byte {
		return img.Pix[(y+b.Min.Y-img.Rect.Min.Y)*img.Stride+(b.Min.X-img.Rect.Min.X)*4:][:4*width]
	}
	gray := true
	for y := 0; y < height && gray; y++ {
		pix := row(y)
		for i := 0; i < len(pix); i += 4 {
			if pix[i] != pix[i+1] || pix[i] != pix[i+2] {
				gray = false
				break
			}
		}
	}
	bpp := 3 // bytes per pixel
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("\x89PNG\r\n\x1a\n")
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(width))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(height))
	ihdr[8], ihdr[9] = 8, 2 // 8 bits, truecolour; compression, filter, interlace 0
	if gray {
		ihdr[9], bpp = 0, 1
	}
	writeChunk(bw, "IHDR", ihdr[:])

	idat := &chunkWriter{w: bw, typ: "IDAT", buf: make([]byte, 0, 32<<10)}
	zw, err := zlib.NewWriterLevel(idat, zlib.BestSpeed)
	if err != nil {
		return err
	}
	rowLen := 1 + bpp*width
	prev := make([]byte, rowLen) // previous row, RGB, unfiltered
	cur := make([]byte, rowLen)
	out := make([]byte, rowLen)
	for y := range height {
		pix := row(y)
		if gray {
			for x := range width {
				cur[1+x] = pix[4*x]
			}
		} else {
			for x := range width {
				copy(cur[1+3*x:1+3*x+3], pix[4*x:4*x+3])
			}
		}
		if y == 0 {
			out[0] = 1 // Sub
			for i := 1; i < rowLen; i++ {
				left := byte(0)
				if i > bpp {
					left = cur[i-bpp]
				}
				out[i] = cur[i] - left
			}
		} else {
			out[0] = 2 // Up
			for i := 1; i < rowLen; i++ {
				out[i] = cur[i] - prev[i]
			}
		}
		if _, err := zw.Write(out); err != nil {
			return err
		}
		prev, cur = cur, prev
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := idat.flush(); err != nil {
		return err
	}
	writeChunk(bw, "IEND", nil)
	return bw.Flush()
}

// writeChunk writes one PNG chunk: length, type, data, CRC.
func writeChunk(w *bufio.Writer, typ string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	w.Write(n[:])
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	w.WriteString(typ)
	w.Write(data)
	binary.BigEndian.PutUint32(n[:], crc.Sum32())
	w.Write(n[:])
}

// chunkWriter cuts what is written to it into chunks of its type.
type chunkWriter struct {
	w   *bufio.Writer
	typ string
	buf []byte
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), cap(c.buf)-len(c.buf))
		c.buf = append(c.buf, p[:k]...)
		p = p[k:]
		if len(c.buf) == cap(c.buf) {
			if err := c.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (c *chunkWriter) flush() error {
	if len(c.buf) > 0 {
		writeChunk(c.w, c.typ, c.buf)
		c.buf = c.buf[:0]
	}
	return nil
}
