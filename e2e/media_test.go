package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"aula/internal/testenv"
	"aula/room"
	"aula/store"
)

// mediaProbe records the page's RTCPeerConnections and captured tracks, so
// the test can read what arrives (getStats) and whether a device was
// really released (readyState "ended"). It changes nothing else.
const mediaProbe = `(() => {
  window.__pcs = [];
  window.__tracks = [];
  const PC = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends PC {
    constructor(...a) { super(...a); window.__pcs.push(this); }
  };
  const md = navigator.mediaDevices;
  if (md) {
    const gum = md.getUserMedia.bind(md);
    md.getUserMedia = async (c) => { const s = await gum(c); window.__tracks.push(...s.getTracks()); return s; };
    const gdm = md.getDisplayMedia.bind(md);
    md.getDisplayMedia = async (c) => { const s = await gdm(c); window.__tracks.push(...s.getTracks()); return s; };
  }
})();`

// inbound sums what the page receives over WebRTC.
type inbound struct {
	AudioBytes    float64 `json:"audioBytes"`
	VideoBytes    float64 `json:"videoBytes"`
	FramesDecoded float64 `json:"framesDecoded"`
}

const inboundJS = `(async () => {
  const r = {audioBytes: 0, videoBytes: 0, framesDecoded: 0};
  for (const pc of window.__pcs || []) {
    if (pc.connectionState === 'closed') continue;
    const st = await pc.getStats();
    st.forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      if (s.kind === 'audio') r.audioBytes += s.bytesReceived || 0;
      else { r.videoBytes += s.bytesReceived || 0; r.framesDecoded += s.framesDecoded || 0; }
    });
  }
  return r;
})()`

func (p *tab) inbound() inbound {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepWait)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[inbound](inboundJS, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: getStats: %v", p.name, err)
	}
	return v
}

// until polls f until it holds or the step times out.
func (p *tab) until(what string, f func() bool) {
	p.t.Helper()
	deadline := time.Now().Add(stepWait)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !f() {
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: %s did not happen within %v", p.name, what, stepWait)
		}
		<-tick.C
	}
}

// receiving waits until audio bytes, video bytes and decoded frames all
// grow beyond what was received before.
func (p *tab) receiving(what string) {
	p.t.Helper()
	first := p.inbound()
	p.until(what, func() bool {
		now := p.inbound()
		return now.AudioBytes > first.AudioBytes && now.VideoBytes > first.VideoBytes &&
			now.FramesDecoded > first.FramesDecoded && now.FramesDecoded > 0
	})
}

// videoStops waits until inbound video bytes stop growing (no change over
// a second of samples).
func (p *tab) videoStops(what string) {
	p.t.Helper()
	last := p.inbound().VideoBytes
	since := time.Now()
	p.until(what, func() bool {
		now := p.inbound().VideoBytes
		if now != last {
			last, since = now, time.Now()
			return false
		}
		return time.Since(since) >= time.Second
	})
}

func (p *tab) click(what, sel string) {
	p.t.Helper()
	p.run(what, chromedp.Click(chromedp.CSS(sel)))
}

func pressed(sel string, on bool) string {
	return fmt.Sprintf(`document.querySelector(%q).getAttribute('aria-pressed') === '%t'`, sel, on)
}

// framesOf is a JS expression: frames shown by the first matching video.
func framesOf(sel string) string {
	return fmt.Sprintf(`(() => { const v = document.querySelector(%q); return v ? v.getVideoPlaybackQuality().totalVideoFrames : -1; })()`, sel)
}

// TestMediaInTheBrowser: two participants switch on camera and microphone
// and each receives the other's audio and video; one switches the camera
// off, its device is released and the other stops receiving video; a
// screen share appears for the other. Fake devices, real WebRTC over
// loopback through Aula's SFU.
func TestMediaInTheBrowser(t *testing.T) {
	chrome := testenv.Chromium(t)
	a := startServer(t, "")
	base := a.URL()
	meetingID := "e2e-" + room.NewID()
	createMeeting(t, base, meetingID)
	browser := startBrowser(t, chrome)

	mod := newPage(t, browser, "moderator")
	viewer := newPage(t, browser, "viewer")
	for _, p := range []*tab{mod, viewer} {
		p.run("install the media probe", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: mediaProbe})
			return err
		}))
	}
	mod.run("join", chromedp.Navigate(joinURL(base, meetingID, "Maria Moderator", room.Moderator)))
	mod.enter()
	viewer.run("join", chromedp.Navigate(joinURL(base, meetingID, "Vera Viewer", room.Viewer)))
	viewer.enter()

	// Off on entry: nothing captured, toggles released and labelled.
	for _, p := range []*tab{mod, viewer} {
		p.waitFor("microphone and camera off on entry", pressed("#mic-toggle", false)+" && "+pressed("#cam-toggle", false)+
			` && window.__tracks.length === 0 && document.querySelector('#cam-toggle').getAttribute('aria-label') === 'Camera'`)
	}

	for _, p := range []*tab{mod, viewer} {
		p.click("switch the microphone on", "#mic-toggle")
		p.waitFor("the microphone toggle pressed", pressed("#mic-toggle", true))
		p.click("switch the camera on", "#cam-toggle")
		p.waitFor("the camera toggle pressed", pressed("#cam-toggle", true)+
			` && document.querySelector('#cam-toggle').getAttribute('aria-label') === 'Camera'`)
	}
	for _, p := range []*tab{mod, viewer} {
		p.waitFor("the other's video tile", visible(".tile.camera:not(.self) video"))
		p.receiving("audio and video from the other")
	}
	mod.waitFor("the viewer's camera shown in the roster", `document.querySelectorAll('#tiles .tile.camera').length === 2`)

	t.Logf("moderator receives %+v, viewer receives %+v", mod.inbound(), viewer.inbound())
	// The viewer switches the camera off: the device is released and the
	// moderator stops receiving video.
	viewer.click("switch the camera off", "#cam-toggle")
	viewer.waitFor("the camera toggle released", pressed("#cam-toggle", false))
	viewer.waitFor("the camera track ended (device light off)",
		`window.__tracks.filter(t => t.kind === 'video').length > 0 && window.__tracks.filter(t => t.kind === 'video').every(t => t.readyState === 'ended')`)
	mod.videoStops("the viewer's video stops arriving")
	mod.waitFor("the viewer's camera tile gone", `!document.querySelector('.tile.camera:not(.self)')`)
	// Audio still flows both ways.
	before := mod.inbound().AudioBytes
	mod.until("the viewer's audio keeps arriving", func() bool { return mod.inbound().AudioBytes > before })

	// The connection-quality hint says, in words, how the connection is.
	mod.waitFor("the connection-quality hint", visible("#quality")+
		` && /^(good|fair|poor)$/.test(document.querySelector('#quality').dataset.quality) && /^(Good|Fair|Poor)$/.test(document.querySelector('#quality-text').textContent)`)

	// The fake microphone beeps: the active-speaker highlight reaches the
	// others (from the audio level, through media.speaking).
	mod.waitFor("the viewer shown speaking", personHas("Vera Viewer", ".badge.talking"))

	// The moderator mutes the viewer: the viewer's page releases the
	// microphone and says why; the roster shows it.
	mod.run("mute the viewer", chromedp.Click(button("Actions for Vera Viewer")), chromedp.Click(button("Mute Vera Viewer")))
	viewer.waitFor("the microphone toggle released", pressed("#mic-toggle", false))
	viewer.waitFor("the muted notice", visible("#media-notice")+` && document.querySelector('#media-notice').textContent.includes('muted')`)
	viewer.waitFor("the microphone track ended",
		`window.__tracks.filter(t => t.kind === 'audio').every(t => t.readyState === 'ended')`)
	mod.waitFor("the viewer muted in the roster", personHas("Vera Viewer", ".badge.muted"))

	// The moderator shares the screen: it appears for the viewer and plays.
	mod.click("share the screen", "#screen-toggle")
	mod.waitFor("the screen toggle pressed", pressed("#screen-toggle", true))
	viewer.waitFor("the shared screen", visible(".tile.screen:not(.self) video"))
	viewer.waitFor("the shared screen plays", framesOf(".tile.screen:not(.self) video")+" > 5")
	mod.click("stop sharing", "#screen-toggle")
	viewer.waitFor("the shared screen gone", `!document.querySelector('.tile.screen:not(.self)')`)

	for _, p := range []*tab{mod, viewer} {
		p.noErrors()
	}

	// Media is relayed in memory only, never written: after a session of
	// audio, two cameras and a screen share, every file in the server's
	// data directory is the meeting's slides (the PDF from create and its
	// page images), and the store holds only small state: no value the
	// size of a few seconds of audio.
	err := filepath.WalkDir(a.DataDir(), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !bytes.HasPrefix(b, []byte("%PDF-")) && !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) && !bytes.HasPrefix(b, []byte("{")) {
			t.Errorf("a file in the data directory after a media session is no document: %s (%d bytes, starts %q)", p, len(b), b[:min(len(b), 8)])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dump, err := store.Dump(context.Background(), a.Store())
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for k, v := range dump {
		total += len(v)
		if len(v) > 8<<10 {
			t.Errorf("store value %s holds %d bytes", k, len(v))
		}
	}
	relayed := mod.inbound().AudioBytes + mod.inbound().VideoBytes + viewer.inbound().AudioBytes + viewer.inbound().VideoBytes
	if total > 64<<10 || relayed < 32<<10 {
		t.Errorf("the store holds %d bytes after %.0f bytes of media relayed", total, relayed)
	}
}
