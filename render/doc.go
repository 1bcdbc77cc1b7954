// Package render turns presentation uploads into page images on the
// server, in a sandbox, with no third party involved, and makes the
// presenter's annotated PDF export.
//
// Sniff decides what a file is from its content. A Renderer converts a
// stored file: a PDF is drawn by pdfium compiled to WebAssembly and run
// by wazero (pure Go, no cgo), one fresh instance per document, with no
// file system, a memory cap and timeouts that kill it; a PNG or JPEG is
// decoded by Go's memory-safe decoders, turned upright and re-encoded
// (dropping its metadata); an Office or ODF document is first turned
// into a PDF by LibreOffice, when installed, in a process of its own.
// Every page becomes a PNG at each configured width plus a thumbnail.
// All conversions share a pool of at most runtime.NumCPU() workers.
//
// ExportPDF writes page images with vector annotations over them as a
// PDF, on request, into a writer.
//
// The package owns two third-party libraries: go-pdfium (with wazero)
// and go-pdf/fpdf. It imports nothing of Aula's: the web layer (uploads,
// create, insertDocument) and the room layer (the presentation feature)
// call it.
package render
