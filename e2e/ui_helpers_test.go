package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"aula/internal/testenv"
)

// Helpers of the browser tests for the classroom client (issue 8): the
// device check before entering, the side panel's tabs, viewports, and
// axe-core accessibility checks.

// enter goes from the device check into the room (microphone and camera
// off, as on entry), and waits for the room.
func (p *tab) enter() {
	p.t.Helper()
	p.waitFor("the device check", visible("#check-join"))
	p.click("join from the device check", "#check-join")
	p.waitFor("the room", visible("#view-room")+" && "+visible("#actionbar"))
}

// openTab shows a tab of the side panel ("people" or "chat"); on a phone
// viewport it opens the drawer first.
func (p *tab) openTab(name string) {
	p.t.Helper()
	p.waitFor("the side panel", visible("#tab-"+name)+` || `+visible("#panel-toggle"))
	if ok := p.eval(visible("#panel-toggle")); ok {
		if !p.eval(`document.querySelector('#side').classList.contains('open')`) {
			p.click("open the panel", "#panel-toggle")
		}
		p.waitFor("the drawer open and still", `document.querySelector('#side').classList.contains('open') && getComputedStyle(document.querySelector('#side')).transform === 'none'`)
	}
	// A click lands where the tab was when chromedp measured it; right
	// after a viewport change the tab bar may still move, and the click
	// then selects the neighbouring tab. Click again (a real click each
	// time) until the panel shows.
	deadline := time.Now().Add(stepWait)
	for {
		p.click("the "+name+" tab", "#tab-"+name)
		settle := time.Now().Add(2 * time.Second)
		for time.Now().Before(settle) && !p.eval(visible("#panel-"+name)) {
			time.Sleep(50 * time.Millisecond)
		}
		if p.eval(visible("#panel-"+name)) || time.Now().After(deadline) {
			break
		}
	}
	p.waitFor("the "+name+" panel", visible("#panel-"+name))
}

// eval evaluates a JavaScript condition once.
func (p *tab) eval(cond string) bool {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepWait)
	defer cancel()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!(`+cond+`)`))
	if err != nil {
		p.t.Fatalf("%s: evaluate %s: %v", p.name, cond, err)
	}
	return ok
}

// viewport sets the page's size (mobile: touch and a phone's scale).
func (p *tab) viewport(w, h int64, mobile bool) {
	p.t.Helper()
	p.run(fmt.Sprintf("viewport %dx%d", w, h), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: w, Height: h, DeviceScaleFactor: 1, Mobile: mobile,
		})
		return err
	}))
	p.waitFor("the new viewport", fmt.Sprintf(`innerWidth === %d && innerHeight === %d`, w, h))
}

var (
	axeOnce sync.Once
	axeSrc  string
	axeErr  error
)

// axeSource reads axe-core (installed by scripts/test, AULA_TEST_AXE).
func axeSource(t *testing.T) string {
	t.Helper()
	path := testenv.Env(t, "AULA_TEST_AXE")
	axeOnce.Do(func() {
		b, err := os.ReadFile(path)
		axeSrc, axeErr = string(b), err
	})
	if axeErr != nil {
		t.Fatalf("read axe-core: %v", axeErr)
	}
	return axeSrc
}

type axeViolation struct {
	ID    string   `json:"id"`
	Help  string   `json:"help"`
	Nodes []string `json:"nodes"`
}

// axe runs axe-core on the page as it is now and fails the test on any
// violation (WCAG 2.0/2.1 A and AA rules and axe's best practices).
func (p *tab) axe(state string) {
	p.t.Helper()
	src := axeSource(p.t)
	ctx, cancel := context.WithTimeout(p.ctx, 60*stepWait/20)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === 'object' || (function(){`+src+`
;return true})()`)); err != nil {
		p.t.Fatalf("%s: inject axe-core: %v", p.name, err)
	}
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](`axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + (n.failureSummary || '').replace(/\s+/g, ' '))})))`, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: axe-core in %s: %v", p.name, state, err)
	}
	for _, v := range vs {
		p.t.Errorf("%s: accessibility violation in %s: %s (%s)\n    %s", p.name, state, v.ID, v.Help, strings.Join(v.Nodes, "\n    "))
	}
}

// contextFor is a step's context on the tab.
func contextFor(p *tab) (context.Context, context.CancelFunc) {
	return context.WithTimeout(p.ctx, stepWait)
}
