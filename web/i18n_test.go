package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestPagesSpeakTheParticipantsLanguage: the client page's <html lang> and
// the server's own pages follow the platform's locale of the join
// (userdata-bbb_override_default_locale), else the browser's
// Accept-Language, else English.
func TestPagesSpeakTheParticipantsLanguage(t *testing.T) {
	e := newEnv(t)
	e.create("lang")
	join := func(extra url.Values) (*http.Cookie, string) {
		p := url.Values{"meetingID": {"lang"}, "fullName": {"Ana"}, "role": {"VIEWER"}, "redirect": {"false"}}
		for k, v := range extra {
			p[k] = v
		}
		var j bbbJoin
		e.call("join", p, &j)
		return e.enter(j)
	}
	page := func(path string, cookie *http.Cookie, acceptLanguage string) (*http.Response, string) {
		if !strings.HasPrefix(path, "http") {
			path = e.srv.URL + path
		}
		req, err := http.NewRequest(http.MethodGet, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if cookie != nil {
			req.AddCookie(cookie)
		}
		if acceptLanguage != "" {
			req.Header.Set("Accept-Language", acceptLanguage)
		}
		resp, err := e.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp, readBody(t, resp)
	}
	cases := []struct {
		name   string
		locale string
		accept string
		want   string
	}{
		{"platform locale wins", "de_DE", "en-US,en;q=0.9", "de"},
		{"browser language", "", "fr-FR,de;q=0.8,en;q=0.5", "de"},
		{"quality order", "", "en;q=0.4,de-AT;q=0.9", "de"},
		{"unsupported platform locale", "tlh", "", "en"},
		{"nothing given", "", "", "en"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			extra := url.Values{}
			if c.locale != "" {
				extra.Set("userdata-bbb_override_default_locale", c.locale)
			}
			cookie, loc := join(extra)
			resp, body := page(loc, cookie, c.accept)
			if !strings.Contains(body, `<html lang="`+c.want+`"`) || resp.Header.Get("Content-Language") != c.want {
				t.Fatalf("client page: %q, Content-Language %q; want %s", body[:min(80, len(body))], resp.Header.Get("Content-Language"), c.want)
			}
		})
	}
	// A page without a session: the browser's language.
	resp, body := page("/r/nobody/", nil, "de-DE,de;q=0.9")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Bitte erneut beitreten") || !strings.Contains(body, `lang="de"`) {
		t.Fatalf("German rejoin page: %d %s", resp.StatusCode, body)
	}
	resp, body = page("/nowhere", nil, "")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "There is nothing at this address.") {
		t.Fatalf("English not-found page: %d %s", resp.StatusCode, body)
	}
}

// TestAssetsRevalidateWithETags: static files carry an ETag; a browser
// that has the file gets 304 without the body.
func TestAssetsRevalidateWithETags(t *testing.T) {
	e := newEnv(t)
	resp := e.get(e.srv.URL + "/static/js/app.js")
	body := readBody(t, resp)
	tag := resp.Header.Get("ETag")
	if resp.StatusCode != http.StatusOK || body == "" || !strings.HasPrefix(tag, `"`) || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("first load: %d, ETag %q, Cache-Control %q", resp.StatusCode, tag, resp.Header.Get("Cache-Control"))
	}
	resp = e.get(e.srv.URL+"/static/js/app.js", "If-None-Match", tag)
	if b := readBody(t, resp); resp.StatusCode != http.StatusNotModified || b != "" {
		t.Fatalf("revalidation: %d with %d bytes", resp.StatusCode, len(b))
	}
	resp = e.get(e.srv.URL+"/static/css/app.css", "If-None-Match", tag)
	if b := readBody(t, resp); resp.StatusCode != http.StatusOK || b == "" || resp.Header.Get("ETag") == tag {
		t.Fatalf("another file with the first one's ETag: %d, %q", resp.StatusCode, resp.Header.Get("ETag"))
	}
}
