package render

import (
	"context"
	"image/color"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"aula/internal/testenv"
)

// The figures in docs/performance.md, "Document conversion", come from
//
//	go test -run '^$' -bench . -benchtime 5x ./render/
//
// at the production widths (1920 and 960 pixels and a 240-pixel
// thumbnail). Run BenchmarkStartup alone (-bench Startup -benchtime 1x)
// for the cold compile of pdfium: every later Renderer in the process
// finds the compiled code in wasmCache.

// benchRenderer is a Renderer with the production widths.
func benchRenderer(b *testing.B, workers int) *Renderer {
	b.Helper()
	r := newRenderer(b, Config{Workers: workers, Widths: DefaultWidths, ThumbWidth: DefaultThumbWidth,
		Logger: discardLogger()})
	<-r.ready
	return r
}

// benchConvert converts src b.N times and reports the time per page.
func benchConvert(b *testing.B, r *Renderer, src string, kind Kind) {
	b.Helper()
	dir := b.TempDir()
	pages := 0
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := range b.N {
		doc, err := r.Convert(context.Background(), src, kind, filepath.Join(dir, strconv.Itoa(i)), nil)
		if err != nil {
			b.Fatal(err)
		}
		pages += len(doc.Pages)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(pages), "ms/page")
	// CPU time tells the cost apart from how busy the machine was.
	b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(pages), "cpu-ms/page")
	b.ReportMetric(peakRSS(), "MB-peak-RSS")
	// What a client downloads: every size of a page and its thumbnail.
	var bytes int64
	files, _ := filepath.Glob(filepath.Join(dir, "0", "page-*.png"))
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			bytes += st.Size()
		}
	}
	b.ReportMetric(float64(bytes)/1024/float64(pages/b.N), "KB-files/page")
}

// BenchmarkConvertPDF50 is a 50-page text document (lecture notes) on
// every core, and on one.
func BenchmarkConvertPDF50(b *testing.B) {
	src := writeFile(b, "notes.pdf", textPDF(b, 50))
	b.Run("workers=all", func(b *testing.B) { benchConvert(b, benchRenderer(b, 0), src, KindPDF) })
	b.Run("workers=1", func(b *testing.B) { benchConvert(b, benchRenderer(b, 1), src, KindPDF) })
}

// BenchmarkConvertSlides20 is 20 full-colour slides with large text.
func BenchmarkConvertSlides20(b *testing.B) {
	src := writeFile(b, "slides.pdf", colorPDF(b, 20))
	benchConvert(b, benchRenderer(b, 0), src, KindPDF)
}

// BenchmarkConvertPhoto is a 12-megapixel JPEG (4000 × 3000).
func BenchmarkConvertPhoto(b *testing.B) {
	img := solid(4000, 3000, color.NRGBA{90, 140, 200, 255})
	for y := range 3000 {
		for x := range 4000 {
			if (x/40+y/40)%2 == 0 {
				img.SetNRGBA(x, y, color.NRGBA{240, 200, 60, 255})
			}
		}
	}
	src := writeFile(b, "photo.jpg", jpegBytes(b, img))
	benchConvert(b, benchRenderer(b, 0), src, KindJPEG)
}

// BenchmarkConvertOffice is a one-page DOCX through LibreOffice.
func BenchmarkConvertOffice(b *testing.B) {
	soffice := testenv.Tool(b, "soffice")
	r := newRenderer(b, Config{Soffice: soffice, Widths: DefaultWidths, ThumbWidth: DefaultThumbWidth, Logger: discardLogger()})
	<-r.ready
	benchConvert(b, r, writeFile(b, "d.docx", docx(b, "Aula benchmark", "A second paragraph")), KindOffice)
}

// BenchmarkStartup is New until pdfium is ready: the first iteration in a
// process compiles the WebAssembly module, later ones reuse it.
func BenchmarkStartup(b *testing.B) {
	for range b.N {
		start := time.Now()
		r, err := New(Config{Logger: discardLogger()})
		if err != nil {
			b.Fatal(err)
		}
		<-r.ready
		b.ReportMetric(float64(time.Since(start).Milliseconds()), "ms-last-start")
		r.Close()
	}
}

// cpuTime is the CPU time (user and system) the process has used so far;
// LibreOffice's, a child process, is not in it.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS is the process's peak resident memory in MB (Linux), 0 where
// unknown.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}
