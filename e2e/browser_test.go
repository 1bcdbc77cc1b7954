// Package e2e drives the real server with a real browser (headless
// Chromium through chromedp): what a person sees, end to end.
package e2e

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"aula/app"
	"aula/internal/testenv"
	"aula/render"
	"aula/room"
	"aula/store"
)

const (
	secret    = "e2e-shared-secret-0123456789"
	logoutURL = "https://lms.example/course/7"
	stepWait  = 20 * time.Second
)

// TestMeetingInTheBrowser: a viewer waits in the lobby, a moderator
// arrives, both see each other, chat, the moderator ends the meeting, both
// pages show the end, and nothing of the meeting remains in the store or
// the data directory. Once with the memory store, once with Redis.
func TestMeetingInTheBrowser(t *testing.T) {
	chrome := testenv.Chromium(t)
	for _, tc := range []struct {
		name  string
		redis bool
	}{{"memory", false}, {"redis", true}} {
		t.Run(tc.name, func(t *testing.T) {
			redisURL := ""
			if tc.redis {
				redisURL = testenv.RedisURL(t)
			}
			runMeeting(t, chrome, redisURL)
		})
	}
}

func startServer(t *testing.T, redisURL string) *app.App {
	t.Helper()
	logs := &testenv.LogBuffer{} // shown only when a test fails
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := app.Defaults()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.Secret = secret
	cfg.RedisURL = redisURL
	cfg.DataDir = t.TempDir()
	cfg.DialNumber = "+49 30 1234567"
	cfg.Demo = false
	a, err := app.New(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.Close(ctx); err != nil {
			t.Errorf("close server: %v", err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return a
}

// apiURL signs a BBB API call as a course platform does.
func apiURL(base, call string, params url.Values) string {
	q := params.Encode()
	sum := sha1.Sum([]byte(call + q + secret))
	return base + "/bigbluebutton/api/" + call + "?" + q + "&checksum=" + hex.EncodeToString(sum[:])
}

// slidesPDF is a one-page presentation uploaded on create, so the data
// directory holds files of the meeting (the original and its page
// images) that the end must delete.
func slidesPDF(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := render.TextPDF(&b, "Biology 101", []render.TextBlock{{Runs: []render.TextRun{{Text: "Week 1"}}}}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func createMeeting(t *testing.T, base, meetingID string) {
	t.Helper()
	body := `<modules><module name="presentation"><document name="slides.pdf">` +
		base64.StdEncoding.EncodeToString(slidesPDF(t)) + `</document></module></modules>`
	u := apiURL(base, "create", url.Values{
		"meetingID": {meetingID}, "name": {"Biology 101"},
		"attendeePW": {"ap-secret"}, "moderatorPW": {"mp-secret"},
		"logoutURL": {logoutURL}, "welcome": {"Welcome to %%CONFNAME%%"},
	})
	resp, err := http.Post(u, "application/xml", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte("<returncode>SUCCESS</returncode>")) {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
}

func joinURL(base, meetingID, name string, role room.Role) string {
	return apiURL(base, "join", url.Values{
		"meetingID": {meetingID}, "fullName": {name}, "role": {string(role)},
		"userID": {"lms-" + strings.ToLower(strings.Fields(name)[0])},
	})
}

// tab is one person's browser tab, in its own browser context (its own
// cookie jar). JavaScript exceptions on the page fail the test.
type tab struct {
	t    *testing.T
	name string
	ctx  context.Context
	mu   sync.Mutex
	errs []string
}

func newPage(t *testing.T, browser context.Context, name string) *tab {
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	p := &tab{t: t, name: name, ctx: ctx}
	// The first call on the tab's context opens the tab: no timeout here.
	err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok && e.ExceptionDetails != nil {
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			p.mu.Lock()
			p.errs = append(p.errs, fmt.Sprintf("%s (%s:%d)", msg, d.URL, d.LineNumber))
			p.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("%s: open tab: %v", name, err)
	}
	// Record Content-Security-Policy violations: the client must work
	// under the strict policy without tripping it.
	p.run("watch CSP", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `window.__csp = []; document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`,
		})
		return err
	}))
	return p
}

func (p *tab) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepWait)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %s: %v", p.name, what, err)
	}
}

// waitFor polls a JavaScript condition until it holds or the step times out.
func (p *tab) waitFor(what, cond string) {
	p.t.Helper()
	deadline := time.Now().Add(stepWait)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(p.ctx, stepWait)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!(`+cond+`)`))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
			text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
			cancel()
			p.t.Fatalf("%s: %s did not happen within %v (err %v); the page shows:\n%s", p.name, what, stepWait, err, text)
		}
		<-tick.C
	}
}

func (p *tab) text(sel string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepWait)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("%s: text of %s: %v", p.name, sel, err)
	}
	return s
}

func (p *tab) noErrors() {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepWait)
	defer cancel()
	csp, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__csp || []`))
	if err != nil {
		p.t.Errorf("%s: read CSP violations: %v", p.name, err)
	}
	for _, v := range csp {
		p.t.Errorf("%s: Content-Security-Policy violation: %s", p.name, v)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.errs {
		p.t.Errorf("%s: JavaScript exception: %s", p.name, e)
	}
}

// visible is a JS expression: the element exists and is not hidden.
func visible(sel string) string {
	return fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e && !e.closest('[hidden]') && e.getClientRects().length > 0; })()`, sel)
}

// rosterHas is a JS expression: the participant list shows that name.
func rosterHas(name string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('#roster .name')].some(e => e.textContent === %q)`, name)
}

func runMeeting(t *testing.T, chrome, redisURL string) {
	a := startServer(t, redisURL)
	base := a.URL()
	meetingID := "e2e-" + room.NewID()
	createMeeting(t, base, meetingID)
	mt, err := a.Manager().Meeting(context.Background(), meetingID)
	if err != nil {
		t.Fatal(err)
	}
	key := mt.Key

	browser := startBrowser(t, chrome)
	viewer := newPage(t, browser, "viewer")
	mod := newPage(t, browser, "moderator")

	// The viewer arrives first and waits in the lobby.
	viewer.run("open join link", chromedp.Navigate(joinURL(base, meetingID, "Vera Viewer", room.Viewer)))
	viewer.waitFor("the lobby", visible("#lobby-wait"))
	lobbyText := viewer.text("#view-check")
	if strings.Contains(lobbyText, mt.PIN) {
		t.Errorf("the lobby shows the PIN: %q", lobbyText)
	}

	// The moderator arrives; the viewer is let in; both see each other.
	mod.run("open join link", chromedp.Navigate(joinURL(base, meetingID, "Maria Moderator", room.Moderator)))
	mod.enter()
	viewer.waitFor("admission to the room", visible("#view-room"))
	for _, p := range []*tab{viewer, mod} {
		p.waitFor("both names in the participant list", rosterHas("Vera Viewer")+" && "+rosterHas("Maria Moderator"))
		p.waitFor("the dial-in PIN", visible("#dialin-open")+fmt.Sprintf(` && document.querySelector('#dialin-pin').textContent === %q`, mt.PIN))
	}

	// A public chat line from the viewer reaches the moderator with the name.
	const line = "Hello from the back row"
	viewer.openTab("chat")
	viewer.run("send chat",
		chromedp.SendKeys(chromedp.CSS("#chat-input"), line),
		chromedp.Click(chromedp.CSS("#chat-send")),
	)
	mod.waitFor("the viewer's chat line", fmt.Sprintf(
		`[...document.querySelectorAll('#chat-log li')].some(li => li.querySelector('.text')?.textContent === %q && li.querySelector('.from')?.textContent === 'Vera Viewer')`, line))

	// Before the end the meeting has data in the store and a file on disk,
	// so the checks after the end can fail.
	if n := len(meetingData(t, a.Store(), key, mt.PIN)); n == 0 {
		t.Fatal("no store key of the running meeting found: the leftover check would prove nothing")
	}
	// The document is converted in the background after create.
	testenv.Eventually(t, stepWait, "the presentation uploaded on create in the data directory", func() bool {
		return len(meetingFiles(t, a.DataDir(), key)) > 0
	})

	// The moderator ends the meeting (leave, then "end for all").
	mod.run("click Leave", chromedp.Click(chromedp.CSS("#leave")))
	mod.waitFor("the confirmation", visible("#end-confirm"))
	mod.run("confirm", chromedp.Click(chromedp.CSS("#end-confirm")))
	for _, p := range []*tab{viewer, mod} {
		p.waitFor("the ended page", visible("#view-ended"))
		p.waitFor("the logout link", visible("#ended-link")+fmt.Sprintf(` && document.querySelector('#ended-link').href === %q`, logoutURL))
		p.noErrors()
	}

	// Nothing of the meeting remains: no store key, no file.
	deadline := time.Now().Add(stepWait)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		left := meetingData(t, a.Store(), key, mt.PIN)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("store keys of the ended meeting remain: %v", left)
		}
		<-tick.C
	}
	if files := meetingFiles(t, a.DataDir(), key); len(files) != 0 {
		t.Errorf("files of the ended meeting remain: %v", files)
	}
}

// startBrowser starts headless Chromium with a fresh profile; tabs are
// made with newPage. extra adds flags (e.g. a certificate to trust).
func startBrowser(t *testing.T, chrome string, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chrome),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(opts, extra...)...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	// The first Run starts the browser; a timeout on its context would
	// stop the browser with it.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return browser
}

// meetingData returns every store key that belongs to the meeting: keys
// naming its key or PIN, and keys whose value mentions its key (sessions,
// the meetings index). Other tests may share the Redis server, so keys of
// other meetings are ignored.
func meetingData(t *testing.T, st room.Store, key, pin string) []string {
	t.Helper()
	var dump map[string]string
	switch s := st.(type) {
	case *store.Memory:
		dump = s.Dump()
	case *store.Redis:
		d, err := s.Dump(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		dump = d
	default:
		t.Fatalf("unknown store %T", st)
	}
	var out []string
	for k, v := range dump {
		if strings.Contains(k, key) || k == store.KeyPIN(pin) || strings.Contains(v, key) {
			out = append(out, k)
		}
	}
	return out
}

// meetingFiles lists files and directories under dir that belong to the meeting.
func meetingFiles(t *testing.T, dir, key string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.Contains(p, key) {
			out = append(out, p)
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return out
}
