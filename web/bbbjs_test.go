package web

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aula/internal/testenv"
)

// TestBigBlueButtonJS drives the API with the npm client bigbluebutton-js
// 0.2.0, a real third-party BBB client: it signs with sha1 and %20 spaces
// and parses the XML replies itself.
func TestBigBlueButtonJS(t *testing.T) {
	node := testenv.Tool(t, "node")
	dir := testenv.Env(t, "AULA_TEST_BBBJS")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "bigbluebutton-js")); err != nil {
		if testenv.CI() {
			t.Fatalf("bigbluebutton-js not installed in %s (run npm ci there)", dir)
		}
		t.Skipf("bigbluebutton-js not installed in %s; run scripts/test", dir)
	}
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "drive.mjs", e.srv.URL+"/bigbluebutton/", testSecret)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node drive.mjs: %v\n%s", err, stderr.String())
	}
	// fast-xml-parser turns numbers and booleans into JSON ones.
	type anyMap = map[string]any
	var got struct {
		Create, Duplicate, Join, Info, Running, Meetings, End, InfoAfterEnd, RunningAfterEnd anyMap
		Redeem                                                                               struct {
			Status           int
			Location, Cookie string
		}
		JoinURL   string
		MeetingID string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("output %s: %v", out, err)
	}
	check := func(what string, m anyMap, key string, want any) {
		t.Helper()
		if m[key] != want {
			t.Errorf("%s.%s = %#v, want %#v (all: %v)", what, key, m[key], want, m)
		}
	}
	check("create", got.Create, "returncode", "SUCCESS")
	check("create", got.Create, "meetingID", got.MeetingID)
	check("create", got.Create, "attendeePW", "secret-ap")
	check("create", got.Create, "duration", float64(45))
	check("duplicate", got.Duplicate, "messageKey", "duplicateWarning")
	check("join", got.Join, "returncode", "SUCCESS")
	check("join", got.Join, "messageKey", "successfullyJoined")
	check("info", got.Info, "returncode", "SUCCESS")
	// fast-xml-parser 3 leaves entities undecoded, as it would with BBB.
	check("info", got.Info, "meetingName", "Kurs mit Leerzeichen &amp; Umlauten ä")
	check("info", got.Info, "recording", false)
	check("info", got.Info, "running", false)
	if md, _ := got.Info["metadata"].(anyMap); md == nil || md["bbb-origin"] != "bigbluebutton-js" {
		t.Errorf("metadata %v", got.Info["metadata"])
	}
	check("running", got.Running, "returncode", "SUCCESS")
	check("running", got.Running, "running", false)
	check("meetings", got.Meetings, "returncode", "SUCCESS")
	if ms, _ := got.Meetings["meetings"].([]any); len(ms) != 1 {
		t.Errorf("meetings %v", got.Meetings["meetings"])
	}
	check("end", got.End, "messageKey", "sentEndMeetingRequest")
	check("infoAfterEnd", got.InfoAfterEnd, "messageKey", "notFound")
	check("runningAfterEnd", got.RunningAfterEnd, "running", false)

	// The one-time URL of the redirect=false join entered the client.
	if got.Redeem.Status != http.StatusFound || !strings.Contains(got.Redeem.Location, "/r/") ||
		!strings.HasPrefix(got.Redeem.Cookie, CookieName+"=") || !strings.Contains(got.Redeem.Cookie, "HttpOnly") {
		t.Errorf("redeem %+v", got.Redeem)
	}
	// After the end the URL is dead with everything else of the meeting.
	joinURL, _ := got.Join["url"].(string)
	resp := e.get(joinURL)
	readBody(t, resp)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("join url after end: %d", resp.StatusCode)
	}
	// The client's signed join URL (built before the end) was good: its
	// checksum verifies, and the meeting is now gone.
	resp = e.get(got.JoinURL)
	if b := readBody(t, resp); !strings.Contains(b, "<messageKey>notFound</messageKey>") {
		t.Errorf("join after end: %d %s", resp.StatusCode, b)
	}
}
