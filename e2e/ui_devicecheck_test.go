package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"aula/internal/testenv"
	"aula/room"
)

// TestDeviceCheckInTheBrowser: the device check before entering. In the
// lobby (meeting not started) the microphone level moves with Chromium's
// fake microphone and the echo test is disabled with a hint; once the
// meeting runs, the echo test sends one's own microphone through the
// server and back (inbound audio bytes grow while it runs and stop after),
// and entering "listen-only" leaves microphone and camera off. axe-core
// finds no violation in the lobby and in the device check.
func TestDeviceCheckInTheBrowser(t *testing.T) {
	chrome := testenv.Chromium(t)
	a := startServer(t, "")
	base := a.URL()
	meetingID := "e2e-check-" + room.NewID()
	createMeeting(t, base, meetingID)
	browser := startBrowser(t, chrome)

	viewer := newPage(t, browser, "viewer")
	mod := newPage(t, browser, "moderator")
	for _, p := range []*tab{viewer, mod} {
		p.run("install the media probe", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: mediaProbe})
			return err
		}))
	}

	// The viewer waits in the lobby, with the device check.
	viewer.run("join", chromedp.Navigate(joinURL(base, meetingID, "Vera Viewer", room.Viewer)))
	viewer.waitFor("the lobby with the device check", visible("#lobby-wait")+" && "+visible("#device-check"))
	viewer.waitFor("nothing captured before asked", `window.__tracks.length === 0`)
	viewer.waitFor("the echo test disabled with a hint in the lobby",
		`document.querySelector('#check-echo').disabled && document.querySelector('#check-echo-hint').textContent.includes('once the meeting has started')`)
	viewer.axe("the lobby")

	// The microphone level moves (the fake microphone beeps).
	viewer.click("test the microphone", "#check-mic")
	viewer.waitFor("the microphone toggle pressed", pressed("#check-mic", true))
	viewer.eval(`(window.__levels = [], setInterval(() => window.__levels.push(document.querySelector('#mic-level').value), 50), true)`)
	viewer.waitFor("a moving microphone level", `new Set(window.__levels.filter(v => v > 0)).size >= 3 && window.__levels.some(v => v === 0 || v < Math.max(...window.__levels))`)
	viewer.click("microphone test off", "#check-mic")
	viewer.waitFor("the microphone released", pressed("#check-mic", false)+
		` && window.__tracks.every(t => t.readyState === 'ended') && document.querySelector('#mic-level').value === 0`)
	viewer.click("camera preview on", "#check-cam")
	viewer.waitFor("the camera preview plays", visible("#check-video")+" && "+framesOf("#check-video")+" > 3")
	viewer.click("camera preview off", "#check-cam")
	viewer.waitFor("the camera released", `window.__tracks.every(t => t.readyState === 'ended')`)

	// The moderator starts the meeting: the device check offers the echo
	// test through the server.
	mod.run("join", chromedp.Navigate(joinURL(base, meetingID, "Maria Moderator", room.Moderator)))
	mod.waitFor("the device check", visible("#check-join")+" && "+visible("#check-echo"))
	viewer.waitFor("the viewer admitted into the room", visible("#view-room"))
	viewer.waitFor("the viewer entered with microphone and camera off", pressed("#mic-toggle", false)+" && "+pressed("#cam-toggle", false))
	mod.waitFor("the echo test available", `!document.querySelector('#check-echo').disabled`)
	mod.axe("the device check")

	before := mod.inbound().AudioBytes
	mod.click("start the echo test", "#check-echo")
	mod.waitFor("the echo test running", `document.querySelector('#check-echo').disabled && document.querySelector('#check-echo-hint').textContent.includes('Speak now')`)
	mod.until("one's own audio coming back through the server", func() bool { return mod.inbound().AudioBytes > before+2000 })
	mod.waitFor("the echo played on the page", `(() => { const a = document.querySelector('#echo-audio'); return a.srcObject && a.srcObject.getAudioTracks().length === 1 && !a.paused; })()`)
	// After about five seconds the client ends the echo: nothing more arrives.
	mod.waitFor("the echo test finished", `!document.querySelector('#check-echo').disabled && document.querySelector('#check-echo-hint').textContent.includes('finished')`)
	last := mod.inbound().AudioBytes
	since := time.Now()
	mod.until("the echo stops", func() bool {
		now := mod.inbound().AudioBytes
		if now != last {
			last, since = now, time.Now()
			return false
		}
		return time.Since(since) >= 1500*time.Millisecond
	})
	mod.waitFor("the echo's microphone released", `window.__tracks.filter(t => t.kind === 'audio').every(t => t.readyState === 'ended')`)
	viewer.waitFor("the moderator's microphone never shown on", `![...document.querySelectorAll('#roster li')].some(li => li.querySelector('.name').textContent === 'Maria Moderator' && li.querySelector('.badge.mic'))`)

	// Listen-only: in the room with everything off.
	mod.click("join listen-only", "#check-listen")
	mod.waitFor("the room", visible("#view-room"))
	mod.waitFor("microphone and camera off", pressed("#mic-toggle", false)+" && "+pressed("#cam-toggle", false)+
		` && window.__tracks.every(t => t.readyState === 'ended')`)
	mod.waitFor("focus on the microphone button after entering", `document.activeElement === document.querySelector('#mic-toggle')`)
	for _, p := range []*tab{viewer, mod} {
		p.noErrors()
	}
}
