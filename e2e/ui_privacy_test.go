package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"aula/internal/testenv"
	"aula/room"
	"aula/web"
)

// The privacy promises of issue 12, proven on a whole browser session:
// no request leaves for anyone but Aula, and the only cookie is the
// session cookie, which dies with the browser (no Expires, no Max-Age).

// cookieLog keeps every Set-Cookie header a page received, as sent.
type cookieLog struct {
	mu      sync.Mutex
	cookies []string
}

// recordCookies starts collecting the raw Set-Cookie headers of every
// response of the page (network.responseReceivedExtraInfo, which also
// covers redirects); call it before the page navigates.
func (p *tab) recordCookies() *cookieLog {
	p.t.Helper()
	l := &cookieLog{}
	if err := chromedp.Listen(p.ctx, func(ev any) {
		e, ok := ev.(*network.EventResponseReceivedExtraInfo)
		if !ok {
			return
		}
		for k, v := range e.Headers {
			if !strings.EqualFold(k, "Set-Cookie") {
				continue
			}
			s, _ := v.(string)
			l.mu.Lock()
			// Several Set-Cookie headers arrive joined by newlines.
			for _, c := range strings.Split(s, "\n") {
				if c = strings.TrimSpace(c); c != "" {
					l.cookies = append(l.cookies, c)
				}
			}
			l.mu.Unlock()
		}
	}); err != nil {
		p.t.Fatalf("%s: record cookies: %v", p.name, err)
	}
	return l
}

func (l *cookieLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.cookies...)
}

// TestPrivacyOfASession: a viewer waits in the lobby with the device
// check (camera and microphone tried), a moderator starts, both switch
// camera and microphone on and receive each other, chat, see the
// presentation the platform uploaded on create, the presenter draws a
// stroke, both write notes, a poll is asked, answered and published, the
// viewer leaves and the moderator ends the meeting. Every request of both
// pages went to Aula's own origin, and every Set-Cookie of every response
// was the session cookie, HttpOnly, SameSite, without Expires or Max-Age.
func TestPrivacyOfASession(t *testing.T) {
	chrome := testenv.Chromium(t)
	a := startServer(t, "")
	base := a.URL()
	aula, _ := originOf(base)
	meetingID := "e2e-privacy-" + room.NewID()
	createMeeting(t, base, meetingID)
	browser := startBrowser(t, chrome)

	viewer := newPage(t, browser, "viewer")
	mod := newPage(t, browser, "moderator")
	requests := map[*tab]*requestLog{}
	cookies := map[*tab]*cookieLog{}
	for _, p := range []*tab{viewer, mod} {
		requests[p] = p.recordRequests()
		cookies[p] = p.recordCookies()
		p.run("install the media probe", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: mediaProbe})
			return err
		}))
	}

	// The lobby, with the device check.
	viewer.run("join", chromedp.Navigate(joinURL(base, meetingID, "Vera Viewer", room.Viewer)))
	viewer.viewport(1280, 800, false)
	viewer.waitFor("the lobby", visible("#lobby-wait"))
	viewer.click("camera preview", "#check-cam")
	viewer.waitFor("the camera preview", `document.querySelector('#check-video').videoWidth > 0`)
	viewer.click("microphone test", "#check-mic")
	viewer.waitFor("the microphone on", pressed("#check-mic", true))

	// The moderator starts; both go in with camera and microphone on.
	mod.run("join", chromedp.Navigate(joinURL(base, meetingID, "Maria Moderator", room.Moderator)))
	mod.viewport(1280, 800, false)
	mod.enter()
	// Admitted from the lobby's device check, the viewer goes in (at once,
	// or with the join button).
	viewer.waitFor("admission", visible("#check-join")+" || "+visible("#view-room"))
	if !viewer.eval(visible("#view-room")) {
		viewer.enter()
	}
	for _, p := range []*tab{mod, viewer} {
		p.waitFor("both in the room", rosterHas("Vera Viewer")+" && "+rosterHas("Maria Moderator"))
		if !p.eval(pressed("#mic-toggle", true)) {
			p.click("microphone on", "#mic-toggle")
		}
		if !p.eval(pressed("#cam-toggle", true)) {
			p.click("camera on", "#cam-toggle")
		}
		p.waitFor("camera and microphone on", pressed("#mic-toggle", true)+" && "+pressed("#cam-toggle", true))
	}
	mod.receiving("the viewer's audio and video")
	viewer.receiving("the moderator's audio and video")

	// Chat.
	viewer.openTab("chat")
	viewer.run("chat", chromedp.SendKeys(chromedp.CSS("#chat-input"), "Guten Morgen"), chromedp.Click(chromedp.CSS("#chat-send")))
	mod.openTab("chat")
	mod.waitFor("the viewer's line", chatHas("Vera Viewer", "Guten Morgen"))

	// The presentation from create, on the stage (its conversion may
	// still run), and a stroke of the presenter.
	for _, p := range []*tab{mod, viewer} {
		testenv.Eventually(t, 3*stepWait, p.name+": the pre-uploaded slides on the stage", func() bool {
			return p.eval(visible("#stage-presentation") + ` && document.querySelector('#pres-img').complete && document.querySelector('#pres-img').naturalWidth > 0`)
		})
	}
	mod.waitFor("the pen", visible("#wb-tools")+" && "+pressed(`#wb-tools [data-tool="pen"]`, true))
	mod.drag("a stroke", stroke(0.2, 0.5)...)
	viewer.waitFor("the stroke", shapes("pen", "")+` === 1`)

	// Notes from both, one after the other: the viewer waits for the
	// moderator's line, so neither types into the other's words (typing
	// at the same place at once is TestLessonToolsInTheBrowser's).
	for _, p := range []*tab{mod, viewer} {
		p.openTab("notes")
		if p == viewer {
			p.waitFor("the moderator's line in the notes", `document.querySelector('#notes-text').value.includes('moderator was here. ')`)
		}
		p.click("into the notes", "#notes-text")
		if err := p.typeText(p.name + " was here. "); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []*tab{mod, viewer} {
		p.waitFor("both lines in the notes", `(t => t.includes('moderator was here.') && t.includes('viewer was here.'))(document.querySelector('#notes-text').value)`)
	}

	// A poll.
	mod.openTab("polls")
	mod.run("ask", chromedp.SendKeys(chromedp.CSS("#poll-question"), "Alles klar?"), chromedp.Click(chromedp.CSS("#poll-start")))
	viewer.openTab("polls")
	viewer.waitFor("the poll", `!!document.querySelector('#poll-current button.poll-option')`)
	viewer.click("yes", `#poll-current button.poll-option[data-option="0"]`)
	mod.waitFor("the answer", `(document.querySelector('#poll-current .poll-total')?.textContent || '').startsWith('1 ')`)
	mod.click("publish", "#poll-publish")
	viewer.waitFor("the result", `!!document.querySelector('#poll-current .poll-results')`)

	// The viewer leaves; the moderator ends the meeting.
	viewer.click("leave", "#leave")
	viewer.waitFor("the end page", visible("#view-ended"))
	mod.click("leave", "#leave")
	mod.waitFor("the confirmation", visible("#end-confirm"))
	mod.click("end for all", "#end-confirm")
	mod.waitFor("the end page", visible("#view-ended"))

	for _, p := range []*tab{viewer, mod} {
		n := len(requests[p].all())
		if n < 20 {
			t.Errorf("%s: only %d requests recorded: the recording is broken", p.name, n)
		}
		checkOrigins(t, p.name, requests[p], aula, "", 0)
		all := cookies[p].all()
		if len(all) == 0 {
			t.Errorf("%s: no Set-Cookie recorded: the recording is broken", p.name)
		}
		for _, c := range all {
			checkSessionCookie(t, p.name, c)
		}
		t.Logf("%s: %d requests, Set-Cookie %q", p.name, n, all)
		if s := p.jsString(`document.cookie`); s != "" {
			t.Errorf("%s: the page's script sees cookies: %q", p.name, s)
		}
		p.noErrors()
	}
}

// checkSessionCookie fails the test unless a Set-Cookie header is the
// session cookie, HttpOnly and SameSite, living only as long as the
// browser (no Expires, no Max-Age).
func checkSessionCookie(t *testing.T, who, header string) {
	t.Helper()
	parsed, err := http.ParseSetCookie(header)
	if err != nil {
		t.Errorf("%s: a Set-Cookie that does not parse: %q: %v", who, header, err)
		return
	}
	if parsed.Name != web.CookieName {
		t.Errorf("%s: a cookie other than the session cookie: %q", who, header)
	}
	lower := strings.ToLower(header)
	for _, attr := range []string{"expires", "max-age"} {
		if strings.Contains(lower, attr) {
			t.Errorf("%s: the session cookie has %s: %q", who, attr, header)
		}
	}
	if !parsed.HttpOnly || parsed.SameSite == http.SameSiteDefaultMode {
		t.Errorf("%s: the session cookie is not HttpOnly with SameSite: %q", who, header)
	}
	if !strings.HasPrefix(parsed.Path, "/r/") {
		t.Errorf("%s: the session cookie is not scoped to its room's page: %q", who, fmt.Sprint(parsed.Path))
	}
}
