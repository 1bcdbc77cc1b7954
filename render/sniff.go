package render

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf16"
)

// Kind is a document's type, decided from its content by Sniff.
type Kind string

// The kinds Convert accepts.
const (
	KindPDF  Kind = "pdf"
	KindPNG  Kind = "png"
	KindJPEG Kind = "jpeg"
	// KindOffice is any document LibreOffice converts to PDF: OOXML
	// (docx, pptx, xlsx), ODF (odt, odp, ods, odg) and the legacy binary
	// formats (doc, ppt, xls).
	KindOffice Kind = "office"
)

// HeadSize is how many leading bytes Sniff wants in head (fewer is fine
// for a shorter file).
const HeadSize = 512

// Limits of the peek into zip and OLE2 containers: enough for any real
// Office document, and small enough that a crafted container costs
// nothing to refuse.
const (
	maxZipEntries = 20000
	maxOLESectors = 64
)

var (
	magicPDF  = []byte("%PDF-")
	magicPNG  = []byte("\x89PNG\r\n\x1a\n")
	magicJPEG = []byte("\xff\xd8\xff")
	magicZip  = []byte("PK\x03\x04")
	magicOLE2 = []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
)

// Sniff decides a document's kind from its first bytes (head, ideally
// HeadSize of them) and, for the container formats (zip for OOXML and
// ODF, OLE2 for doc/ppt/xls), a look at the container's listing through
// r, which holds the whole file of size bytes. The name the client gave
// the file never counts. Anything else is ErrUnsupported. r may be nil
// when head is the whole file.
//
// Every format must start with its magic number: a PDF with junk before
// %PDF- (which some readers accept) is refused, so no file is both a PDF
// here and something else in a browser.
func Sniff(head []byte, size int64, r io.ReaderAt) (Kind, error) {
	k, _, err := sniff(head, size, r)
	return k, err
}

// SniffExt is Sniff that also returns the format's usual file extension
// (".pdf", ".png", ".jpg", ".docx", ".pptx", ".xlsx", ".odt", ".odp",
// ".ods", ".odg", ".doc", ".ppt", ".xls"), for naming the stored upload.
func SniffExt(head []byte, size int64, r io.ReaderAt) (Kind, string, error) {
	return sniff(head, size, r)
}

// SniffFile is Sniff on a file on disk.
func SniffFile(path string) (Kind, error) {
	k, _, err := sniffFile(path)
	return k, err
}

func sniffFile(path string) (Kind, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", fmt.Errorf("render: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", "", fmt.Errorf("render: %w", err)
	}
	head := make([]byte, HeadSize)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return "", "", fmt.Errorf("render: %w", err)
	}
	return sniff(head[:n], st.Size(), f)
}

// sniff returns the kind and, for Office documents, the file extension
// LibreOffice is given the file under (so its type detection starts from
// the right filter).
func sniff(head []byte, size int64, r io.ReaderAt) (Kind, string, error) {
	if r == nil {
		r = bytes.NewReader(head)
		size = int64(len(head))
	}
	switch {
	case bytes.HasPrefix(head, magicPNG):
		return KindPNG, ".png", nil
	case bytes.HasPrefix(head, magicJPEG):
		return KindJPEG, ".jpg", nil
	case bytes.HasPrefix(head, magicZip):
		ext, err := sniffZip(r, size)
		if err != nil {
			return "", "", err
		}
		return KindOffice, ext, nil
	case bytes.HasPrefix(head, magicOLE2):
		ext, err := sniffOLE2(head, r, size)
		if err != nil {
			return "", "", err
		}
		return KindOffice, ext, nil
	case bytes.HasPrefix(head, magicPDF):
		return KindPDF, ".pdf", nil
	}
	return "", "", ErrUnsupported
}

// sniffZip accepts OOXML (a [Content_Types].xml with word/, ppt/ or xl/
// parts) and ODF (a mimetype entry naming an ODF text, presentation,
// spreadsheet or drawing) and returns the extension.
func sniffZip(r io.ReaderAt, size int64) (string, error) {
	// Count the entries from the end-of-central-directory record before
	// archive/zip reads them all: a crafted listing of a million entries
	// would otherwise cost hundreds of megabytes just to be refused.
	if n, ok := zipEntries(r, size); !ok || n > maxZipEntries {
		return "", fmt.Errorf("%w (a zip archive that is not an Office document)", ErrUnsupported)
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return "", fmt.Errorf("%w (a damaged zip archive)", ErrUnsupported)
	}
	var contentTypes bool
	ooxml := ""
	for _, f := range zr.File {
		switch {
		case f.Name == "mimetype":
			if ext := odfExt(f); ext != "" {
				return ext, nil
			}
		case f.Name == "[Content_Types].xml":
			contentTypes = true
		case ooxml == "" && strings.HasPrefix(f.Name, "word/"):
			ooxml = ".docx"
		case ooxml == "" && strings.HasPrefix(f.Name, "ppt/"):
			ooxml = ".pptx"
		case ooxml == "" && strings.HasPrefix(f.Name, "xl/"):
			ooxml = ".xlsx"
		}
	}
	if contentTypes && ooxml != "" {
		return ooxml, nil
	}
	return "", fmt.Errorf("%w (a zip archive that is not an Office document)", ErrUnsupported)
}

// zipEntries reads the entry count of the end-of-central-directory record
// in the last 64 KiB; ok is false when there is none.
func zipEntries(r io.ReaderAt, size int64) (int, bool) {
	const eocdLen = 22
	if size < eocdLen {
		return 0, false
	}
	n := min(size, eocdLen+65535)
	buf := make([]byte, n)
	if m, err := r.ReadAt(buf, size-n); int64(m) != n && err != nil {
		return 0, false
	}
	i := bytes.LastIndex(buf, []byte("PK\x05\x06"))
	if i < 0 || len(buf)-i < eocdLen {
		return 0, false
	}
	// 0xFFFF means the count is in a zip64 record; archive/zip caps that
	// by the file size, which MaxBytes bounds.
	return int(binary.LittleEndian.Uint16(buf[i+10:])), true
}

// odfExt reads an ODF mimetype entry (a few bytes).
func odfExt(f *zip.File) string {
	if f.UncompressedSize64 > 100 {
		return ""
	}
	rc, err := f.Open()
	if err != nil {
		return ""
	}
	defer rc.Close()
	b, _ := io.ReadAll(io.LimitReader(rc, 100))
	mt, ok := strings.CutPrefix(string(b), "application/vnd.oasis.opendocument.")
	if !ok {
		return ""
	}
	mt = strings.TrimSuffix(mt, "-template")
	return map[string]string{
		"text":         ".odt",
		"presentation": ".odp",
		"spreadsheet":  ".ods",
		"graphics":     ".odg",
	}[mt]
}

// sniffOLE2 looks in an OLE2 compound file's directory for the stream
// that makes it a Word, PowerPoint or Excel document (other OLE2 files,
// such as installers or Outlook messages, are refused). It follows the
// directory's sector chain through the FAT for at most maxOLESectors
// sectors.
func sniffOLE2(head []byte, r io.ReaderAt, size int64) (string, error) {
	bad := fmt.Errorf("%w (an OLE2 file that is not a Word, PowerPoint or Excel document)", ErrUnsupported)
	if len(head) < 512 {
		return "", bad
	}
	shift := binary.LittleEndian.Uint16(head[0x1e:])
	if shift != 9 && shift != 12 {
		return "", bad
	}
	ss := int64(1) << shift
	// The first 109 FAT sector numbers are in the header; later ones
	// (files over ~7 MB with 512-byte sectors) are in DIFAT sectors.
	// Directory sectors of real documents sit in the first FAT sectors.
	fatSector := func(i int64) (uint32, bool) {
		if i < 0 || i >= 109 {
			return 0, false
		}
		return binary.LittleEndian.Uint32(head[0x4c+4*i:]), true
	}
	readU32 := func(off int64) (uint32, bool) {
		var b [4]byte
		if off < 0 || off+4 > size {
			return 0, false
		}
		if _, err := r.ReadAt(b[:], off); err != nil {
			return 0, false
		}
		return binary.LittleEndian.Uint32(b[:]), true
	}
	sect := binary.LittleEndian.Uint32(head[0x30:])
	buf := make([]byte, ss)
	for range maxOLESectors {
		if sect >= 0xfffffffa { // end of chain or a special marker
			break
		}
		off := (int64(sect) + 1) * ss
		if off+ss > size {
			break
		}
		if _, err := r.ReadAt(buf, off); err != nil {
			break
		}
		for e := int64(0); e+128 <= ss; e += 128 {
			switch oleName(buf[e : e+128]) {
			case "WordDocument":
				return ".doc", nil
			case "PowerPoint Document":
				return ".ppt", nil
			case "Workbook", "Book":
				return ".xls", nil
			}
		}
		perFAT := ss / 4
		fs, ok := fatSector(int64(sect) / perFAT)
		if !ok || fs >= 0xfffffffa {
			break
		}
		next, ok := readU32((int64(fs)+1)*ss + int64(sect)%perFAT*4)
		if !ok {
			break
		}
		sect = next
	}
	return "", bad
}

// oleName decodes a directory entry's UTF-16LE name.
func oleName(e []byte) string {
	n := int(binary.LittleEndian.Uint16(e[0x40:]))
	if n < 2 || n > 64 || n%2 != 0 {
		return ""
	}
	u := make([]uint16, 0, n/2-1)
	for i := 0; i+1 < n-2; i += 2 {
		u = append(u, binary.LittleEndian.Uint16(e[i:]))
	}
	return string(utf16.Decode(u))
}
