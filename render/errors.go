package render

import "errors"

// Sentinel errors of document conversion. Each message is written to be
// shown to the presenter who uploaded the document; the wrapping error
// adds the detail (the limit, the page). Callers test them with errors.Is
// and map them to a BBB messageKey or a WebSocket error at their edge.
var (
	// ErrUnsupported: the file is not a PDF, PNG, JPEG or Office/ODF
	// document, judged by its content (never by its name).
	ErrUnsupported = errors.New("this file type is not supported: upload a PDF, an image (PNG or JPEG) or an Office document")
	// ErrTooLarge: the file is larger than Config.MaxBytes.
	ErrTooLarge = errors.New("the file is too large")
	// ErrTooManyPages: the document has more pages than Config.MaxPages;
	// the whole document is refused.
	ErrTooManyPages = errors.New("the document has too many pages")
	// ErrCorrupt: the PDF cannot be opened or a page cannot be drawn, the
	// image cannot be decoded, or LibreOffice could not convert the file.
	ErrCorrupt = errors.New("the document is damaged or cannot be read")
	// ErrEncrypted: the PDF needs a password to be opened.
	ErrEncrypted = errors.New("the document is protected by a password: upload it without the password")
	// ErrNoOffice: an Office or ODF document, but LibreOffice is not
	// installed on the server.
	ErrNoOffice = errors.New("this server cannot convert Office documents: upload a PDF, or ask the operator to install LibreOffice (Debian packages libreoffice-core-nogui with libreoffice-impress-nogui and libreoffice-writer-nogui)")
	// ErrTimeout: the conversion took longer than Config.DocTimeout, or
	// one page longer than Config.PageTimeout.
	ErrTimeout = errors.New("the document took too long to convert")
	// ErrClosed: Convert was called after Close.
	ErrClosed = errors.New("the document converter has been shut down")
	// ErrInvalid: ExportPDF was given a page or an annotation it cannot
	// draw (no size, a colour that is not #rrggbb, a number that is not
	// finite).
	ErrInvalid = errors.New("the export contains an invalid page or drawing")
)
