// Package static is Aula's browser client, embedded in the binary: plain
// ES modules with no build step, served by package web with a strict
// Content-Security-Policy (no inline script or style). The only
// third-party code is vendored under vendor/ by a script in scripts/
// (perfect-freehand, the whiteboard's stroke smoothing).
package static

import "embed"

// FS holds index.html, video.html (the external video's player frame),
// favicon.svg, css/, js/, vendor/ and i18n/ (the
// translation catalogues, one JSON file per language, which the server's
// own pages use too) at its root.
//
//go:embed index.html video.html favicon.svg css js i18n vendor
var FS embed.FS
