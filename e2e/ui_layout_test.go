package e2e

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"aula/internal/testenv"
	"aula/room"
)

// layoutProblems is a JS expression listing what is wrong with the room's
// layout now: the page scrolls; an action-bar button or (with chat) the
// chat input is outside the window or covered; a tile leaves the stage;
// a tile's name, badge or pin button is clipped by its tile, or the
// caption covers the picture; a participant row's badge or button is
// clipped by the row.
func layoutProblems(chat bool) string {
	return fmt.Sprintf(`(() => {
  const out = [];
  const se = document.scrollingElement;
  if (se.scrollHeight > innerHeight || se.scrollWidth > innerWidth) out.push('the page scrolls: ' + se.scrollWidth + 'x' + se.scrollHeight + ' in ' + innerWidth + 'x' + innerHeight);
  const inView = (r) => r.left >= -0.5 && r.top >= -0.5 && r.right <= innerWidth + 0.5 && r.bottom <= innerHeight + 0.5;
  const within = (a, b) => a.left >= b.left - 0.5 && a.top >= b.top - 0.5 && a.right <= b.right + 0.5 && a.bottom <= b.bottom + 0.5;
  const shown = (e) => !!e && !e.closest('[hidden]') && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
  const uncovered = (e) => { const r = e.getBoundingClientRect(); const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2); return !!hit && (hit === e || e.contains(hit)); };
  let buttons = 0;
  for (const b of document.querySelectorAll('#actionbar button')) {
    if (!shown(b)) continue;
    buttons++;
    if (!inView(b.getBoundingClientRect())) out.push('action bar button outside the window: ' + b.id);
    else if (!uncovered(b)) out.push('action bar button covered: ' + b.id);
  }
  if (buttons < 6) out.push('only ' + buttons + ' action bar buttons shown');
  if (%t) {
    const input = document.querySelector('#chat-input');
    if (!shown(input)) out.push('the chat input is not shown');
    else if (!inView(input.getBoundingClientRect())) out.push('the chat input is outside the window');
    else if (!uncovered(input)) out.push('the chat input is covered');
  }
  const stage = document.querySelector('#view-room').getBoundingClientRect();
  for (const tile of [...document.querySelectorAll('#view-room .tile')].filter(shown)) {
    const tr = tile.getBoundingClientRect();
    const who = tile.getAttribute('aria-label') || tile.className;
    if (!within(tr, stage) || !inView(tr)) out.push('tile outside the stage: ' + who);
    for (const el of tile.querySelectorAll('.tile-name, .tile-badges .badge, .tile-pin')) {
      if (!shown(el)) continue;
      const r = el.getBoundingClientRect();
      if (r.width < 1 || r.height < 1 || !within(r, tr)) out.push('clipped in ' + who + ': ' + el.className);
    }
    const name = tile.querySelector('.tile-name');
    if (name && name.getBoundingClientRect().width < 24) out.push('no room for the name in ' + who);
    const v = tile.querySelector('.tile-video');
    const c = tile.querySelector('.tile-caption');
    if (v && c && c.getBoundingClientRect().top < v.getBoundingClientRect().bottom - 0.5) out.push('the caption covers the picture in ' + who);
  }
  for (const li of document.querySelectorAll('#roster li')) {
    if (!shown(li)) continue;
    const lr = li.getBoundingClientRect();
    for (const b of li.querySelectorAll('.badge, .row-actions > button')) {
      if (shown(b) && !within(b.getBoundingClientRect(), lr)) out.push('clipped in the row of ' + li.querySelector('.name').textContent + ': ' + b.className);
    }
  }
  return out;
})()`, chat)
}

// checkLayout fails the test with every layout problem of the page.
func (p *tab) checkLayout(what string, chat bool) {
	p.t.Helper()
	var probs []string
	// Layout settles within a frame or two after a change: poll briefly.
	testenv.Eventually(p.t, stepWait, p.name+": "+what+": a layout without problems", func() bool {
		probs = p.strings(layoutProblems(chat))
		return len(probs) == 0
	}, func() {
		for _, s := range probs {
			p.t.Errorf("%s: %s: %s", p.name, what, s)
		}
	})
}

// strings evaluates a JS expression that yields a list of strings.
func (p *tab) strings(expr string) []string {
	p.t.Helper()
	ctx, cancel := contextFor(p)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](expr))
	if err != nil {
		p.t.Fatalf("%s: evaluate: %v", p.name, err)
	}
	return v
}

// TestClassroomLayout: the room fits the window at 1280×800 and 390×844
// with three cameras, a screen share and 30 participants (27 of them
// lightweight WebSocket clients): the page does not scroll, the action
// bar and the chat input are visible and not covered, and no tile name
// or badge is clipped. axe-core finds no violation in the room as
// moderator (desktop) and as viewer (phone, drawer open), nor with a
// dialog open.
func TestClassroomLayout(t *testing.T) {
	chrome := testenv.Chromium(t)
	a := startServer(t, "")
	base := a.URL()
	meetingID := "e2e-layout-" + room.NewID()
	createMeeting(t, base, meetingID)
	browser := startBrowser(t, chrome)

	mod := newPage(t, browser, "moderator")
	vera := newPage(t, browser, "Vera")
	ben := newPage(t, browser, "Ben")
	mod.run("join", chromedp.Navigate(joinURL(base, meetingID, "Maria Moderator", room.Moderator)))
	mod.viewport(1280, 800, false)
	mod.enter()
	var others []*pionClient
	for i := 1; i <= 27; i++ {
		others = append(others, joinPion(t, base, meetingID, fmt.Sprintf("Participant %02d", i), room.Viewer, false))
	}
	vera.run("join", chromedp.Navigate(joinURL(base, meetingID, "Vera Viewer", room.Viewer)))
	ben.run("join", chromedp.Navigate(joinURL(base, meetingID, "Ben Example", room.Viewer)))
	vera.viewport(390, 844, true)
	vera.enter()
	ben.viewport(1280, 800, false)
	ben.enter()
	for _, p := range []*tab{mod, vera, ben} {
		p.waitFor("30 participants", `document.querySelectorAll('#roster li').length === 30`)
	}

	// Three cameras and a screen share; a raised hand and a chat line.
	for _, p := range []*tab{mod, vera, ben} {
		p.click("camera on", "#cam-toggle")
		p.waitFor("the camera on", pressed("#cam-toggle", true))
	}
	mod.click("share the screen", "#screen-toggle")
	mod.waitFor("sharing", pressed("#screen-toggle", true))
	others[3].send("hand.raise", map[string]bool{"up": true})
	vera.click("raise hand", "#hand-toggle")
	others[0].send("chat.send", map[string]string{"text": "Good morning from participant one, with a line long enough to wrap in the narrow panel"})
	for _, p := range []*tab{mod, vera, ben} {
		p.waitFor("the other cameras and the screen", `document.querySelectorAll('#view-room .tile.camera').length === 3 && document.querySelector('#view-room .tile.screen')`)
		p.waitFor("the raised hands", `document.querySelectorAll('#roster .badge.hand').length === 2`)
	}

	// Each page at both sizes.
	for _, round := range []struct {
		p      *tab
		w, h   int64
		mobile bool
	}{{mod, 1280, 800, false}, {vera, 390, 844, true}, {ben, 1280, 800, false}, {mod, 390, 844, true}, {vera, 1280, 800, false}} {
		p := round.p
		size := fmt.Sprintf("%dx%d", round.w, round.h)
		p.viewport(round.w, round.h, round.mobile)
		p.waitFor("the screen share on the stage at "+size, visible("#stage-main .tile.screen video"))
		if round.mobile {
			p.waitFor("the drawer closed", `!document.querySelector('#side').classList.contains('open')`)
			p.checkLayout("stage at "+size, false)
			p.waitFor("at least one camera tile, or a count of the others", visible("#tiles .tile.camera")+` && (document.querySelectorAll('#tiles .tile.camera').length === 3 || `+visible("#tiles .tile-more")+`)`)
		} else {
			p.waitFor("all three cameras", `[...document.querySelectorAll('#tiles .tile.camera')].filter(e => e.getClientRects().length).length === 3`)
		}
		p.openTab("chat")
		p.waitFor("the chat line", `[...document.querySelectorAll('#chat-log .text')].some(e => e.textContent.startsWith('Good morning from participant one'))`)
		p.checkLayout("with the chat at "+size, true)
		p.openTab("people")
		p.checkLayout("with the participants at "+size, false)
		if round.mobile {
			p.click("close the drawer", "#side-close")
		}
	}

	// Accessibility: moderator on a desktop, viewer on a phone with the
	// drawer open, and a dialog open.
	mod.viewport(1280, 800, false)
	mod.openTab("people")
	mod.axe("the room as moderator")
	vera.viewport(390, 844, true)
	vera.openTab("chat")
	vera.axe("the room as viewer on a phone")
	mod.click("open the lock settings", "#lock-open")
	mod.waitFor("the lock dialog", visible("#lock-dialog"))
	mod.axe("the room with a dialog open")
	mod.click("cancel", "#lock-cancel")
	mod.waitFor("focus back on the lock button", `document.activeElement === document.querySelector('#lock-open')`)
	for _, p := range []*tab{mod, vera, ben} {
		p.noErrors()
	}
}
