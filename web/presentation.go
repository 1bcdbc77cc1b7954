package web

import (
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

	"aula/present"
)

// A create POST (and insertDocument) may carry presentations in an XML
// body, as BBB accepts:
//
//	<modules><module name="presentation">
//	  <document name="x.pdf">BASE64</document>
//	  <document url="https://…" filename="y.pdf" current="true" downloadable="true"/>
//	</module></modules>
//
// As in BBB, a document that cannot be fetched or converted never fails
// the call: the meeting starts without it, the reason is logged, and
// moderators see the document as failed in the room. Only a body that is
// not XML at all is refused (the platform sent nonsense).

type modulesXML struct {
	XMLName xml.Name    `xml:"modules"`
	Modules []moduleXML `xml:"module"`
}

type moduleXML struct {
	Name      string        `xml:"name,attr"`
	Documents []documentXML `xml:"document"`
}

type documentXML struct {
	Name         string `xml:"name,attr"`
	URL          string `xml:"url,attr"`
	Filename     string `xml:"filename,attr"`
	Current      string `xml:"current,attr"`
	Downloadable string `xml:"downloadable,attr"`
	Body         string `xml:",chardata"`
}

// docSource is one document a platform sent: its bytes (base64 in the
// body) or a URL to fetch, or why it cannot be used (refused: a code for
// the room).
type docSource struct {
	Name    string
	URL     string
	Data    []byte
	Current bool
	Refused string
}

// parsePresentations decodes the XML body of create or insertDocument
// into document sources, at most maxDocs (more are refused), each at most
// maxBytes. It fetches nothing. An empty body has no documents; a body
// that is not a <modules> document is ErrPresentation.
func parsePresentations(body io.Reader, maxBytes int64, maxDocs int) ([]docSource, error) {
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
	var docs []docSource
	for _, m := range mods.Modules {
		if m.Name != "presentation" {
			// Other modules (clientSettingsOverride …) configure BBB's
			// own client and mean nothing here.
			continue
		}
		for _, d := range m.Documents {
			src := docSource{Name: d.Name, Current: strings.EqualFold(strings.TrimSpace(d.Current), "true")}
			u := strings.TrimSpace(d.URL)
			if src.Name == "" {
				src.Name = d.Filename
			}
			if src.Name == "" && u != "" {
				src.Name = path.Base(u)
			}
			if src.Name == "" {
				src.Name = fmt.Sprintf("document-%d", len(docs)+1)
			}
			switch {
			case len(docs) >= maxDocs:
				src.Refused = codeTooMany
			case u != "":
				src.URL = u
			default:
				src.Data, src.Refused = decodeBase64(d.Body, maxBytes)
			}
			docs = append(docs, src)
		}
	}
	return docs, nil
}

// codeTooMany: a platform sent more documents than one call takes.
const codeTooMany = "too_many"

// decodeBase64 decodes an embedded document, or says why it cannot be
// used.
func decodeBase64(body string, maxBytes int64) ([]byte, string) {
	raw := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, body)
	if int64(base64.StdEncoding.DecodedLen(len(raw))) > maxBytes+3 {
		return nil, present.CodeTooLarge
	}
	data, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, present.CodeCorrupt
	}
	if int64(len(data)) > maxBytes {
		return nil, present.CodeTooLarge
	}
	return data, ""
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
