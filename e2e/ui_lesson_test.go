package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"aula/app"
	"aula/internal/testenv"
	"aula/room"
)

// Browser tests of the lesson tools (issue 10): polls, the shared notes,
// their export, the timer and the shared external video, with two
// participants and a third who joins late. Every request of every page
// goes to Aula's own origin, except the shared video's once it is shared.

// requestLog keeps the URL of every request a page makes (documents,
// scripts, fetches, media, frames, WebSockets), in order.
type requestLog struct {
	mu   sync.Mutex
	urls []string
}

func (l *requestLog) add(u string) {
	l.mu.Lock()
	l.urls = append(l.urls, u)
	l.mu.Unlock()
}

func (l *requestLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.urls...)
}

// recordRequests starts recording the page's requests; call it before
// the page navigates.
func (p *tab) recordRequests() *requestLog {
	p.t.Helper()
	l := &requestLog{}
	if err := chromedp.Listen(p.ctx, func(ev any) {
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			l.add(e.Request.URL)
		case *network.EventWebSocketCreated:
			l.add(e.URL)
		}
	}); err != nil {
		p.t.Fatalf("%s: record requests: %v", p.name, err)
	}
	return l
}

// originOf is a URL's origin, a WebSocket's as the page's (ws: as http:).
func originOf(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", false
	}
	switch u.Scheme {
	case "http", "https":
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	default:
		return "", false // data:, blob:, about: never leave the browser
	}
	return u.Scheme + "://" + u.Host, true
}

// checkOrigins fails the test for a request to anyone but Aula, or to the
// shared video's origin before it was shared (the first `before`
// requests of the log). It returns how many went to the video's origin.
func checkOrigins(t *testing.T, who string, l *requestLog, aula, video string, before int) int {
	t.Helper()
	n := 0
	for i, u := range l.all() {
		o, ok := originOf(u)
		if !ok || o == aula {
			continue
		}
		if video != "" && o == video {
			if i < before {
				t.Errorf("%s: a request to the video's origin before it was shared: %s", who, u)
			}
			n++
			continue
		}
		t.Errorf("%s: a request to another origin: %s", who, u)
	}
	return n
}

// frameVideo is a JS expression: the <video> of the shared video's frame.
const frameVideo = `(() => { const f = document.querySelector('#video-frame'); const d = f && f.contentDocument; return d && d.querySelector('video'); })()`

// typeText types text into the focused element one character at a time.
func (p *tab) typeText(text string) error {
	for _, r := range text {
		ctx, cancel := contextFor(p)
		err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, input.InsertText, input.InsertTextParams{Text: string(r)})
			return err
		}))
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}

// jsNumber evaluates a JS expression that yields a number.
func (p *tab) jsNumber(expr string) float64 {
	p.t.Helper()
	ctx, cancel := contextFor(p)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[float64](expr))
	if err != nil {
		p.t.Fatalf("%s: evaluate %s: %v", p.name, expr, err)
	}
	return v
}

// jsString evaluates a JS expression that yields a string.
func (p *tab) jsString(expr string) string {
	p.t.Helper()
	ctx, cancel := contextFor(p)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		p.t.Fatalf("%s: evaluate %s: %v", p.name, expr, err)
	}
	return v
}

// shot saves a screenshot of the page as <name>.png into the folder
// AULA_LESSON_SHOTS names (for looking at the lesson tools; nothing when unset).
func (p *tab) shot(name string) {
	p.t.Helper()
	dir := os.Getenv("AULA_LESSON_SHOTS")
	if dir == "" {
		return
	}
	ctx, cancel := contextFor(p)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Errorf("%s: screenshot: %v", p.name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		p.t.Error(err)
	}
}

// openMore opens the action bar's "More" menu and chooses an item.
func (p *tab) openMore(item string) {
	p.t.Helper()
	if !p.eval(visible("#" + item)) {
		p.click("open More", "#more-toggle")
	}
	p.waitFor("the menu item "+item, visible("#"+item))
	p.click(item, "#"+item)
}

// TestLessonToolsInTheBrowser: a moderator and a viewer in the room.
// A poll answered by the viewer stays without result for them until it is
// published, then the result shows in the poll, the chat and on the
// current whiteboard page. Both type into the notes at the same place at
// the same time and end with the same text holding both inputs (also
// after an undo and a redo); the moderator exports the notes in all four
// formats (the PDF read back by pdftotext), the viewer's export is
// refused. A countdown started by the moderator counts down for the
// viewer to zero. A WebM file served from another loopback origin is
// shared, played, sought and paused at 12 s: it is paused at 12 ± 1 s for
// the viewer and for a third page that joins later, and the viewer can
// mute their copy. axe-core finds nothing with the Polls and Notes tabs
// open and the video shown. Every request of every page went to Aula,
// except the video's after it was shared.
func TestLessonToolsInTheBrowser(t *testing.T) {
	chrome := testenv.Chromium(t)
	a := startServer(t, "")
	base := a.URL()
	aula, _ := originOf(base)
	meetingID := "e2e-lesson-" + room.NewID()
	createMeeting(t, base, meetingID)
	mt, err := a.Manager().Meeting(context.Background(), meetingID)
	if err != nil {
		t.Fatal(err)
	}
	browser := startBrowser(t, chrome)

	// The test video: encoded by the browser in a tab of its own before
	// the session (that tab is not part of it), served from another origin.
	enc := newPage(t, browser, "encoder")
	enc.run("a page to encode in", chromedp.Navigate(base+"/healthz"))
	vsrv := serveVideo(t, webm(t, encodeTestVideo(t, enc, 25), 160, 90))
	videoOrigin, _ := originOf(vsrv.URL)

	mod := newPage(t, browser, "moderator")
	vie := newPage(t, browser, "viewer")
	logs := map[*tab]*requestLog{mod: mod.recordRequests(), vie: vie.recordRequests()}
	mod.run("join", chromedp.Navigate(joinURL(base, meetingID, "Maria Moderator", room.Moderator)))
	mod.viewport(1280, 800, false)
	mod.enter()
	vie.run("join", chromedp.Navigate(joinURL(base, meetingID, "Vera Viewer", room.Viewer)))
	vie.viewport(1280, 800, false)
	vie.enter()
	for _, p := range []*tab{mod, vie} {
		p.waitFor("both in the room", `document.querySelectorAll('#roster li').length === 2`)
		if p.eval(`!!document.querySelector('iframe')`) {
			t.Errorf("%s: a frame before any video was shared", p.name)
		}
	}

	lessonPoll(t, a, mt.Key, mod, vie)
	lessonNotes(t, a, mt.Key, mod, vie)
	lessonExport(t, mod, vie)
	lessonTimer(t, mod, vie)
	before := map[*tab]int{mod: len(logs[mod].all()), vie: len(logs[vie].all())}
	late := lessonVideo(t, a, mt.Key, base, meetingID, vsrv.URL+"/clip.webm", browser, mod, vie)
	logs[late.p] = late.log
	before[late.p] = 0

	// axe with the polls and notes tabs open and the video on the stage.
	mod.openTab("polls")
	mod.axe("the polls tab with a published poll and a shared video")
	vie.openTab("notes")
	vie.axe("the notes tab with a shared video")

	// On a phone: the video on the stage, the tabs in the drawer.
	vie.viewport(390, 844, true)
	vie.checkLayout("a phone with the shared video", false)
	vie.openTab("polls")
	vie.checkLayout("a phone with the polls in the drawer", false)
	vie.shot("phone-polls")
	vie.axe("the polls in the drawer on a phone, with a shared video")
	vie.openTab("notes")
	vie.shot("phone-notes")

	for p, l := range logs {
		if n := checkOrigins(t, p.name, l, aula, videoOrigin, before[p]); n == 0 {
			t.Errorf("%s: no request to the video's origin: the video did not load from there", p.name)
		}
	}
	for _, p := range []*tab{mod, vie, late.p} {
		p.noErrors()
		for _, v := range p.strings(`(() => { const f = document.querySelector('#video-frame'); return (f && f.contentWindow && f.contentWindow.__csp) || []; })()`) {
			t.Errorf("%s: Content-Security-Policy violation in the video's frame: %s", p.name, v)
		}
	}
}

// lessonPoll: asked by the moderator, answered by the viewer, published.
func lessonPoll(t *testing.T, a *app.App, key string, mod, vie *tab) {
	const question = "Is the lesson clear?"
	vie.openTab("chat")
	mod.openTab("polls")
	mod.waitFor("the poll form", visible("#poll-form"))
	if vie.eval(visible("#poll-form")) {
		t.Error("a viewer sees the form to ask a poll")
	}
	mod.run("ask", chromedp.SendKeys(chromedp.CSS("#poll-question"), question), chromedp.Click(chromedp.CSS("#poll-start")))

	// The viewer is elsewhere: the tab shows the new poll.
	vie.waitFor("the polls tab marked", visible("#polls-badge"))
	vie.openTab("polls")
	vie.waitFor("the mark gone", `document.querySelector('#polls-badge').hidden`)
	vie.waitFor("the question and its options", fmt.Sprintf(`document.querySelector('#poll-current .poll-question')?.textContent === %q && [...document.querySelectorAll('#poll-current button.poll-option')].map(b => b.textContent).join('|') === 'Yes|No'`, question))
	vie.click("answer yes", `#poll-current button.poll-option[data-option="0"]`)
	vie.waitFor("the own answer", `(document.querySelector('#poll-mine')?.textContent || '').includes('Yes')`)
	mod.waitFor("the live result with the voter's name", `(() => {
  const li = document.querySelector('#poll-current .poll-result[data-option="0"]');
  return li && li.querySelector('.poll-count').textContent.startsWith('1 vote') && li.querySelector('.poll-voters')?.textContent === 'Vera Viewer';
})()`)
	// Not published: the viewer sees no result, however long it waits.
	if vie.eval(`!!document.querySelector('#poll-current .poll-results') || document.querySelector('#panel-polls').textContent.includes('vote')`) {
		t.Fatalf("the viewer sees the result before it is published: %q", vie.text("#poll-current"))
	}
	mod.shot("poll-live-moderator")
	vie.shot("poll-answered-viewer")
	mod.click("publish", "#poll-publish")
	vie.waitFor("the published result", `(document.querySelector('#poll-current .poll-result[data-option="0"] .poll-count')?.textContent || '').startsWith('1 vote') && (document.querySelector('#poll-current .poll-result[data-option="1"] .poll-count')?.textContent || '').startsWith('0 votes')`)
	if vie.eval(`!!document.querySelector('#poll-current .poll-voters')`) {
		t.Error("the viewer sees who voted")
	}
	vie.shot("poll-published-viewer")
	vie.openTab("chat")
	vie.waitFor("the result in the chat", fmt.Sprintf(`[...document.querySelectorAll('#chat-lines li.system')].some(li => li.querySelector('.text').textContent.startsWith(%q) && li.textContent.includes('(1)'))`, question))

	// On the slide: a text shape with the result on a current page.
	testenv.Eventually(t, stepWait, "the poll's result on the whiteboard", func() bool {
		docs, err := a.Manager().PresentationDocs(key)
		if err != nil {
			return false
		}
		for _, d := range docs {
			shapes, _ := a.Manager().Shapes(key, room.PageRef{Doc: d.ID, Page: d.Page})
			for _, s := range shapes {
				if s.Kind == room.ShapeText && strings.HasPrefix(s.ID, "poll-") && strings.Contains(s.Text, question) {
					return true
				}
			}
		}
		return false
	})
}

// lessonNotes: both type at the same place at the same time.
func lessonNotes(t *testing.T, a *app.App, key string, mod, vie *tab) {
	const modWords, vieWords = "alpha bravo charlie ", "delta echo foxtrot "
	for _, p := range []*tab{mod, vie} {
		p.openTab("notes")
		p.waitFor("the notes", visible("#notes-text")+` && !document.querySelector('#notes-text').readOnly`)
		p.click("into the notes", "#notes-text")
		p.waitFor("the caret in the notes", `document.activeElement === document.querySelector('#notes-text') && document.querySelector('#notes-text').selectionStart === 0`)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, w := range []struct {
		p    *tab
		text string
	}{{mod, modWords}, {vie, vieWords}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = w.p.typeText(w.text)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("typing: %v", err)
		}
	}
	// same waits until both pages and the server hold the same text, and
	// it is as wanted.
	same := func(what string, ok func(string) bool) string {
		var text string
		testenv.Eventually(t, stepWait, what, func() bool {
			m, v := mod.jsString(`document.querySelector('#notes-text').value`), vie.jsString(`document.querySelector('#notes-text').value`)
			s, err := a.Manager().NotesText(key)
			if err != nil || m != v || s != m || !ok(m) {
				return false
			}
			text = m
			return true
		}, func() {
			t.Logf("moderator %q, viewer %q", mod.jsString(`document.querySelector('#notes-text').value`), vie.jsString(`document.querySelector('#notes-text').value`))
		})
		return text
	}
	// Every keystroke of both is kept, each one's in their order. (At the
	// same place the later operation's insert comes first, which keeps
	// each typist's words together in practice; the test asks only for
	// what OT guarantees.)
	both := func(text string) bool {
		return len(text) == len(modWords)+len(vieWords) && subsequence(modWords, text) && subsequence(vieWords, text)
	}
	text := same("both inputs in the same text everywhere", both)
	t.Logf("the notes after typing together: %q", text)
	// Who is editing, with a cursor.
	mod.waitFor("the viewer shown as editing", `(document.querySelector('#notes-presence')?.textContent || '').includes('Vera Viewer')`)
	mod.waitFor("the viewer's cursor", `!!document.querySelector('#notes-mirror .notes-caret[data-name="Vera Viewer"]')`)
	mod.shot("notes-moderator")
	// Undo takes back the viewer's own typing only, redo brings it back.
	vie.click("undo", "#notes-undo")
	same("the viewer's words undone everywhere", func(s string) bool { return s == modWords })
	vie.click("redo", "#notes-redo")
	same("the viewer's words back", func(s string) bool { return s == text })
	// A heading from the toolbar, for everyone.
	mod.eval(`(() => { const ta = document.querySelector('#notes-text'); ta.focus(); ta.setSelectionRange(0, 0); return true; })()`)
	mod.click("heading", "#notes-heading")
	same("the heading everywhere", func(s string) bool { return s == "# "+text })

	// Locked for viewers: read-only with a notice, and open again.
	lockNotes := func(on bool) {
		mod.openTab("people")
		mod.click("open the lock settings", "#lock-open")
		mod.waitFor("the lock dialog", visible("#lock-dialog"))
		mod.eval(fmt.Sprintf(`(document.querySelector('#lock-form [name=disableNotes]').checked = %t, true)`, on))
		mod.click("apply", "#lock-apply")
		mod.waitFor("the dialog closed", `!document.querySelector('#lock-dialog').open`)
	}
	lockNotes(true)
	vie.waitFor("the notes read-only with a notice", visible("#notes-locked")+` && document.querySelector('#notes-text').readOnly && document.querySelector('#notes-bold').disabled`)
	vie.click("into the locked notes", "#notes-text")
	if err := vie.typeText("x"); err != nil {
		t.Fatal(err)
	}
	if got := vie.jsString(`document.querySelector('#notes-text').value`); got != "# "+text {
		t.Errorf("the viewer changed locked notes: %q", got)
	}
	if mod.eval(`document.querySelector('#notes-text').readOnly`) {
		t.Error("the lock stops the moderator")
	}
	lockNotes(false)
	vie.waitFor("the notes open again", `!document.querySelector('#notes-text').readOnly && document.querySelector('#notes-locked').hidden`)
	mod.openTab("notes")

	// Copied onto a new whiteboard page, as text shapes.
	if vie.eval(visible("#notes-board")) {
		t.Error("a viewer may copy the notes to the whiteboard")
	}
	mod.click("copy to the whiteboard", "#notes-board")
	first := strings.Fields(text)[0]
	testenv.Eventually(t, stepWait, "the notes on a new whiteboard page", func() bool {
		docs, err := a.Manager().PresentationDocs(key)
		if err != nil {
			return false
		}
		for _, d := range docs {
			if d.ID != room.BlankDeck || d.Page < 2 {
				continue
			}
			shapes, _ := a.Manager().Shapes(key, room.PageRef{Doc: d.ID, Page: d.Page})
			for _, s := range shapes {
				if s.Kind == room.ShapeText && strings.Contains(s.Text, first) {
					return true
				}
			}
		}
		return false
	})
}

// subsequence reports whether the characters of w appear in text in order.
func subsequence(w, text string) bool {
	rs := []rune(w)
	i := 0
	for _, r := range text {
		if i < len(rs) && r == rs[i] {
			i++
		}
	}
	return i == len(rs)
}

// exported is one export fetched by a page with its session cookie.
type exported struct {
	Status int    `json:"status"`
	Type   string `json:"type"`
	Body   string `json:"body"` // base64
}

func (p *tab) export(format string) exported {
	p.t.Helper()
	ctx, cancel := contextFor(p)
	defer cancel()
	js := fmt.Sprintf(`fetch('notes/export?format=%s', {credentials: 'same-origin'}).then(async r => {
  const b = new Uint8Array(await r.arrayBuffer());
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return {status: r.status, type: r.headers.get('content-type') || '', body: btoa(s)};
})`, format)
	e, err := chromedp.Run(ctx, chromedp.Evaluate[exported](js, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: export %s: %v", p.name, format, err)
	}
	return e
}

// lessonExport: the moderator's four formats; the viewer is refused.
func lessonExport(t *testing.T, mod, vie *tab) {
	// The notes: a heading of what both typed.
	want := strings.Join(strings.Fields(strings.TrimPrefix(mod.jsString(`document.querySelector('#notes-text').value`), "# ")), " ")
	for _, f := range []string{"txt", "md", "html", "pdf"} {
		mod.waitFor("the "+f+" export link", visible("#notes-export-"+f)+fmt.Sprintf(` && document.querySelector('#notes-export-%s').getAttribute('href') === 'notes/export?format=%s'`, f, f))
		if vie.eval(visible("#notes-export-" + f)) {
			t.Errorf("the viewer sees the %s export", f)
		}
		e := mod.export(f)
		body, err := base64.StdEncoding.DecodeString(e.Body)
		if err != nil || e.Status != 200 {
			t.Fatalf("export %s: HTTP %d, %v", f, e.Status, err)
		}
		text := string(body)
		if f == "pdf" {
			if !strings.HasPrefix(text, "%PDF-") {
				t.Fatalf("the PDF export is not a PDF: %q", text[:min(len(text), 20)])
			}
			dir := t.TempDir()
			file := filepath.Join(dir, "notes.pdf")
			if err := os.WriteFile(file, body, 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(testenv.Tool(t, "pdftotext"), file, "-").CombinedOutput()
			if err != nil {
				t.Fatalf("pdftotext: %v\n%s", err, out)
			}
			text = string(out)
		}
		if !strings.Contains(strings.Join(strings.Fields(text), " "), want) {
			t.Errorf("the %s export (%s) lacks the notes %q:\n%s", f, e.Type, want, text)
		}
	}
	if e := vie.export("txt"); e.Status != 403 {
		t.Errorf("the viewer's export: HTTP %d, want 403", e.Status)
	}
}

// lessonTimer: a countdown of 4 s set by the moderator runs out for the viewer.
func lessonTimer(t *testing.T, mod, vie *tab) {
	if vie.eval(`!document.querySelector('#timer-open').hidden`) {
		t.Error("a viewer may set the timer")
	}
	// Count the viewer's sounds.
	vie.eval(`(window.__chimes = 0, (() => { const O = AudioContext.prototype.createOscillator; AudioContext.prototype.createOscillator = function () { window.__chimes++; return O.call(this); }; })(), true)`)
	mod.openMore("timer-open")
	mod.waitFor("the timer dialog", visible("#timer-dialog"))
	mod.shot("timer-dialog")
	mod.run("a countdown of 4 s",
		chromedp.SetValue(chromedp.CSS("#timer-minutes"), "0"),
		chromedp.SetValue(chromedp.CSS("#timer-seconds"), "4"),
		chromedp.Click(chromedp.CSS("#timer-start")))
	mod.waitFor("the dialog closed", `!document.querySelector('#timer-dialog').open`)
	vie.waitFor("the countdown in the top bar", visible("#lesson-timer")+` && /^0:0[1-4]$/.test(document.querySelector('#lesson-timer-value').textContent)`)
	first := vie.text("#lesson-timer-value")
	vie.shot("timer-viewer")
	vie.waitFor("the countdown counting", fmt.Sprintf(`document.querySelector('#lesson-timer-value').textContent !== %q`, first))
	vie.waitFor("the countdown at zero, with a sound and a notice", `document.querySelector('#lesson-timer-value').textContent === '0:00' && document.querySelector('#lesson-timer').classList.contains('done')`+
		` && window.__chimes > 0 && [...document.querySelectorAll('#toasts .toast')].some(e => e.textContent === 'Time is up.')`)
	mod.waitFor("the countdown at zero for the moderator", `document.querySelector('#lesson-timer-value').textContent === '0:00'`)
}

// lateJoiner is the third page, with its request log.
type lateJoiner struct {
	p   *tab
	log *requestLog
}

// lessonVideo: shared, played, sought, paused at 12 s.
func lessonVideo(t *testing.T, a *app.App, key, base, meetingID, videoURL string, browser context.Context, mod, vie *tab) lateJoiner {
	if vie.eval(`!document.querySelector('#video-open').hidden`) {
		t.Error("a viewer may share a video")
	}
	mod.openMore("video-open")
	mod.waitFor("the video dialog", visible("#video-dialog")+` && document.querySelector('#video-allowed').textContent !== ''`)
	mod.shot("video-dialog")
	mod.run("share the video", chromedp.SendKeys(chromedp.CSS("#video-url"), videoURL), chromedp.Click(chromedp.CSS("#video-share")))
	mod.waitFor("the dialog closed", `!document.querySelector('#video-dialog').open`)
	host := strings.TrimPrefix(strings.TrimPrefix(videoURL, "http://"), "https://")
	host = host[:strings.Index(host, "/")]
	for _, p := range []*tab{mod, vie} {
		p.waitFor("the video's frame", visible("#video-frame"))
		p.waitFor("the video loaded", frameVideo+`?.readyState >= 1`)
		p.waitFor("the third-party notice", fmt.Sprintf(`(document.querySelector('#video-notice')?.textContent || '').includes(%q)`, host))
	}
	if vie.eval(visible("#video-play")) {
		t.Error("a viewer has the presenter's video controls")
	}
	mod.click("play", "#video-play")
	vie.waitFor("the video playing for the viewer", `(v => v && !v.paused && v.currentTime > 0.5)(`+frameVideo+`)`)
	mod.eval(`(() => { const s = document.querySelector('#video-seek'); s.value = '10.5'; s.dispatchEvent(new Event('change')); return true; })()`)
	vie.waitFor("the viewer's video sought", `(v => v && v.currentTime >= 10.4 && v.currentTime < 12.5)(`+frameVideo+`)`)
	mod.waitFor("the moderator's video at 12 s", `(v => v && v.currentTime >= 12)(`+frameVideo+`)`)
	mod.click("pause", "#video-play")
	var at float64
	testenv.Eventually(t, stepWait, "the server's video paused near 12 s", func() bool {
		v, err := a.Manager().SharedVideo(key)
		at = v.Position
		return err == nil && !v.Playing && math.Abs(v.Position-12) <= 1
	})
	t.Logf("paused at %.3f s", at)
	pausedNear := fmt.Sprintf(`(v => v && v.paused && Math.abs(v.currentTime - 12) <= 1 && Math.abs(v.currentTime - %f) <= 0.25)(`+frameVideo+`)`, at)
	vie.waitFor("the viewer's video paused at 12 s", pausedNear)

	mod.shot("video-moderator")
	vie.shot("video-viewer")
	// A third person joins late and starts where the others are.
	p := newPage(t, browser, "late viewer")
	l := p.recordRequests()
	p.run("join", chromedp.Navigate(joinURL(base, meetingID, "Lea Late", room.Viewer)))
	p.viewport(1280, 800, false)
	p.enter()
	p.waitFor("the video's frame", visible("#video-frame"))
	p.waitFor("the late viewer's video paused at 12 s", pausedNear)

	// Each mutes their own copy.
	vie.click("mute my copy", "#video-mute")
	vie.waitFor("the viewer's copy muted", pressed("#video-mute", true)+` && `+frameVideo+`.muted`)
	if mod.eval(frameVideo + `.muted`) {
		t.Error("muting one's copy muted the moderator's")
	}
	t.Logf("the video position: moderator %.2f, viewer %.2f, late %.2f", mod.jsNumber(frameVideo+`.currentTime`), vie.jsNumber(frameVideo+`.currentTime`), p.jsNumber(frameVideo+`.currentTime`))
	return lateJoiner{p: p, log: l}
}
