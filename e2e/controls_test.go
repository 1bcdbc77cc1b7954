package e2e

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"aula/internal/testenv"
	"aula/room"
)

// TestControlsInTheBrowser: the controls a person uses in the room, with
// three people: raise and lower a hand, private chat, promote, remove and
// leave; every button is labelled for screen readers.
func TestControlsInTheBrowser(t *testing.T) {
	chrome := testenv.Chromium(t)
	a := startServer(t, "")
	base := a.URL()
	meetingID := "e2e-" + room.NewID()
	createMeeting(t, base, meetingID)
	browser := startBrowser(t, chrome)

	mod := newPage(t, browser, "moderator")
	vera := newPage(t, browser, "Vera")
	tom := newPage(t, browser, "Tom")
	mod.run("join", chromedp.Navigate(joinURL(base, meetingID, "Maria Moderator", room.Moderator)))
	mod.enter()
	vera.run("join", chromedp.Navigate(joinURL(base, meetingID, "Vera Viewer", room.Viewer)))
	tom.run("join", chromedp.Navigate(joinURL(base, meetingID, "Tom Example", room.Viewer)))
	vera.enter()
	tom.enter()
	all := []*tab{mod, vera, tom}
	for _, p := range all {
		p.waitFor("everyone in the list", rosterHas("Maria Moderator")+" && "+rosterHas("Vera Viewer")+" && "+rosterHas("Tom Example"))
	}

	// Every visible button says what it does, for screen readers too.
	for _, p := range all {
		p.waitFor("labelled buttons", `[...document.querySelectorAll('button')].filter(b => b.getClientRects().length).every(b => (b.getAttribute('aria-label') || '').trim() !== '')`)
		p.waitFor("the hand toggle's state", `document.querySelector('#hand-toggle').getAttribute('aria-pressed') === 'false'`)
		p.waitFor("a live region for chat", `document.querySelector('#chat-log').getAttribute('aria-live') === 'polite'`)
	}

	// Vera raises her hand; the moderator sees it and lowers it.
	vera.run("raise hand", chromedp.Click(chromedp.CSS("#hand-toggle")))
	vera.waitFor("the toggle pressed", `document.querySelector('#hand-toggle').getAttribute('aria-pressed') === 'true'`)
	mod.waitFor("Vera's raised hand", personHas("Vera Viewer", ".badge.hand"))
	mod.run("lower Vera's hand", chromedp.Click(button("Lower Vera Viewer's hand")))
	vera.waitFor("the toggle released", `document.querySelector('#hand-toggle').getAttribute('aria-pressed') === 'false'`)
	mod.waitFor("Vera's hand down", "!"+personHas("Vera Viewer", ".badge.hand"))

	// Vera writes privately to the moderator; Tom never sees it.
	vera.run("private message", chromedp.Click(button("Actions for Maria Moderator")),
		chromedp.Click(button("Send Maria Moderator a private message")),
		chromedp.SendKeys(chromedp.CSS("#chat-input"), "only for you"),
		chromedp.Click(chromedp.CSS("#chat-send")))
	// The moderator sees a new private conversation with an unread line.
	mod.waitFor("the unread count on the chat tab", visible("#chat-unread")+` && document.querySelector('#chat-unread').textContent === '1'`)
	mod.openTab("chat")
	mod.run("open the thread with Vera", chromedp.Click(chromedp.CSS(`#threads button[aria-label^="Vera Viewer"]`)))
	mod.waitFor("the private line", chatHas("Vera Viewer", "only for you")+` && document.querySelector('#chat-log li.is-private .private').textContent === 'private to you'`)
	mod.waitFor("the unread count gone", `document.querySelector('#chat-unread').hidden`)
	vera.waitFor("her own private line", chatHas("Vera Viewer", "only for you"))
	mod.run("public message", chromedp.Click(chromedp.CSS(`#threads button[data-thread=""]`)),
		chromedp.SendKeys(chromedp.CSS("#chat-input"), "for everyone"),
		chromedp.Click(chromedp.CSS("#chat-send")))
	tom.waitFor("the public line", chatHas("Maria Moderator", "for everyone"))
	tom.waitFor("no private line of others", "!"+chatHas("Vera Viewer", "only for you"))

	// Tom is promoted and gets the moderator's controls.
	tom.waitFor("no moderator tools for a viewer", `document.querySelector('#mod-tools').hidden`)
	mod.openTab("people")
	mod.run("promote Tom", chromedp.Click(button("Actions for Tom Example")), chromedp.Click(button("Make Tom Example a moderator")))
	tom.waitFor("the moderator tools", visible("#mod-tools"))
	mod.waitFor("Tom's moderator badge", personHas("Tom Example", ".badge.role"))

	// The moderator removes Vera (with confirmation).
	mod.run("remove Vera", chromedp.Click(button("Actions for Vera Viewer")), chromedp.Click(button("Remove Vera Viewer from the meeting")))
	mod.waitFor("the confirmation", visible("#remove-confirm"))
	mod.run("confirm", chromedp.Click(chromedp.CSS("#remove-confirm")))
	vera.waitFor("the removed page", visible("#view-ended")+` && document.querySelector('#ended-reason').textContent.includes('removed you')`)
	mod.waitFor("Vera gone from the list", "!"+rosterHas("Vera Viewer"))

	// Tom leaves.
	tom.run("leave", chromedp.Click(chromedp.CSS("#leave")))
	tom.waitFor("the moderator's leave dialog", visible("#leave-confirm"))
	tom.run("just leave", chromedp.Click(chromedp.CSS("#leave-confirm")))
	tom.waitFor("the left page", visible("#view-ended")+` && document.querySelector('#ended-reason').textContent === 'You left the meeting.'`)
	mod.waitFor("Tom gone from the list", "!"+rosterHas("Tom Example"))

	// Having left, Tom can come back: Rejoin reloads the page, the session
	// still holds while the meeting runs.
	tom.waitFor("the Rejoin button", visible("#rejoin")+" && "+visible("#ended-link"))
	tom.click("rejoin", "#rejoin")
	tom.enter()
	mod.waitFor("Tom back in the list", rosterHas("Tom Example"))
	vera.waitFor("no Rejoin after being removed", `document.querySelector('#rejoin').hidden`)

	for _, p := range all {
		p.noErrors()
	}
}

// button selects a button by its accessible label.
func button(label string) chromedp.CSS {
	return chromedp.CSS(fmt.Sprintf(`button[aria-label=%q]`, label))
}

// personHas is a JS expression: the roster entry of name contains sel.
func personHas(name, sel string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('#roster li')].some(li => li.querySelector('.name').textContent === %q && li.querySelector(%q))`, name, sel)
}

// chatHas is a JS expression: the chat shows a line from name with text.
func chatHas(from, text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('#chat-log li')].some(li => li.querySelector('.from')?.textContent === %q && li.querySelector('.text')?.textContent === %q)`, from, text)
}
