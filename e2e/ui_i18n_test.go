package e2e

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"aula/internal/testenv"
	"aula/room"
)

// TestGermanClient: the client speaks the participant's language. A
// German browser (Accept-Language de) gets a German lobby, room and end
// page; a join with userdata-bbb_override_default_locale=de gets German
// in an English browser; the join parameter wins over the browser
// (override en in a German browser); the language switch (kept in
// sessionStorage) changes it.
func TestGermanClient(t *testing.T) {
	chrome := testenv.Chromium(t)
	a := startServer(t, "")
	base := a.URL()
	meetingID := "e2e-de-" + room.NewID()
	createMeeting(t, base, meetingID)
	browser := startBrowser(t, chrome)

	vera := newPage(t, browser, "Vera (German browser)")
	vera.germanBrowser()
	maria := newPage(t, browser, "Maria (override de)")
	tom := newPage(t, browser, "Tom (German browser, override en)")
	tom.germanBrowser()

	// The German browser's lobby.
	vera.run("join", chromedp.Navigate(joinURL(base, meetingID, "Vera Viewer", room.Viewer)))
	vera.waitFor("the German lobby", visible("#lobby-wait")+
		` && document.documentElement.lang === 'de' && document.querySelector('#lobby-wait').textContent.startsWith('Warten, bis die Moderation')`+
		` && document.querySelector('#check-mic').getAttribute('aria-label') === 'Mikrofon'`+
		` && document.querySelector('#lobby-leave').textContent === 'Warteraum verlassen'`)

	// The platform's locale parameter in an English browser.
	maria.run("join", chromedp.Navigate(joinURLWith(base, meetingID, "Maria Moderator", room.Moderator,
		url.Values{"userdata-bbb_override_default_locale": {"de"}})))
	maria.waitFor("the German device check", visible("#check-join")+
		` && document.documentElement.lang === 'de' && document.querySelector('#check-join').textContent === 'Beitreten'`+
		` && document.querySelector('#check-listen').textContent === 'Nur zuhören'`)
	maria.enter()
	vera.waitFor("the German room", visible("#view-room")+
		` && document.querySelector('#tab-people').textContent.startsWith('Teilnehmende')`+
		` && document.querySelector('#mic-toggle').getAttribute('aria-label') === 'Mikrofon'`+
		` && document.querySelector('#leave .label').textContent === 'Verlassen'`)
	maria.waitFor("the German room for the moderator", `document.querySelector('#mute-all').textContent === 'Alle stummschalten außer Präsentierenden'`+
		` && document.title === 'Biology 101 · Aula'`)

	// The join parameter wins over the browser.
	tom.run("join", chromedp.Navigate(joinURLWith(base, meetingID, "Tom Example", room.Viewer,
		url.Values{"userdata-bbb_override_default_locale": {"en"}})))
	tom.waitFor("the English device check", visible("#check-join")+
		` && document.documentElement.lang === 'en' && document.querySelector('#check-join').textContent === 'Join'`)
	// The language switch: German for this browser session.
	tom.enter()
	tom.click("open More", "#more-toggle")
	tom.waitFor("the language switch", visible("#lang-select"))
	tom.eval(`(document.querySelector('#lang-select').value = 'de', setTimeout(() => document.querySelector('#lang-select').dispatchEvent(new Event('change'))), true)`)
	tom.waitFor("German after the switch", visible("#check-join")+
		` && document.documentElement.lang === 'de' && document.querySelector('#check-join').textContent === 'Beitreten'`)
	tom.enter()

	// The end page in German (and for the moderator the choice to end for all).
	maria.click("leave", "#leave")
	maria.waitFor("the German leave dialog", visible("#end-confirm")+
		` && document.querySelector('#end-confirm').textContent === 'Konferenz für alle beenden'`)
	maria.click("end for all", "#end-confirm")
	for _, p := range []*tab{vera, maria, tom} {
		p.waitFor("the German end page", visible("#view-ended")+
			` && document.querySelector('#ended-title').textContent === 'Die Konferenz ist beendet'`+
			` && document.querySelector('#ended-reason').textContent === 'Die Moderation hat die Konferenz beendet.'`+
			` && document.querySelector('#ended-link').textContent === 'Zurück zum Kurs'`)
		p.noErrors()
	}
	// The server's own page ("please join again") in German too.
	vera.run("reload", chromedp.Reload())
	vera.waitFor("a German page from the server", `document.documentElement.lang === 'de'`)
	if txt := vera.text("body"); strings.Contains(txt, "Please join") {
		t.Errorf("the server's page after the end is English for a German browser: %q", txt)
	}
}

// germanBrowser makes the tab's browser German: Accept-Language and
// navigator.language de-DE.
func (p *tab) germanBrowser() {
	p.t.Helper()
	p.run("German browser", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		ua, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.userAgent`))
		if err != nil {
			return err
		}
		_, err = cdp.Call(ctx, tg, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
			UserAgent: strings.Replace(ua, "HeadlessChrome", "Chrome", 1), AcceptLanguage: "de-DE,de;q=0.9",
		})
		return err
	}))
}

// joinURLWith is joinURL with further join parameters.
func joinURLWith(base, meetingID, name string, role room.Role, extra url.Values) string {
	q := url.Values{
		"meetingID": {meetingID}, "fullName": {name}, "role": {string(role)},
		"userID": {"lms-" + strings.ToLower(strings.Fields(name)[0])},
	}
	for k, v := range extra {
		q[k] = v
	}
	return apiURL(base, "join", q)
}
