package app

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

// APIURL returns a signed BigBlueButton API URL, as a course platform makes
// it: checksum = sha256(call + query + secret).
func APIURL(base, secret, call string, params url.Values) string {
	q := params.Encode()
	sum := sha256.Sum256([]byte(call + q + secret))
	sep := "&"
	if q == "" {
		sep = ""
	}
	return strings.TrimRight(base, "/") + "/bigbluebutton/api/" + call + "?" + q + sep + "checksum=" + hex.EncodeToString(sum[:])
}

// DemoLinks creates a demo meeting through the node's own BBB API (the same
// code path a course platform uses) and returns signed join links for a
// moderator and a viewer. Each link can be opened many times: every open
// is a new participant.
func (a *App) DemoLinks(ctx context.Context) (moderator, viewer string, err error) {
	base := a.URL()
	welcome := "Welcome to %%CONFNAME%%!"
	if a.cfg.DialNumber != "" {
		welcome += " Dial %%DIALNUM%% and enter %%CONFNUM%% to join by phone."
	}
	create := APIURL(base, a.cfg.Secret, "create", url.Values{
		"meetingID": {"aula-demo"},
		"name":      {"Aula demo room"},
		"welcome":   {welcome},
		// Give a newcomer an hour to open the links.
		"meetingExpireIfNoUserJoinedInMinutes": {"60"},
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, create, nil)
	if err != nil {
		return "", "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("demo create: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", "", fmt.Errorf("demo create: %w", err)
	}
	var r struct {
		ReturnCode string `xml:"returncode"`
		Message    string `xml:"message"`
	}
	if err := xml.Unmarshal(body, &r); err != nil || r.ReturnCode != "SUCCESS" {
		return "", "", fmt.Errorf("demo create failed: %s %s", r.ReturnCode, r.Message)
	}
	join := func(name, role string) string {
		return APIURL(base, a.cfg.Secret, "join", url.Values{"meetingID": {"aula-demo"}, "fullName": {name}, "role": {role}})
	}
	return join("Demo Trainer", "MODERATOR"), join("Demo Participant", "VIEWER"), nil
}
