// Package static is Aula's browser client, embedded in the binary: plain
// ES modules with no build step and no third-party code, served by package
// web with a strict Content-Security-Policy (no inline script or style).
package static

import "embed"

// FS holds index.html, favicon.svg, css/, js/ and i18n/ (the translation catalogues,
// one JSON file per language, which the server's own pages use too) at
// its root.
//
//go:embed index.html favicon.svg css js i18n
var FS embed.FS
