// Package static is Aula's browser client, embedded in the binary: plain
// ES modules with no build step and no third-party code, served by package
// web with a strict Content-Security-Policy (no inline script or style).
package static

import "embed"

// FS holds index.html, css/ and js/ at its root.
//
//go:embed index.html css js
var FS embed.FS
