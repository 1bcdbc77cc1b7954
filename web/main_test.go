package web

import (
	"log/slog"
	"os"
	"testing"

	"aula/render"
)

// conv is the document converter the package's tests share: compiling
// pdfium's WebAssembly takes seconds, once.
var conv *render.Renderer

func TestMain(m *testing.M) {
	var err error
	conv, err = render.New(render.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	code := m.Run()
	conv.Close()
	os.Exit(code)
}
