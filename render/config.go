package render

import (
	"fmt"
	"log/slog"
	"os/exec"
	"runtime"
	"slices"
	"time"
)

// Config sets the converter's limits. The zero value of every field means
// its default.
type Config struct {
	// Workers is how many pages are drawn at once, over all documents;
	// at most runtime.NumCPU() (the default), since drawing is CPU-bound.
	Workers int
	// MaxPages refuses a document with more pages, whole (default 200,
	// as BigBlueButton).
	MaxPages int
	// MaxBytes refuses a larger file (default 30 MiB, as BigBlueButton).
	MaxBytes int64
	// DocTimeout bounds one document's conversion, LibreOffice included
	// (default 2 minutes).
	DocTimeout time.Duration
	// PageTimeout bounds drawing one page at every width (default 20 s).
	PageTimeout time.Duration
	// MemoryLimit caps the memory of one pdfium instance (its WebAssembly
	// linear memory), in bytes, rounded down to 64 KiB pages; at most
	// 4 GiB, the WebAssembly maximum, and at least 32 MiB (pdfium itself
	// takes 18); default 512 MiB. A page that needs more is ErrCorrupt.
	// At most Workers instances run at once.
	MemoryLimit uint64
	// Widths are the page image sizes in pixels, each page drawn at
	// every one (default 1920 and 960): the image fits in a square of
	// that side, so a landscape slide is that wide and a portrait page
	// that high (a screen shows it whole either way). An uploaded
	// picture is never scaled up.
	Widths []int
	// ThumbWidth is the size of each page's thumbnail, fitted the same
	// way (default 240).
	ThumbWidth int
	// Soffice is LibreOffice's soffice program. Empty looks it up on PATH
	// at New; if it is not found (or the given path is not there), Office
	// documents are refused with ErrNoOffice.
	Soffice string
	// Logger receives the conversion log (default slog.Default()).
	Logger *slog.Logger
}

// Defaults and bounds.
const (
	DefaultMaxPages    = 200
	DefaultMaxBytes    = 30 << 20
	DefaultDocTimeout  = 2 * time.Minute
	DefaultPageTimeout = 20 * time.Second
	DefaultMemoryLimit = 512 << 20
	DefaultThumbWidth  = 240
	// MaxWidth is the widest page image: 4K screens.
	MaxWidth = 3840
	// maxImagePixels bounds an uploaded picture (decompression bombs):
	// 50 megapixels, more than any phone camera.
	maxImagePixels = 50_000_000
	wasmPage       = 64 << 10
	// pdfium's module starts with 18 MiB; a 1920-pixel page needs 10 more.
	minMemory = 32 << 20
	maxMemory = 4 << 30
)

// DefaultWidths are the page image widths when Config.Widths is empty.
var DefaultWidths = []int{1920, 960}

// withDefaults fills in the defaults and checks the rest.
func (c Config) withDefaults() (Config, error) {
	cpus := runtime.NumCPU()
	if c.Workers <= 0 || c.Workers > cpus {
		c.Workers = cpus
	}
	if c.MaxPages <= 0 {
		c.MaxPages = DefaultMaxPages
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.DocTimeout <= 0 {
		c.DocTimeout = DefaultDocTimeout
	}
	if c.PageTimeout <= 0 {
		c.PageTimeout = DefaultPageTimeout
	}
	if c.MemoryLimit == 0 {
		c.MemoryLimit = DefaultMemoryLimit
	}
	if c.MemoryLimit < minMemory || c.MemoryLimit > maxMemory {
		return c, fmt.Errorf("render: MemoryLimit %d is outside 32 MiB–4 GiB", c.MemoryLimit)
	}
	if len(c.Widths) == 0 {
		c.Widths = DefaultWidths
	}
	c.Widths = slices.Clone(c.Widths)
	slices.Sort(c.Widths)
	c.Widths = slices.Compact(c.Widths)
	for _, w := range c.Widths {
		if w < 16 || w > MaxWidth {
			return c, fmt.Errorf("render: width %d is outside 16–%d", w, MaxWidth)
		}
	}
	if c.ThumbWidth <= 0 {
		c.ThumbWidth = DefaultThumbWidth
	}
	if c.ThumbWidth < 16 || c.ThumbWidth > MaxWidth {
		return c, fmt.Errorf("render: thumbnail width %d is outside 16–%d", c.ThumbWidth, MaxWidth)
	}
	if c.Soffice == "" {
		c.Soffice, _ = exec.LookPath("soffice")
	} else if p, err := exec.LookPath(c.Soffice); err == nil {
		c.Soffice = p
	} else {
		// A configured path that is not there is the same as none: the
		// server still runs and Office documents get ErrNoOffice.
		c.Soffice = ""
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}
