package web

import (
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"testing"

	"aula/room"
	"aula/web/static"
)

func TestSecurityHeadersEverywhere(t *testing.T) {
	e := newEnv(t)
	e.create("hdr")
	j := e.joinXML("hdr", "H", "VIEWER")
	paths := []string{
		"/bigbluebutton/api",
		strings.TrimPrefix(e.apiURL("sha1", "getMeetings", nil), e.srv.URL),
		"/static/js/app.js",
		"/healthz",
		"/metrics",
		"/nothing-here",
		"/r/abc/",
		strings.TrimPrefix(j.URL, e.srv.URL),
	}
	for _, p := range paths {
		resp := e.get(e.srv.URL + p)
		readBody(t, resp)
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:",
			"media-src 'self' blob:", "connect-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'self'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", p, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP allows unsafe: %q", p, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: headers %v", p, h)
		}
		pp := h.Get("Permissions-Policy")
		for _, want := range []string{"camera=(self)", "microphone=(self)", "display-capture=(self)"} {
			if !strings.Contains(pp, want) {
				t.Errorf("%s: Permissions-Policy %q lacks %q", p, pp, want)
			}
		}
		// Only the join flow ever sets a cookie.
		if c := h.Values("Set-Cookie"); len(c) != 0 && !strings.HasPrefix(p, "/join/") {
			t.Errorf("%s: sets a cookie %v", p, c)
		}
	}
	e2 := newEnv(t, func(o *Options) { o.FrameAncestors = []string{"https://lms.example"} })
	resp := e2.get(e2.srv.URL + "/healthz")
	if readBody(t, resp); !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors https://lms.example;") {
		t.Fatalf("frame-ancestors: %q", resp.Header.Get("Content-Security-Policy"))
	}
}

func TestStaticAssets(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		path, ctype string
		status      int
	}{
		{"/static/js/app.js", "text/javascript; charset=utf-8", 200},
		{"/static/css/app.css", "text/css; charset=utf-8", 200},
		{"/static/index.html", "text/html; charset=utf-8", 200},
		{"/static/../helpers_test.go", "", 404},
		{"/static/js/missing.js", "", 404},
		{"/static/", "", 404},
		{"/r/anyslot/js/app.js", "text/javascript; charset=utf-8", 200},
	}
	for _, c := range cases {
		resp := e.get(e.srv.URL + c.path)
		readBody(t, resp)
		if resp.StatusCode != c.status || (c.ctype != "" && resp.Header.Get("Content-Type") != c.ctype) {
			t.Errorf("%s: %d %q", c.path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
}

func TestHealthAndMetrics(t *testing.T) {
	e := newEnv(t)
	resp := e.get(e.srv.URL + "/healthz")
	if b := readBody(t, resp); resp.StatusCode != 200 || b != "ok\n" {
		t.Fatalf("healthz %d %q", resp.StatusCode, b)
	}
	e.create("m1")
	e.create("m1") // duplicate: not counted as created
	e.mustFail("getMeetingInfo", url.Values{"meetingID": {"zz"}}, "notFound")
	e.mustFail("whatever", nil, "unsupportedRequest")
	e.call("end", url.Values{"meetingID": {"m1"}}, nil)
	b := readBody(t, e.get(e.srv.URL+"/metrics"))
	for _, want := range []string{
		`aula_api_requests_total{call="create",returncode="SUCCESS"} 2`,
		`aula_api_requests_total{call="getMeetingInfo",returncode="FAILED"} 1`,
		`aula_api_requests_total{call="unknown",returncode="FAILED"} 1`,
		`aula_meetings_created_total 1`,
		`aula_meetings_ended_total 1`,
	} {
		if !strings.Contains(b, want) {
			t.Errorf("metrics lack %q:\n%s", want, b)
		}
	}
	// Without a registry there is no /metrics.
	e2 := newEnv(t, func(o *Options) { o.Registry = nil })
	if resp := e2.get(e2.srv.URL + "/metrics"); readBody(t, resp) != "" && resp.StatusCode != 404 {
		t.Fatalf("metrics without registry: %d", resp.StatusCode)
	}
}

func TestAccessLogKeepsNoSecrets(t *testing.T) {
	e := newEnv(t)
	e.create("logged")
	var j bbbJoin
	u := e.apiURL("sha1", "join", url.Values{"meetingID": {"logged"}, "fullName": {"Secret Name"}, "role": {"VIEWER"}, "redirect": {"false"}})
	sum := u[strings.LastIndex(u, "=")+1:]
	e.call("join", url.Values{"meetingID": {"logged"}, "fullName": {"Secret Name"}, "role": {"VIEWER"}, "redirect": {"false"}}, &j)
	cookie, loc := e.enter(j)
	readBody(t, e.get(loc, "Cookie", CookieName+"="+cookie.Value))
	readBody(t, e.get(u))
	logs := e.log.String()
	urlToken := strings.TrimPrefix(j.URL, e.srv.URL+"/join/")
	for _, secret := range []string{sum, urlToken, cookie.Value, testSecret, "Secret Name", "checksum", "mp-logged", "127.0.0.1"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q:\n%s", secret, logs)
		}
	}
	for _, want := range []string{"ip=127.0.0.0/24", "path=/bigbluebutton/api/join", "path=/join/…", "status=302", "method=GET"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestTruncateIP(t *testing.T) {
	cases := map[string]string{
		"192.0.2.123":           "192.0.2.0/24",
		"2001:db8:1234:5678::1": "2001:db8:1234::/48",
		"::ffff:10.1.2.3":       "10.1.2.0/24",
		"garbage":               "unknown",
	}
	for in, want := range cases {
		if got := truncateIP(in); got != want {
			t.Errorf("truncateIP(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewValidatesOptions(t *testing.T) {
	good, _ := url.Parse("https://aula.example")
	mgr := newEnv(t).mgr
	cases := []Options{
		{Secret: "s", Manager: mgr},
		{PublicURL: &url.URL{Path: "/x"}, Secret: "s", Manager: mgr},
		{PublicURL: good, Manager: mgr},
		{PublicURL: good, Secret: "s"},
	}
	for i, o := range cases {
		if _, err := New(o); err == nil {
			t.Errorf("case %d: New accepted %+v", i, o)
		}
	}
	if _, err := New(Options{PublicURL: good, Secret: "s", Manager: mgr}); err != nil {
		t.Fatal(err)
	}
}

func TestErrorMapping(t *testing.T) {
	cases := []struct {
		err error
		key string
	}{
		{room.ErrNotFound, "notFound"},
		{room.ErrDenied, "guestDeniedAccess"},
		{room.ErrFull, "maxParticipantsReached"},
		{room.ErrPINTaken, "voiceBridgeNotUnique"},
		{room.ErrExists, "idNotUnique"},
		{paramErr("x %d", 1), "validationError"},
		{ErrChecksum, "checksumError"},
		{http.ErrServerClosed, "internalError"},
	}
	for _, c := range cases {
		if got := toAPIError(c.err); got.Key != c.key || got.Message == "" {
			t.Errorf("%v → %+v, want %s", c.err, got, c.key)
		}
	}
	if got := toAPIError(paramErr("duration must be a number")).Message; got != "duration must be a number" {
		t.Errorf("message %q", got)
	}
}

// TestRealClientAssets serves the embedded client itself: every file is
// reachable under /static/ and, for the page's relative links, under the
// participant's /r/<slot>/, with a MIME type browsers accept for ES modules.
func TestRealClientAssets(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Static = static.FS })
	e.create("assets")
	cookie, loc := e.enter(e.joinXML("assets", "A", "VIEWER"))
	resp := e.get(loc, "Cookie", CookieName+"="+cookie.Value)
	if b := readBody(t, resp); resp.StatusCode != 200 || !strings.Contains(b, "<!doctype html>") {
		t.Fatalf("index: %d", resp.StatusCode)
	}
	n := 0
	err := fs.WalkDir(static.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		want := map[string]string{".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".html": "text/html; charset=utf-8"}[path.Ext(p)]
		urls := []string{e.srv.URL + "/static/" + p}
		if strings.HasPrefix(p, "js/") || strings.HasPrefix(p, "css/") || strings.HasPrefix(p, "vendor/") {
			urls = append(urls, loc+p)
		}
		for _, u := range urls {
			resp := e.get(u)
			readBody(t, resp)
			if resp.StatusCode != 200 || (want != "" && resp.Header.Get("Content-Type") != want) {
				t.Errorf("%s: %d %q", u, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
		}
		n++
		return nil
	})
	if err != nil || n < 3 {
		t.Fatalf("walked %d files: %v", n, err)
	}
	// The whiteboard's vendored module, imported by js/ relative to the page.
	resp = e.get(loc + "vendor/perfect-freehand/index.mjs")
	if b := readBody(t, resp); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/javascript; charset=utf-8" || !strings.Contains(b, "getStroke") {
		t.Errorf("vendored perfect-freehand under the page: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
