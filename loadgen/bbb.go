package loadgen

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// api is a minimal BigBlueButton API client: just what a course platform
// does to create a room and send people into it.
type api struct {
	base   string // server base URL without trailing slash
	secret string
	hc     *http.Client
}

// sign appends a sha256 checksum, as BBB clients do (callName + query +
// secret).
func (a *api) url(call string, q url.Values) string {
	qs := q.Encode()
	sum := sha256.Sum256([]byte(call + qs + a.secret))
	if qs != "" {
		qs += "&"
	}
	return a.base + "/bigbluebutton/api/" + call + "?" + qs + "checksum=" + hex.EncodeToString(sum[:])
}

// apiReply holds the fields of BBB replies the generator reads.
type apiReply struct {
	ReturnCode string `xml:"returncode"`
	MessageKey string `xml:"messageKey"`
	Message    string `xml:"message"`
	MeetingID  string `xml:"meetingID"`
	URL        string `xml:"url"`
	UserID     string `xml:"user_id"`
}

func (a *api) call(ctx context.Context, call string, q url.Values) (*apiReply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.url(call, q), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrAPI, call, err)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrAPI, call, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrAPI, call, err)
	}
	var r apiReply
	if err := xml.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("%w: %s: HTTP %d, not BBB XML: %v", ErrAPI, call, resp.StatusCode, err)
	}
	if r.ReturnCode != "SUCCESS" {
		return &r, fmt.Errorf("%w: %s: %s (%s)", ErrAPI, call, r.MessageKey, r.Message)
	}
	return &r, nil
}

func (a *api) create(ctx context.Context, meetingID, name string) error {
	q := url.Values{
		"meetingID":   {meetingID},
		"name":        {name},
		"attendeePW":  {"ap-" + meetingID},
		"moderatorPW": {"mp-" + meetingID},
	}
	_, err := a.call(ctx, "create", q)
	return err
}

func (a *api) end(ctx context.Context, meetingID string) error {
	_, err := a.call(ctx, "end", url.Values{"meetingID": {meetingID}})
	return err
}

// join asks for a join link with redirect=false and returns the one-time
// client URL (/join/<token>) from the XML.
func (a *api) join(ctx context.Context, meetingID, name string, moderator bool) (string, error) {
	role := "VIEWER"
	if moderator {
		role = "MODERATOR"
	}
	r, err := a.call(ctx, "join", url.Values{
		"meetingID": {meetingID},
		"fullName":  {name},
		"role":      {role},
		"redirect":  {"false"},
	})
	if err != nil {
		return "", err
	}
	if r.URL == "" {
		return "", fmt.Errorf("%w: join: no url in the reply", ErrAPI)
	}
	return r.URL, nil
}

// session is what a browser holds after following the join link: the
// client page's slot and the session cookie scoped to it.
type session struct {
	slot   string
	cookie *http.Cookie
}

// redeem follows the one-time join URL as a browser does, without loading
// the client page: the 302 carries the session cookie and the page's path
// /r/<slot>/.
func (a *api) redeem(ctx context.Context, joinURL string) (session, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, joinURL, nil)
	if err != nil {
		return session{}, fmt.Errorf("%w: %v", ErrJoin, err)
	}
	hc := *a.hc
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		return session{}, fmt.Errorf("%w: %v", ErrJoin, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return session{}, fmt.Errorf("%w: join link answered HTTP %d", ErrJoin, resp.StatusCode)
	}
	loc, err := resp.Location()
	if err != nil {
		return session{}, fmt.Errorf("%w: join link: %v", ErrJoin, err)
	}
	_, rest, ok := strings.Cut(loc.Path, "/r/")
	slot, _, _ := strings.Cut(rest, "/")
	if !ok || slot == "" {
		return session{}, fmt.Errorf("%w: join link led to %q, not a room page", ErrJoin, loc.Path)
	}
	for _, c := range resp.Cookies() {
		if c.Name != "" && c.Value != "" {
			return session{slot: slot, cookie: c}, nil
		}
	}
	return session{}, fmt.Errorf("%w: join link set no cookie", ErrJoin)
}
