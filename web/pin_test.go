package web

import (
	"net/url"
	"strings"
	"testing"
)

// TestPINNowherePublic: a room's PIN and dial-in number are shown inside
// the conference only (over the WebSocket, after admission). No page,
// API refusal, health check or metric a stranger or a viewer's browser
// can fetch before entering carries them, and neither does the access
// log.
func TestPINNowherePublic(t *testing.T) {
	const pin, dial = "73519", "+49 30 9876543"
	e := newEnv(t)
	e.create("pinned", "voiceBridge", pin, "dialNumber", dial)
	j := e.joinXML("pinned", "Vera Viewer", "VIEWER")
	cookie, page := e.enter(j)

	bodies := map[string]string{}
	for name, u := range map[string]string{
		"start page":                    e.srv.URL + "/",
		"health":                        e.srv.URL + "/healthz",
		"readiness":                     e.srv.URL + "/readyz",
		"metrics":                       e.srv.URL + "/metrics",
		"a page that does not exist":    e.srv.URL + "/r/nothing/",
		"getMeetingInfo, bad checksum":  e.srv.URL + "/bigbluebutton/api/getMeetingInfo?meetingID=pinned&checksum=00",
		"isMeetingRunning, no checksum": e.srv.URL + "/bigbluebutton/api/isMeetingRunning?meetingID=pinned",
		"the API root":                  e.srv.URL + "/bigbluebutton/api/",
	} {
		resp := e.get(u)
		bodies[name] = readBody(t, resp)
	}
	status, body, _ := e.do("GET", page, cookie, nil)
	if status != 200 {
		t.Fatalf("the viewer's page: %d", status)
	}
	bodies["the viewer's client page"] = body
	if !strings.Contains(bodies["metrics"], "aula_") {
		t.Fatalf("no metrics to check: %q", bodies["metrics"])
	}
	bodies["access log"] = e.log.String()
	for name, b := range bodies {
		for _, secret := range []string{pin, dial, url.QueryEscape(dial), "9876543"} {
			if strings.Contains(b, secret) {
				t.Errorf("%s shows %q", name, secret)
			}
		}
	}
}
