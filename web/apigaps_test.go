package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"aula/internal/testenv"
)

// items turns <metadata> or <customdata> children into a map.
func (m bbbMeta) items() map[string]string {
	out := map[string]string{}
	for _, it := range m.Items {
		out[it.XMLName.Local] = it.Value
	}
	return out
}

// TestJoinCustomData: join's userdata-* parameters come back in
// getMeetingInfo's <customdata>, named as given without the prefix, as
// BBB does; names BBB drops (a second dash) or that are no XML name are
// left out; bad values fail the join like any parameter.
func TestJoinCustomData(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.create("cd")
	// A moderator starts the meeting, so viewers are in the room.
	mod, _ := e.enter(e.joinXML("cd", "Mod", "MODERATOR"))
	e.attach(ctx, mod)
	var j bbbJoin
	body := e.call("join", url.Values{"meetingID": {"cd"}, "fullName": {"Ann"}, "role": {"VIEWER"}, "redirect": {"false"},
		"userdata-bbb_skip_check_audio": {"true"}, "userdata-Course": {"Physik 1 & <2>"},
		"userdata-x-y": {"dropped"}, "userdata-1bad": {"skipped"}, "userdata-": {"empty"}, "userdatax": {"no dash"}}, &j)
	if j.ReturnCode != "SUCCESS" {
		t.Fatalf("join: %s", body)
	}
	c, _ := e.enter(j)
	e.attach(ctx, c)
	e.enter2(t, "cd", "Bob") // an attendee without custom data
	var info bbbInfo
	e.call("getMeetingInfo", url.Values{"meetingID": {"cd"}}, &info)
	got := map[string]map[string]string{}
	for _, a := range info.Attendees {
		got[a.FullName] = a.CustomData.items()
	}
	want := map[string]string{"bbb_skip_check_audio": "true", "Course": "Physik 1 & <2>"}
	if len(got["Ann"]) != len(want) || got["Ann"]["bbb_skip_check_audio"] != "true" || got["Ann"]["Course"] != want["Course"] {
		t.Fatalf("customdata %v, want %v", got["Ann"], want)
	}
	if len(got["Bob"]) != 0 || len(got) != 3 {
		t.Fatalf("Bob's customdata %v", got["Bob"])
	}
	// Bad values are refused as other parameters are.
	many := url.Values{"meetingID": {"cd"}, "fullName": {"Eve"}, "role": {"VIEWER"}, "redirect": {"false"}}
	for i := range 65 {
		many.Set("userdata-k"+strconv.Itoa(i), "v")
	}
	for _, p := range []url.Values{
		{"meetingID": {"cd"}, "fullName": {"Eve"}, "role": {"VIEWER"}, "userdata-a": {"bell\x07"}},
		{"meetingID": {"cd"}, "fullName": {"Eve"}, "role": {"VIEWER"}, "userdata-a": {strings.Repeat("x", 2049)}},
		many,
	} {
		e.mustFail("join", p, "validationError")
	}
}

// enter2 joins name to id as a viewer and puts them into the room.
func (e *env) enter2(t *testing.T, id, name string) {
	t.Helper()
	c, _ := e.enter(e.joinXML(id, name, "VIEWER"))
	e.attach(context.Background(), c)
}

// TestStartTimeIsCreateTime: BBB sets startTime when the meeting is
// created; clients (the Ruby gem) read a 0 as "no start". running keeps
// its meaning (a moderator came).
func TestStartTimeIsCreateTime(t *testing.T) {
	e := newEnv(t)
	c := e.create("st")
	var info bbbInfo
	e.call("getMeetingInfo", url.Values{"meetingID": {"st"}}, &info)
	if info.StartTime == "0" || info.StartTime != c.CreateTime || info.Running != "false" {
		t.Fatalf("startTime %q createTime %q running %q", info.StartTime, c.CreateTime, info.Running)
	}
	var ms bbbMeetings
	e.call("getMeetings", nil, &ms)
	if len(ms.Meetings) != 1 || ms.Meetings[0].StartTime != c.CreateTime {
		t.Fatalf("getMeetings %+v", ms.Meetings)
	}
	e.enter2(t, "st", "Viewer")
	mod, _ := e.enter(e.joinXML("st", "Mod", "MODERATOR"))
	e.attach(context.Background(), mod)
	info = bbbInfo{}
	e.call("getMeetingInfo", url.Values{"meetingID": {"st"}}, &info)
	if info.StartTime != c.CreateTime || info.Running != "true" {
		t.Fatalf("after the moderator came: startTime %q running %q", info.StartTime, info.Running)
	}
}

// TestHooksAnswerXML: the webhooks API (hooks/create, list, destroy) is
// not offered; clients get BBB's FAILED reply, not an HTML page.
func TestHooksAnswerXML(t *testing.T) {
	e := newEnv(t)
	for _, call := range []string{"hooks/create", "hooks/list", "hooks/destroy", "hooks/anything/else"} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			q := url.Values{"callbackURL": {"https://lms.example/hook"}}.Encode()
			req, _ := http.NewRequest(method, e.srv.URL+"/bigbluebutton/api/"+call+"?"+q+"&checksum="+Sign("sha1", call, q, testSecret), nil)
			resp, err := e.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body := readBody(t, resp)
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml") ||
				!strings.Contains(body, "<returncode>FAILED</returncode>") || !strings.Contains(body, "<messageKey>unsupportedRequest</messageKey>") {
				t.Errorf("%s %s: %d %q %s", method, call, resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
		}
	}
}

// TestOneCharacterPasswords: BBB only wants passwords non-empty.
func TestOneCharacterPasswords(t *testing.T) {
	e := newEnv(t)
	var c bbbCreate
	body := e.call("create", url.Values{"meetingID": {"pw1"}, "name": {"P"}, "attendeePW": {"a"}, "moderatorPW": {"m"}}, &c)
	if c.ReturnCode != "SUCCESS" || c.AttendeePW != "a" || c.ModeratorPW != "m" {
		t.Fatalf("create: %s", body)
	}
	var j bbbJoin
	e.call("join", url.Values{"meetingID": {"pw1"}, "fullName": {"Ann"}, "password": {"a"}, "redirect": {"false"}}, &j)
	if j.ReturnCode != "SUCCESS" {
		t.Fatalf("join with a one-character password: %+v", j)
	}
	e.mustFail("create", url.Values{"meetingID": {"pw2"}, "name": {"P"}, "attendeePW": {strings.Repeat("a", 65)}}, "validationError")
}

// callbackRecorder is a platform endpoint that records end callbacks.
type callbackRecorder struct {
	mu    sync.Mutex
	calls []*http.Request
}

func (c *callbackRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.calls = append(c.calls, r)
	c.mu.Unlock()
}

func (c *callbackRecorder) snapshot() []*http.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*http.Request(nil), c.calls...)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.Eventually(t, 5*time.Second, what, cond)
}

// TestEndCallback: meta_endCallbackUrl is called once when the meeting
// ends, as BBB does (GET, the URL as given plus meetingID and
// recordingmarks), through the outbound guard.
func TestEndCallback(t *testing.T) {
	rec := &callbackRecorder{}
	platform := httptest.NewServer(rec)
	defer platform.Close()
	e := newEnv(t, allowLoopback)
	e.create("cb", "meta_endCallbackUrl", platform.URL+"/ended?room=7&sig=abc")
	if n := len(rec.snapshot()); n != 0 {
		t.Fatalf("%d calls before the end", n)
	}
	e.call("end", url.Values{"meetingID": {"cb"}}, nil)
	// Once the callback's goroutine says it is done, nothing more comes.
	waitFor(t, "the end callback", func() bool { return strings.Contains(e.log.String(), "end callback made") })
	calls := rec.snapshot()
	if len(calls) != 1 {
		t.Fatalf("%d calls", len(calls))
	}
	r := calls[0]
	q := r.URL.Query()
	if r.Method != http.MethodGet || r.URL.Path != "/ended" || q.Get("room") != "7" || q.Get("sig") != "abc" ||
		q.Get("meetingID") != "cb" || q.Get("recordingmarks") != "false" {
		t.Fatalf("callback %s %s", r.Method, r.URL)
	}
	// A second end finds nothing and calls nothing; another meeting
	// without the callback calls nothing either.
	e.mustFail("end", url.Values{"meetingID": {"cb"}}, "notFound")
	// (The hook runs within end: without a URL it starts nothing.)
	e.create("nocb")
	e.call("end", url.Values{"meetingID": {"nocb"}}, nil)
	if n := len(rec.snapshot()); n != 1 || strings.Count(e.log.String(), "end callback") != 1 {
		t.Fatalf("%d calls", n)
	}
}

// TestEndCallbackGuarded: without the allow setting a callback to this
// machine is not made (the refusal is logged).
func TestEndCallbackGuarded(t *testing.T) {
	rec := &callbackRecorder{}
	platform := httptest.NewServer(rec)
	defer platform.Close()
	e := newEnv(t)
	e.create("cbg", "meta_endCallbackUrl", platform.URL+"/ended")
	e.call("end", url.Values{"meetingID": {"cbg"}}, nil)
	waitFor(t, "the refused callback in the log", func() bool {
		return strings.Contains(e.log.String(), "end callback failed") && strings.Contains(e.log.String(), "not allowed")
	})
	if n := len(rec.snapshot()); n != 0 {
		t.Fatalf("loopback callback called %d times", n)
	}
	if strings.Contains(e.log.String(), "sig=") {
		t.Fatal("the callback URL's query was logged")
	}
}
