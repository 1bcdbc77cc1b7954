package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"aula/room"
)

// rawCookie returns the one Set-Cookie header, failing on none or several.
func rawCookie(t *testing.T, resp *http.Response) string {
	t.Helper()
	v := resp.Header.Values("Set-Cookie")
	if len(v) != 1 {
		t.Fatalf("want exactly one Set-Cookie, got %q", v)
	}
	return v[0]
}

// cookieAttrs splits a Set-Cookie header into lower-cased attribute names
// (and values).
func cookieAttrs(raw string) (nameValue string, attrs map[string]string) {
	parts := strings.Split(raw, ";")
	attrs = map[string]string{}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		attrs[strings.ToLower(k)] = v
	}
	return strings.TrimSpace(parts[0]), attrs
}

func TestJoinRedirectSetsSessionCookie(t *testing.T) {
	for _, tc := range []struct {
		name       string
		public     string
		wantSecure bool
	}{
		{"http", "", false},
		{"https public URL", "https://aula.example.org", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(o *Options) {
				if tc.public != "" {
					o.PublicURL, _ = url.Parse(tc.public)
				}
			})
			e.create("c1")
			resp := e.get(e.apiURL("sha256", "join", url.Values{"meetingID": {"c1"}, "fullName": {"Ann"}, "password": {"ap-c1"}}))
			readBody(t, resp)
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("status %d", resp.StatusCode)
			}
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if !strings.HasPrefix(loc.Path, "/r/") || !strings.HasSuffix(loc.Path, "/") || strings.Count(loc.Path, "/") != 3 {
				t.Fatalf("Location %q", loc)
			}
			base := e.srv.URL
			if tc.public != "" {
				base = tc.public
			}
			if !strings.HasPrefix(loc.String(), base+"/r/") {
				t.Fatalf("Location %q not under %s", loc, base)
			}
			nv, attrs := cookieAttrs(rawCookie(t, resp))
			if !strings.HasPrefix(nv, "aula_session=") || len(nv) < len("aula_session=")+40 {
				t.Fatalf("cookie %q", nv)
			}
			if attrs["path"] != loc.Path {
				t.Fatalf("cookie path %q, want %q", attrs["path"], loc.Path)
			}
			if _, ok := attrs["httponly"]; !ok {
				t.Fatal("cookie not HttpOnly")
			}
			if attrs["samesite"] != "Lax" {
				t.Fatalf("SameSite %q", attrs["samesite"])
			}
			if _, ok := attrs["secure"]; ok != tc.wantSecure {
				t.Fatalf("Secure=%v, want %v", ok, tc.wantSecure)
			}
			for _, forbidden := range []string{"expires", "max-age", "domain"} {
				if _, ok := attrs[forbidden]; ok {
					t.Fatalf("cookie has %s", forbidden)
				}
			}
			// The cookie opens exactly that page.
			token := strings.TrimPrefix(nv, "aula_session=")
			s, err := e.mgr.Session(context.Background(), token)
			if err != nil || s.Identity.Name != "Ann" || s.Identity.Role != room.Viewer || "/r/"+s.Slot+"/" != loc.Path {
				t.Fatalf("session %+v %v", s, err)
			}
		})
	}
}

func TestJoinRoleAndPassword(t *testing.T) {
	e := newEnv(t)
	e.create("roles")
	cases := []struct {
		params url.Values
		want   room.Role
	}{
		{url.Values{"role": {"moderator"}}, room.Moderator},
		{url.Values{"role": {"Viewer"}}, room.Viewer},
		{url.Values{"password": {"mp-roles"}}, room.Moderator},
		{url.Values{"password": {"ap-roles"}}, room.Viewer},
		// role wins over password, as in BBB ≥ 2.4.
		{url.Values{"role": {"VIEWER"}, "password": {"mp-roles"}}, room.Viewer},
	}
	for _, c := range cases {
		c.params.Set("meetingID", "roles")
		c.params.Set("fullName", "Kim")
		c.params.Set("redirect", "false")
		c.params.Set("userID", "lms-user-7")
		var j bbbJoin
		e.call("join", c.params, &j)
		if j.ReturnCode != "SUCCESS" {
			t.Fatalf("%v: %+v", c.params, j)
		}
		s, err := e.mgr.Session(context.Background(), j.SessionToken)
		if err != nil || s.Identity.Role != c.want || s.Identity.UserID != "lms-user-7" {
			t.Fatalf("%v: session %+v %v", c.params, s, err)
		}
	}
}

func TestOneTimeJoinURL(t *testing.T) {
	e := newEnv(t)
	c := e.create("once")
	var j bbbJoin
	body := e.call("join", url.Values{"meetingID": {"once"}, "fullName": {"Lea"}, "role": {"VIEWER"}, "redirect": {"false"},
		"createTime": {c.CreateTime}, "avatarURL": {"https://lms.example/pic.png"}}, &j)
	want := []string{"returncode", "messageKey", "message", "meeting_id", "user_id", "auth_token", "session_token", "guestStatus", "url"}
	if got := elementNames(t, body); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("elements %v", got)
	}
	if j.MessageKey != "successfullyJoined" || j.MeetingID != c.InternalMeetingID || j.GuestStatus != "ALLOW" ||
		!strings.HasPrefix(j.URL, e.srv.URL+"/join/") || j.UserID == "" {
		t.Fatalf("join reply %+v", j)
	}
	// No cookie on the API reply: it goes to the platform's server.
	cookie, loc := e.enter(j)
	if cookie.Name != CookieName || cookie.Value == strings.TrimPrefix(j.URL, e.srv.URL+"/join/") {
		t.Fatalf("redeem must set a NEW token: %+v", cookie)
	}
	resp := e.get(loc, "Cookie", cookie.Name+"="+cookie.Value)
	if b := readBody(t, resp); resp.StatusCode != 200 || !strings.Contains(b, "Aula client") {
		t.Fatalf("client page: %d %s", resp.StatusCode, b)
	}
	// The URL is spent, and its token is no session any more.
	resp = e.get(j.URL)
	if b := readBody(t, resp); resp.StatusCode != http.StatusNotFound || len(resp.Header.Values("Set-Cookie")) != 0 || !strings.Contains(b, "join again") {
		t.Fatalf("second redeem: %d %v", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
	if _, err := e.mgr.Session(context.Background(), j.SessionToken); err == nil {
		t.Fatal("URL token still a session")
	}
	resp = e.get(e.srv.URL + "/join/not-a-token")
	if readBody(t, resp); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown token: %d", resp.StatusCode)
	}
}

func TestClientPageNeedsItsOwnSession(t *testing.T) {
	e := newEnv(t)
	e.create("page")
	a, aLoc := e.enter(e.joinXML("page", "A", "VIEWER"))
	b, bLoc := e.enter(e.joinXML("page", "B", "VIEWER"))
	cases := []struct {
		name, url, cookie string
		status            int
	}{
		{"own page", aLoc, a.Value, 200},
		{"own page, other tab", bLoc, b.Value, 200},
		{"no cookie", aLoc, "", 403},
		{"someone else's cookie", aLoc, b.Value, 403},
		{"forged cookie", aLoc, "forged", 403},
		{"own websocket", aLoc + "ws", a.Value, http.StatusSwitchingProtocols},
		{"websocket with another slot's cookie", aLoc + "ws", b.Value, 403},
		{"unknown path", aLoc + "nope", a.Value, 404},
	}
	for _, c := range cases {
		var resp *http.Response
		if c.cookie != "" {
			resp = e.get(c.url, "Cookie", CookieName+"="+c.cookie)
		} else {
			resp = e.get(c.url)
		}
		body := readBody(t, resp)
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", c.name, resp.StatusCode, c.status)
		}
		if c.status == 403 && !strings.Contains(body, "join again from your course") {
			t.Errorf("%s: 403 page %q", c.name, body)
		}
		if c.status == 200 && resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: client page cacheable", c.name)
		}
	}
	if len(e.ws.seen) != 1 || e.ws.seen[0].Identity.Name != "A" {
		t.Fatalf("WS got %+v", e.ws.seen)
	}
	// Without the trailing slash the cookie path would not match.
	resp := e.get(strings.TrimSuffix(aLoc, "/"))
	if readBody(t, resp); resp.StatusCode != http.StatusFound || !strings.HasSuffix(resp.Header.Get("Location"), "/") {
		t.Fatalf("slash redirect %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestJoinGuestStatus: the join reply's guestStatus is BBB's: WAIT for a
// guest whom a moderator must let in, ALLOW otherwise.
func TestJoinGuestStatus(t *testing.T) {
	e := newEnv(t)
	for _, policy := range []string{"ALWAYS_ACCEPT", "ASK_MODERATOR"} {
		e.create(policy, "guestPolicy", policy)
	}
	tests := []struct {
		policy, role, guest, want string
	}{
		{"ASK_MODERATOR", "VIEWER", "true", "WAIT"},
		{"ASK_MODERATOR", "VIEWER", "false", "ALLOW"},
		{"ASK_MODERATOR", "MODERATOR", "true", "ALLOW"},
		{"ALWAYS_ACCEPT", "VIEWER", "true", "ALLOW"},
	}
	for _, tt := range tests {
		var j bbbJoin
		body := e.call("join", url.Values{"meetingID": {tt.policy}, "fullName": {"G"}, "role": {tt.role},
			"guest": {tt.guest}, "redirect": {"false"}}, &j)
		if j.ReturnCode != "SUCCESS" || j.GuestStatus != tt.want {
			t.Errorf("%s %s guest=%s: guestStatus %q, want %q (%s)", tt.policy, tt.role, tt.guest, j.GuestStatus, tt.want, body)
		}
	}
}

func TestJoinErrors(t *testing.T) {
	e := newEnv(t)
	e.create("deny", "guestPolicy", "ALWAYS_DENY")
	e.create("full", "maxParticipants", "1")
	e.mustFail("join", url.Values{"meetingID": {"deny"}, "fullName": {"G"}, "role": {"VIEWER"}, "guest": {"true"}}, "guestDeniedAccess")
	e.joinXML("deny", "Member", "VIEWER") // not a guest: fine

	j := e.joinXML("full", "First", "MODERATOR")
	c, _ := e.enter(j)
	e.attach(context.Background(), c)
	e.mustFail("join", url.Values{"meetingID": {"full"}, "fullName": {"Second"}, "role": {"VIEWER"}}, "maxParticipantsReached")

	// errorRedirectUrl: the browser goes there, with BBB's errors list.
	resp := e.get(e.apiURL("sha1", "join", url.Values{"meetingID": {"gone"}, "fullName": {"X"}, "role": {"VIEWER"},
		"errorRedirectUrl": {"https://lms.example/error?course=4"}}))
	readBody(t, resp)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Host != "lms.example" || loc.Query().Get("course") != "4" {
		t.Fatalf("error redirect %d %q", resp.StatusCode, loc)
	}
	var errs []map[string]string
	if err := json.Unmarshal([]byte(loc.Query().Get("errors")), &errs); err != nil || len(errs) != 1 || errs[0]["key"] != "notFound" {
		t.Fatalf("errors param %q", loc.Query().Get("errors"))
	}
	// Never an open redirect: a bad checksum gets XML, not the redirect.
	u := e.apiURL("sha1", "join", url.Values{"meetingID": {"gone"}, "fullName": {"X"}, "errorRedirectUrl": {"https://evil.example/"}})
	resp = e.get(flip(u))
	if b := readBody(t, resp); resp.StatusCode != 200 || !strings.Contains(b, "checksumError") {
		t.Fatalf("bad checksum with errorRedirectUrl: %d %s", resp.StatusCode, b)
	}
}

func TestAvatarProxy(t *testing.T) {
	var platformHits int
	platform := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		platformHits++
		if len(r.Header.Values("Cookie")) != 0 || r.Header.Get("Referer") != "" {
			t.Errorf("avatar fetch leaked %v", r.Header)
		}
		switch r.URL.Path {
		case "/a.png":
			w.Header().Set("Content-Type", "image/png")
			_, _ = w.Write(tinyPNG)
		case "/page":
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<script>alert(1)</script>"))
		case "/huge":
			w.Header().Set("Content-Type", "image/jpeg")
			_, _ = w.Write(make([]byte, 2<<20))
		case "/svg":
			w.Header().Set("Content-Type", "image/svg+xml")
			_, _ = w.Write([]byte("<svg/>"))
		}
	}))
	defer platform.Close()
	ctx := context.Background()
	e := newEnv(t, allowLoopback)
	e.create("av", "lockSettingsHideUserList", "true")
	join := func(name, role, avatar string) (*http.Cookie, string, string) {
		var j bbbJoin
		e.call("join", url.Values{"meetingID": {"av"}, "fullName": {name}, "role": {role}, "redirect": {"false"}, "avatarURL": {avatar}}, &j)
		c, loc := e.enter(j)
		e.attach(ctx, c)
		return c, loc, j.UserID
	}
	modC, modLoc, modID := join("Teacher", "MODERATOR", platform.URL+"/a.png")
	v1C, v1Loc, v1ID := join("Viewer One", "VIEWER", platform.URL+"/a.png")
	_, _, v2ID := join("Viewer Two", "VIEWER", platform.URL+"/a.png")
	_, _, htmlID := join("Html", "MODERATOR", platform.URL+"/page")
	_, _, hugeID := join("Huge", "MODERATOR", platform.URL+"/huge")
	_, _, svgID := join("Svg", "MODERATOR", platform.URL+"/svg")
	_, _, noneID := join("Nobody", "MODERATOR", "")
	cases := []struct {
		name     string
		loc      string
		cookie   *http.Cookie
		subject  string
		status   int
		wantType string
	}{
		{"moderator sees viewer", modLoc, modC, v1ID, 200, "image/png"},
		{"viewer sees moderator", v1Loc, v1C, modID, 200, "image/png"},
		{"viewer sees self", v1Loc, v1C, v1ID, 200, "image/png"},
		{"viewer cannot see viewer when hidden", v1Loc, v1C, v2ID, 404, ""},
		{"not an image", modLoc, modC, htmlID, 502, ""},
		{"too large", modLoc, modC, hugeID, 502, ""},
		{"svg refused", modLoc, modC, svgID, 502, ""},
		{"no avatar", modLoc, modC, noneID, 404, ""},
		{"unknown participant", modLoc, modC, "nobody", 404, ""},
		{"wrong slot", v1Loc, modC, modID, 403, ""},
	}
	for _, c := range cases {
		resp := e.get(c.loc+"avatar/"+c.subject, "Cookie", CookieName+"="+c.cookie.Value)
		body := readBody(t, resp)
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", c.name, resp.StatusCode, c.status)
			continue
		}
		if c.wantType != "" && (resp.Header.Get("Content-Type") != c.wantType || body != string(tinyPNG)) {
			t.Errorf("%s: %q %q", c.name, resp.Header.Get("Content-Type"), body)
		}
		if c.status != 200 && strings.Contains(body, "alert") {
			t.Errorf("%s: passed the platform's page through", c.name)
		}
	}
	// Another meeting's participant is not reachable either.
	e.create("other")
	oc, oloc := e.enter(e.joinXML("other", "Stranger", "MODERATOR"))
	resp := e.get(oloc+"avatar/"+modID, "Cookie", CookieName+"="+oc.Value)
	if readBody(t, resp); resp.StatusCode != 404 {
		t.Fatalf("cross-meeting avatar: %d", resp.StatusCode)
	}
}
