package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// A create POST may carry presentations in an XML body, as BBB accepts:
//
//	<modules><module name="presentation">
//	  <document name="x.pdf">BASE64</document>
//	  <document url="https://…" filename="y.pdf"/>
//	</module></modules>
//
// Every document is checked (size, PDF/PNG/JPEG by its first bytes) and
// downloaded before the meeting is created, so a bad document fails the
// call and leaves nothing behind.

type modulesXML struct {
	XMLName xml.Name    `xml:"modules"`
	Modules []moduleXML `xml:"module"`
}

type moduleXML struct {
	Name      string        `xml:"name,attr"`
	Documents []documentXML `xml:"document"`
}

type documentXML struct {
	Name     string `xml:"name,attr"`
	URL      string `xml:"url,attr"`
	Filename string `xml:"filename,attr"`
	Body     string `xml:",chardata"`
}

// document is a checked presentation ready to store.
type document struct {
	Name string
	Data []byte
}

// sniffDocument returns the file extension of a supported presentation
// type by its magic bytes, or "".
func sniffDocument(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return ".pdf"
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return ".png"
	case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
		return ".jpg"
	}
	return ""
}

// safeName makes a stored file name from what the platform called the
// document: letters, digits, dot, dash and underscore only, with the
// extension of its real type.
func safeName(name, ext string, i int) string {
	base := path.Base(strings.ReplaceAll(name, "\\", "/"))
	base = strings.TrimSuffix(base, path.Ext(base))
	var b strings.Builder
	for _, r := range base {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ' || r == '.':
			b.WriteByte('_')
		}
		if b.Len() >= 80 {
			break
		}
	}
	s := strings.Trim(b.String(), "_")
	if s == "" {
		s = fmt.Sprintf("document-%d", i+1)
	}
	return s + ext
}

// parsePresentations decodes the XML body of a create POST and returns the
// checked documents (embedded or downloaded). max caps each document and
// the count; fetch downloads url= documents.
func parsePresentations(ctx context.Context, body io.Reader, maxBytes int64, maxDocs int, fetch func(context.Context, string, int64) ([]byte, error)) ([]document, error) {
	var mods modulesXML
	dec := xml.NewDecoder(body)
	// No entities from outside and no other charset: the body is data.
	dec.Strict = true
	if err := dec.Decode(&mods); err != nil {
		var tooLarge *http.MaxBytesError
		switch {
		case errors.Is(err, io.EOF):
			return nil, nil // an empty body: no documents
		case errors.As(err, &tooLarge):
			return nil, fmt.Errorf("%w: request body is too large", ErrPresentation)
		}
		return nil, fmt.Errorf("%w: the XML body is not a <modules> document", ErrPresentation)
	}
	var docs []document
	for _, m := range mods.Modules {
		if m.Name != "presentation" {
			// Other modules (clientSettingsOverride …) configure BBB's
			// own client and mean nothing here.
			continue
		}
		for _, d := range m.Documents {
			if len(docs) >= maxDocs {
				return nil, fmt.Errorf("%w: more than %d documents", ErrPresentation, maxDocs)
			}
			var data []byte
			name := d.Name
			if u := strings.TrimSpace(d.URL); u != "" {
				if name == "" {
					name = d.Filename
				}
				if name == "" {
					name = path.Base(u)
				}
				var err error
				if data, err = fetch(ctx, u, maxBytes); err != nil {
					return nil, err
				}
			} else {
				raw := strings.Map(func(r rune) rune {
					if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
						return -1
					}
					return r
				}, d.Body)
				if int64(base64.StdEncoding.DecodedLen(len(raw))) > maxBytes+3 {
					return nil, fmt.Errorf("%w: document %q is larger than %d bytes", ErrPresentation, d.Name, maxBytes)
				}
				var err error
				if data, err = base64.StdEncoding.DecodeString(raw); err != nil {
					return nil, fmt.Errorf("%w: document %q is not valid base64", ErrPresentation, d.Name)
				}
				if int64(len(data)) > maxBytes {
					return nil, fmt.Errorf("%w: document %q is larger than %d bytes", ErrPresentation, d.Name, maxBytes)
				}
			}
			ext := sniffDocument(data)
			if ext == "" {
				return nil, fmt.Errorf("%w: document %q is not a PDF, PNG or JPEG file", ErrPresentation, name)
			}
			docs = append(docs, document{Name: safeName(name, ext, len(docs)), Data: data})
		}
	}
	// Two documents with the same name would overwrite each other.
	seen := map[string]int{}
	for i := range docs {
		n := docs[i].Name
		if c := seen[n]; c > 0 {
			ext := path.Ext(n)
			docs[i].Name = fmt.Sprintf("%s-%d%s", strings.TrimSuffix(n, ext), c+1, ext)
		}
		seen[n]++
	}
	return docs, nil
}

// errTooLarge stops a download above the cap.
var errTooLarge = errors.New("too large")

// errDownload is the one reply to every failed document download: whether
// the address was refused, the port closed, the host answered 404 or too
// much, the caller learns nothing that would map a network. The reason
// goes to the log.
var errDownload = fmt.Errorf("%w: a document could not be downloaded", ErrPresentation)

// fetchDocument downloads a presentation URL: http and https only, through
// the guarded outbound client, within FetchTimeout and the size cap.
func (s *server) fetchDocument(ctx context.Context, raw string, max int64) ([]byte, error) {
	u, err := httpURL("document url", raw)
	if err != nil || u == "" {
		return nil, fmt.Errorf("%w: document url must be http or https", ErrPresentation)
	}
	host := ""
	if pu, perr := url.Parse(u); perr == nil {
		host = pu.Host
	}
	fail := func(reason string) ([]byte, error) {
		s.log.Info("document download failed", "host", host, "reason", reason)
		return nil, errDownload
	}
	ctx, cancel := context.WithTimeout(ctx, s.o.FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fail(fetchReason(err))
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fail(fetchReason(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail(fmt.Sprintf("answered %d", resp.StatusCode))
	}
	data, err := readCapped(resp.Body, max)
	if errors.Is(err, errTooLarge) {
		return fail(fmt.Sprintf("larger than %d bytes", max))
	}
	if err != nil {
		return fail(fetchReason(err))
	}
	return data, nil
}

// readCapped reads at most max bytes, failing with errTooLarge beyond.
func readCapped(r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, errTooLarge
	}
	return data, nil
}
