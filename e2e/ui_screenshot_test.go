package e2e

import (
	"os"
	"testing"

	"github.com/chromedp/chromedp"

	"aula/internal/testenv"
	"aula/room"
)

// TestScreenshot makes the README's picture from a real browser session
// (scripts/screenshot runs it): a moderator and three participants with
// Chromium's fake cameras, a chat line and a raised hand, seen by the
// moderator at 1280×800. Only with AULA_SCREENSHOT=<png path>.
func TestScreenshot(t *testing.T) {
	out := os.Getenv("AULA_SCREENSHOT")
	if out == "" {
		t.Skip("set AULA_SCREENSHOT=<file.png> (scripts/screenshot) to make the README picture")
	}
	chrome := testenv.Chromium(t)
	a := startServer(t, "")
	base := a.URL()
	meetingID := "e2e-picture-" + room.NewID()
	createMeeting(t, base, meetingID)
	browser := startBrowser(t, chrome)

	mod := newPage(t, browser, "Maria")
	mod.run("join", chromedp.Navigate(joinURL(base, meetingID, "Maria Lehmann", room.Moderator)))
	mod.viewport(1280, 800, false)
	mod.enter()
	var people []*tab
	for _, name := range []string{"Jonas Becker", "Aylin Demir", "Tom Fischer"} {
		p := newPage(t, browser, name)
		p.run("join", chromedp.Navigate(joinURL(base, meetingID, name, room.Viewer)))
		p.viewport(640, 480, false)
		p.enter()
		p.click("camera on", "#cam-toggle")
		people = append(people, p)
	}
	mod.click("camera on", "#cam-toggle")
	mod.click("microphone on", "#mic-toggle")
	people[1].click("raise hand", "#hand-toggle")
	people[0].openTab("chat")
	people[0].run("chat", chromedp.SendKeys(chromedp.CSS("#chat-input"), "Good morning! Could you share the worksheet again?"),
		chromedp.Click(chromedp.CSS("#chat-send")))
	mod.waitFor("four cameras playing", `[...document.querySelectorAll('#tiles .tile.camera video')].filter(v => v.getVideoPlaybackQuality().totalVideoFrames > 10).length === 4`)
	mod.waitFor("the raised hand", personHas("Aylin Demir", ".badge.hand"))
	mod.openTab("chat")
	mod.waitFor("the chat line", chatHas("Jonas Becker", "Good morning! Could you share the worksheet again?"))
	mod.eval(`(document.activeElement.blur(), true)`)
	png, err := chromedp.Run(mod.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", out, len(png))
}
