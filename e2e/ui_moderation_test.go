package e2e

import (
	"context"

	"fmt"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"testing"

	"github.com/chromedp/chromedp"

	"aula/internal/testenv"
	"aula/room"
)

// TestModerationInTheBrowser: the trainer's participants panel with two
// pages and WebSocket participants. Raised hands come first in the order
// raised (with a count, a sound and a visible notice); lowering a hand
// keeps focus on the row; "lower all hands"; "mute all except the
// presenter"; every lock setting from the dialog (camera, microphone,
// public chat, private chat, notes, participants cannot see each other,
// webcams only for moderators), shown again from the server's state;
// reactions and the away status on the row; clearing and saving the
// public chat; an anonymous line under the hidden user list.
func TestModerationInTheBrowser(t *testing.T) {
	chrome := testenv.Chromium(t)
	a := startServer(t, "")
	base := a.URL()
	meetingID := "e2e-mod-" + room.NewID()
	createMeeting(t, base, meetingID)
	browser := startBrowser(t, chrome)

	mod := newPage(t, browser, "moderator")
	vera := newPage(t, browser, "Vera")
	ben := newPage(t, browser, "Ben")
	mod.run("join", chromedp.Navigate(joinURL(base, meetingID, "Maria Moderator", room.Moderator)))
	mod.viewport(1280, 800, false)
	mod.enter()
	paul := joinPion(t, base, meetingID, "Paul Pion", room.Viewer, false)
	petra := joinPion(t, base, meetingID, "Petra Pion", room.Viewer, true)
	vera.run("join", chromedp.Navigate(joinURL(base, meetingID, "Vera Viewer", room.Viewer)))
	vera.viewport(1280, 800, false)
	vera.enter()
	ben.run("install the media probe", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: mediaProbe})
		return err
	}))
	ben.run("join", chromedp.Navigate(joinURL(base, meetingID, "Ben Example", room.Viewer)))
	ben.viewport(1280, 800, false)
	ben.enter()
	for _, p := range []*tab{mod, vera, ben} {
		p.waitFor("five participants", `document.querySelectorAll('#roster li').length === 5`)
	}
	// Count the moderator's notice sounds.
	mod.eval(`(window.__chimes = 0, (() => { const O = AudioContext.prototype.createOscillator; AudioContext.prototype.createOscillator = function () { window.__chimes++; return O.call(this); }; })(), true)`)

	// Hands in the order raised: Petra, Vera, Paul.
	petra.send("hand.raise", map[string]bool{"up": true})
	mod.waitFor("Petra's hand", personHas("Petra Pion", ".badge.hand"))
	vera.click("raise hand", "#hand-toggle")
	vera.waitFor("the hand toggle pressed", pressed("#hand-toggle", true)+` && document.activeElement === document.querySelector('#hand-toggle')`)
	mod.waitFor("Vera's hand", personHas("Vera Viewer", ".badge.hand"))
	paul.send("hand.raise", map[string]bool{"up": true})
	mod.waitFor("raised hands first, in the order raised",
		`[...document.querySelectorAll('#roster li .name')].slice(0, 3).map(e => e.textContent).join(',') === 'Petra Pion,Vera Viewer,Paul Pion'`+
			` && document.querySelector('#hand-count').textContent === '3'`)
	mod.waitFor("a visible notice and a sound for the moderator", `[...document.querySelectorAll('#toasts .toast')].some(e => e.textContent === 'Paul Pion raised a hand.') && window.__chimes >= 6`)

	// Lowering Vera's hand keeps focus on her row.
	mod.click("lower Vera's hand", `button[aria-label="Lower Vera Viewer's hand"]`)
	vera.waitFor("Vera's hand down", pressed("#hand-toggle", false))
	mod.waitFor("focus on Vera's row", `document.activeElement && document.activeElement.getAttribute('aria-label') === 'Actions for Vera Viewer'`)
	mod.waitFor("the other hands keep their order", `[...document.querySelectorAll('#roster li .name')].slice(0, 2).map(e => e.textContent).join(',') === 'Petra Pion,Paul Pion'`)

	// Lower all hands.
	mod.click("lower all hands", "#lower-all")
	mod.waitFor("no hand raised", `document.querySelectorAll('#roster .badge.hand').length === 0 && document.querySelector('#hand-count').hidden && document.querySelector('#lower-all').hidden`)
	mod.waitFor("focus kept in the panel", `document.activeElement === document.querySelector('#mute-all')`)

	// Mute all except the presenter: Vera presents and keeps her microphone.
	mod.click("open Vera's actions", `button[aria-label="Actions for Vera Viewer"]`)
	mod.click("make Vera presenter", `button[aria-label="Make Vera Viewer presenter"]`)
	mod.waitFor("Vera presenter", personHas("Vera Viewer", ".badge.presenter")+" && !"+personHas("Maria Moderator", ".badge.presenter"))
	vera.click("microphone on", "#mic-toggle")
	vera.waitFor("the microphone on", pressed("#mic-toggle", true)+` && document.activeElement === document.querySelector('#mic-toggle')`)
	mod.waitFor("Vera's microphone on", personHas("Vera Viewer", ".badge.mic"))
	mod.click("mute all except the presenter", "#mute-all")
	mod.waitFor("Petra muted", personHas("Petra Pion", ".badge.muted"))
	mod.waitFor("the presenter not muted", personHas("Vera Viewer", ".badge.mic")+" && !"+personHas("Vera Viewer", ".badge.muted"))
	vera.waitFor("the presenter's microphone still on", pressed("#mic-toggle", true))
	mod.click("open Maria's actions", `button[aria-label="Actions for Maria Moderator"]`)
	mod.click("make Maria presenter", `button[aria-label="Make Maria Moderator presenter"]`)
	mod.waitFor("Maria presenter", personHas("Maria Moderator", ".badge.presenter"))
	mod.click("mute all except the presenter", "#mute-all")
	vera.waitFor("Vera muted now", pressed("#mic-toggle", false)+" && "+visible("#media-notice"))
	mod.waitFor("Vera muted in the list", personHas("Vera Viewer", ".badge.muted"))

	// Reactions and away status show on the row.
	vera.click("reactions", "#reactions-toggle")
	vera.click("applause", `#reactions button[aria-label="Applause"]`)
	mod.waitFor("Vera's reaction", personHas("Vera Viewer", ".badge.reaction")+` && [...document.querySelectorAll('#roster li')].some(li => li.querySelector('.name').textContent === 'Vera Viewer' && li.querySelector('.badge.reaction').textContent.includes('👏'))`)
	vera.click("more", "#more-toggle")
	vera.click("away", "#away-toggle")
	mod.waitFor("Vera away", personHas("Vera Viewer", ".badge.away"))
	vera.waitFor("the away toggle pressed", pressed("#away-toggle", true))

	// The chat: a public line, saved as a text file, then cleared.
	vera.openTab("chat")
	vera.run("public line", chromedp.SendKeys(chromedp.CSS("#chat-input"), "a question from Vera"), chromedp.Click(chromedp.CSS("#chat-send")))
	mod.waitFor("the line", chatHas("Vera Viewer", "a question from Vera"))
	mod.openTab("chat")
	mod.eval(`(window.__saved = '', (() => { const o = URL.createObjectURL; URL.createObjectURL = (b) => { b.text().then(t => { window.__saved = t; }); return o.call(URL, b); }; })(), true)`)
	mod.click("save the chat", "#chat-save")
	mod.waitFor("the saved text", `window.__saved.includes('Vera Viewer: a question from Vera') && window.__saved.startsWith('Public chat of Biology 101')`)
	mod.click("clear the chat", "#chat-clear")
	vera.waitFor("the public chat cleared", "!"+chatHas("Vera Viewer", "a question from Vera"))

	// Lock settings, one by one, from the dialog.
	veraID := mod.str(`[...document.querySelectorAll('#roster li')].find(li => li.querySelector('.name').textContent === 'Vera Viewer').dataset.id`)
	vera.click("camera on", "#cam-toggle")
	vera.waitFor("the camera on", pressed("#cam-toggle", true))
	veraCam := visible(`#tiles .tile.camera[data-participant="` + veraID + `"] video`)
	ben.waitFor("Ben sees Vera's camera", veraCam)
	lock := func(field string, on bool) {
		t.Helper()
		mod.openTab("people")
		mod.click("open the lock settings", "#lock-open")
		mod.waitFor("the lock dialog", visible("#lock-dialog"))
		mod.eval(fmt.Sprintf(`(document.querySelector('#lock-form [name=%s]').checked = %t, true)`, field, on))
		mod.click("apply", "#lock-apply")
		mod.waitFor("the dialog closed", `!document.querySelector('#lock-dialog').open && document.activeElement === document.querySelector('#lock-open')`)
		// The dialog shows the server's settings when opened again.
		mod.click("open the lock settings again", "#lock-open")
		mod.waitFor(field+" shown as set", fmt.Sprintf(`document.querySelector('#lock-form [name=%s]').checked === %t`, field, on))
		mod.click("close", "#lock-cancel")
	}

	lock("webcamsOnlyForModerator", true)
	t.Run("webcams only for moderators", func(t *testing.T) {
		// The server stops sending Vera's camera to another viewer; the
		// moderator still receives it.
		ben.videoStops("Vera's video stops for another viewer")
		ben.waitFor("Vera's camera tile gone for another viewer", "!"+veraCam)
	})
	mod.waitFor("the moderator still sees Vera's camera", veraCam)
	lock("webcamsOnlyForModerator", false)
	ben.waitFor("Ben sees Vera's camera again", veraCam)

	lock("disableCam", true)
	vera.waitFor("Vera's camera switched off and locked", pressed("#cam-toggle", false)+` && document.querySelector('#cam-toggle').disabled`)
	lock("disableCam", false)
	vera.waitFor("the camera free again", `!document.querySelector('#cam-toggle').disabled`)

	lock("disableMic", true)
	vera.waitFor("the microphone locked", `document.querySelector('#mic-toggle').disabled`)
	lock("disableMic", false)
	vera.waitFor("the microphone free again", `!document.querySelector('#mic-toggle').disabled`)

	lock("disablePublicChat", true)
	vera.waitFor("the public chat locked", `document.querySelector('#chat-input').disabled && document.querySelector('#chat-input').placeholder === 'The chat is locked by the moderator'`)
	lock("disablePublicChat", false)
	vera.waitFor("the public chat open again", `!document.querySelector('#chat-input').disabled`)

	lock("disablePrivChat", true)
	vera.openTab("people")
	vera.waitFor("no private chat with another viewer (no actions left on his row)", `!document.querySelector('button[aria-label="Actions for Paul Pion"]') && !document.querySelector('button[aria-label="Send Paul Pion a private message"]')`)
	vera.click("Maria's actions", `button[aria-label="Actions for Maria Moderator"]`)
	vera.waitFor("private chat with the moderator still possible", visible(`button[aria-label="Send Maria Moderator a private message"]`))
	lock("disablePrivChat", false)

	lock("disableNotes", true)
	lock("disableNotes", false)

	lock("hideUserList", true)
	vera.waitFor("only moderators and herself", `[...document.querySelectorAll('#roster li .name')].map(e => e.textContent).sort().join(',') === 'Maria Moderator,Vera Viewer'`)
	paul.send("chat.send", map[string]string{"text": "who am I"})
	vera.openTab("chat")
	vera.waitFor("an anonymous line", chatHas("Anonymous participant", "who am I"))
	lock("hideUserList", false)
	vera.waitFor("everyone again", `document.querySelectorAll('#roster li').length === 5`)

	mod.openTab("people")
	mod.click("open Vera's actions", `button[aria-label="Actions for Vera Viewer"]`)
	mod.axe("the participants panel with a row's actions open")
	for _, p := range []*tab{mod, vera, ben} {
		p.noErrors()
	}
}

// str evaluates a JS expression that yields a string.
func (p *tab) str(expr string) string {
	p.t.Helper()
	ctx, cancel := contextFor(p)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		p.t.Fatalf("%s: evaluate: %v", p.name, err)
	}
	return v
}
