package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"aula/internal/testenv"
	"aula/room"
)

// TestGuestApprovalInTheBrowser: guest policy ASK_MODERATOR in a running
// meeting. A guest waits in the lobby, told that a moderator must let them
// in; the moderator sees them under Waiting and admits them; both then see
// each other in the participant list. A second guest is denied, sees that
// they were not let in, and a reload does not bring them back. Once with
// the memory store, once with Redis.
func TestGuestApprovalInTheBrowser(t *testing.T) {
	chrome := testenv.Chromium(t)
	browser := startBrowser(t, chrome)
	for _, tc := range []struct {
		name  string
		redis bool
	}{{"memory", false}, {"redis", true}} {
		t.Run(tc.name, func(t *testing.T) {
			redisURL := ""
			if tc.redis {
				redisURL = testenv.RedisURL(t)
			}
			a := startServer(t, redisURL)
			base := a.URL()
			meetingID := "e2e-guests-" + room.NewID()
			createAskModerator(t, base, meetingID)

			mod := newPage(t, browser, "moderator")
			gary := newPage(t, browser, "Gary")
			gina := newPage(t, browser, "Gina")
			mod.run("join", chromedp.Navigate(joinURL(base, meetingID, "Maria Moderator", room.Moderator)))
			mod.enter()
			mod.waitFor("no Waiting list while nobody waits", `document.querySelector('#waiting').hidden`)

			// The guest waits although the meeting is running.
			gary.run("join as guest", chromedp.Navigate(guestJoinURL(base, meetingID, "Gary Guest")))
			gary.waitFor("the lobby", visible("#lobby-wait"))
			gary.waitFor("the guest's waiting text", `document.querySelector('#lobby-wait').textContent.includes('moderator to let you in')`)
			mod.waitFor("Gary under Waiting", visible("#waiting")+" && "+waitingHas("Gary Guest"))
			mod.waitFor("labelled buttons", `[...document.querySelectorAll('button')].filter(b => b.getClientRects().length).every(b => (b.getAttribute('aria-label') || '').trim() !== '')`)
			mod.waitFor("Gary not yet a participant", "!"+rosterHas("Gary Guest"))

			// The moderator admits him: both see each other.
			mod.run("admit Gary", chromedp.Click(button("Admit Gary Guest")))
			gary.waitFor("the room", visible("#view-room"))
			for _, p := range []*tab{mod, gary} {
				p.waitFor("both in the participant list", rosterHas("Gary Guest")+" && "+rosterHas("Maria Moderator"))
			}
			mod.waitFor("the Waiting list gone", `document.querySelector('#waiting').hidden`)
			gary.waitFor("no Waiting list for a guest", `document.querySelector('#waiting').hidden`)

			// A second guest is turned away for good.
			gina.run("join as guest", chromedp.Navigate(guestJoinURL(base, meetingID, "Gina Guest")))
			gina.waitFor("the lobby", visible("#lobby-wait"))
			mod.waitFor("Gina under Waiting", visible("#waiting")+" && "+waitingHas("Gina Guest"))
			mod.run("deny Gina", chromedp.Click(button("Deny Gina Guest")))
			denied := visible("#view-ended") + ` && document.querySelector('#ended-title').textContent === 'You were not let in'`
			gina.waitFor("the not-let-in page", denied)
			mod.waitFor("the Waiting list gone", `document.querySelector('#waiting').hidden`)
			gina.run("reload", chromedp.Reload())
			gina.waitFor("the not-let-in page after a reload", denied)
			for _, p := range []*tab{mod, gary} {
				p.waitFor("Gina never in the list", "!"+rosterHas("Gina Guest"))
			}
			for _, p := range []*tab{mod, gary, gina} {
				p.noErrors()
			}
		})
	}
}

func createAskModerator(t *testing.T, base, meetingID string) {
	t.Helper()
	resp, err := http.Get(apiURL(base, "create", url.Values{
		"meetingID": {meetingID}, "name": {"Open Day"}, "guestPolicy": {"ASK_MODERATOR"},
		"attendeePW": {"ap-secret"}, "moderatorPW": {"mp-secret"},
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte("<returncode>SUCCESS</returncode>")) {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
}

func guestJoinURL(base, meetingID, name string) string {
	return apiURL(base, "join", url.Values{
		"meetingID": {meetingID}, "fullName": {name}, "role": {string(room.Viewer)}, "guest": {"true"},
		"userID": {"lms-" + strings.ToLower(strings.Fields(name)[0])},
	})
}

// waitingHas is a JS expression: the moderator's Waiting list shows name.
func waitingHas(name string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('#waiting-list .name')].some(e => e.textContent === %q)`, name)
}
