package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"aula/internal/testenv"
	"aula/room"
	"aula/web/static"
)

// testPDF writes a PDF of landscape pages (400×300 points), each filled
// with one colour (RGB 0..1) and showing its page number in white.
func testPDF(colors [][3]float64) []byte {
	var b bytes.Buffer
	var offs []int
	obj := func(body string) {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", len(offs), body)
	}
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	n := len(colors)
	font := 3 + 2*n
	kids := ""
	for i := range colors {
		kids += fmt.Sprintf("%d 0 R ", 3+2*i)
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", kids, n))
	for i, c := range colors {
		content := fmt.Sprintf("%.2f %.2f %.2f rg 0 0 400 300 re f BT 1 1 1 rg /F1 96 Tf 170 110 Td (%d) Tj ET", c[0], c[1], c[2], i+1)
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 300] /Contents %d 0 R /Resources << /Font << /F1 %d 0 R >> >> >>", 4+2*i, font))
		obj(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
	}
	obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref)
	return b.Bytes()
}

// The three pages of the uploaded document and their colours (0..255).
var pageColors = [][3]int{{220, 30, 30}, {30, 160, 60}, {30, 60, 210}}

// pagePixel is a JS expression: the shown page image is page `page`,
// loaded, and its pixel at 10 % / 10 % (away from the page number) is
// within 40 of rgb.
func pagePixel(page int, rgb [3]int) string {
	return fmt.Sprintf(`(() => {
  const img = document.querySelector('#pres-img');
  if (!img || img.closest('[hidden]') || !img.complete || !img.naturalWidth || img.getAttribute('data-page') !== '%d') return false;
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d');
  g.drawImage(img, 0, 0);
  const d = g.getImageData(Math.floor(c.width * 0.1), Math.floor(c.height * 0.1), 1, 1).data;
  return Math.abs(d[0] - %d) < 40 && Math.abs(d[1] - %d) < 40 && Math.abs(d[2] - %d) < 40;
})()`, page, rgb[0], rgb[1], rgb[2])
}

// shapes is a JS expression: the number of committed shapes of a kind on
// the shown page (author: only theirs, unless empty).
func shapes(kind, author string) string {
	sel := `#wb-svg .wb-shapes [data-kind="` + kind + `"]`
	if author != "" {
		sel += `[data-author="` + author + `"]`
	}
	return fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)
}

// svgBox returns the whiteboard's box on the page (CSS pixels).
func (p *tab) svgBox() (x, y, w, h float64) {
	p.t.Helper()
	ctx, cancel := contextFor(p)
	defer cancel()
	r, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => { const r = document.querySelector('#wb-svg').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`))
	if err != nil || len(r) != 4 {
		p.t.Fatalf("%s: the whiteboard's box: %v", p.name, err)
	}
	return r[0], r[1], r[2], r[3]
}

// drag presses the mouse at the first point (fractions of the page),
// moves it through the others and releases it at the last.
func (p *tab) drag(what string, pts ...[2]float64) {
	p.t.Helper()
	x, y, w, h := p.svgBox()
	at := func(i int) (float64, float64) { return x + pts[i][0]*w, y + pts[i][1]*h }
	x0, y0 := at(0)
	acts := []chromedp.Action[chromedp.Void]{
		chromedp.MouseEvent(chromedp.MouseMoved, x0, y0),
		chromedp.MouseEvent(chromedp.MousePressed, x0, y0, chromedp.ButtonLeft, chromedp.ClickCount(1), held),
	}
	for i := 1; i < len(pts); i++ {
		xi, yi := at(i)
		acts = append(acts, chromedp.MouseEvent(chromedp.MouseMoved, xi, yi, chromedp.ButtonLeft, held))
	}
	xn, yn := at(len(pts) - 1)
	acts = append(acts, chromedp.MouseEvent(chromedp.MouseReleased, xn, yn, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	p.run(what, acts...)
}

// held marks the left button as held down (pointer events' buttons).
func held(p *input.DispatchMouseEventParams) { p.Buttons = 1 }

// stroke is a wavy line across the page from (x0, y).
func stroke(x0, y float64) [][2]float64 {
	var pts [][2]float64
	for i := 0; i <= 12; i++ {
		dy := 0.03
		if i%2 == 1 {
			dy = -0.03
		}
		pts = append(pts, [2]float64{x0 + float64(i)*0.03, y + dy})
	}
	return pts
}

// fetched fetches the href of a link on the page with the page's
// session and says "<status> <content type> <first 4 bytes>".
func (p *tab) fetched(sel string) string {
	p.t.Helper()
	ctx, cancel := contextFor(p)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`fetch(document.querySelector(%q).href).then(async r => r.status + ' ' + r.headers.get('content-type') + ' ' + (await r.text()).slice(0, 4))`, sel), chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: fetch %s: %v", p.name, sel, err)
	}
	return s
}

// catalogueText returns a string of a client catalogue.
func catalogueText(t *testing.T, lang, key string) string {
	t.Helper()
	b, err := static.FS.ReadFile("i18n/" + lang + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m[key] == "" {
		t.Fatalf("no %q in %s.json", key, lang)
	}
	return m[key]
}

// TestPresentationInTheBrowser: the trainer (a German moderator, the
// presenter) uploads a three-page PDF through the documents dialog after
// a refused upload shows its reason in German; a viewer sees page 1 (its
// colour, read from the shown image), then page 2 when the presenter
// turns with the keyboard; the presenter's stroke, rectangle and text
// appear for the viewer, with the presenter's pointer; drawing is granted
// to the viewer, whose stroke and cursor appear for the presenter, and
// the viewer's undo removes the stroke for both; a participant who joins
// later lands on page 2 with its drawings; axe finds nothing with the
// presentation and the toolbar shown (moderator and viewer); after the
// end no file of the meeting remains.
func TestPresentationInTheBrowser(t *testing.T) {
	chrome := testenv.Chromium(t)
	a := startServer(t, "")
	base := a.URL()
	meetingID := "e2e-pres-" + room.NewID()
	createMeeting(t, base, meetingID)
	mt, err := a.Manager().Meeting(context.Background(), meetingID)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "Drei Seiten.pdf")
	bad := filepath.Join(dir, "notes.pdf")
	colors := make([][3]float64, len(pageColors))
	for i, c := range pageColors {
		colors[i] = [3]float64{float64(c[0]) / 255, float64(c[1]) / 255, float64(c[2]) / 255}
	}
	if err := os.WriteFile(good, testPDF(colors), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("These are my notes, not a PDF.\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	browser := startBrowser(t, chrome)
	mod := newPage(t, browser, "moderator")
	viewer := newPage(t, browser, "viewer")
	mod.run("join", chromedp.Navigate(joinURLWith(base, meetingID, "Maria Moderator", room.Moderator,
		url.Values{"userdata-bbb_override_default_locale": {"de"}})))
	mod.viewport(1280, 800, false)
	mod.enter()
	viewer.run("join", chromedp.Navigate(joinURL(base, meetingID, "Vera Viewer", room.Viewer)))
	viewer.viewport(1280, 800, false)
	viewer.enter()
	for _, p := range []*tab{mod, viewer} {
		p.waitFor("both in the room", rosterHas("Vera Viewer")+" && "+rosterHas("Maria Moderator"))
		// The document the platform sent on create is shown first.
		p.waitFor("the pre-uploaded slides on the stage", visible("#stage-presentation")+` && document.querySelector('#pres-name').textContent === 'slides.pdf'`+
			` && document.querySelector('#pres-img').complete && document.querySelector('#pres-img').naturalWidth > 0`)
	}
	viewerID := viewer.str(`[...document.querySelectorAll('#roster li')].find(li => li.querySelector('.name').textContent === 'Vera Viewer').getAttribute('data-id')`)
	if viewerID == "" {
		t.Fatal("no id for the viewer's row")
	}

	// A file that only claims to be a PDF is refused, in German.
	mod.click("open the documents", "#pres-docs")
	mod.waitFor("the documents dialog", visible("#pres-dialog")+" && "+visible("#pres-upload"))
	mod.run("choose the false PDF", chromedp.SetUploadFiles(chromedp.CSS("#pres-file"), []string{bad}))
	want := catalogueText(t, "de", "pres.error.unsupported")
	if want == catalogueText(t, "en", "pres.error.unsupported") {
		t.Fatal("the German refusal is the English one")
	}
	mod.waitFor("the refusal in German", visible("#pres-upload-error")+fmt.Sprintf(` && document.querySelector('#pres-upload-error').textContent === %q`, want))

	// The three-page PDF: its conversion is reported, then it is shown.
	mod.run("choose the PDF", chromedp.SetUploadFiles(chromedp.CSS("#pres-file"), []string{good}))
	mod.waitFor("the conversion done", `document.querySelector('#pres-upload-error').hidden && `+
		fmt.Sprintf(`document.querySelector('#pres-convert').textContent === %q`, "Drei Seiten.pdf ist bereit."))
	mod.waitFor("the new document in the list, shown", `[...document.querySelectorAll('#pres-doc-list .pres-doc.is-current .pres-doc-name')].some(e => e.textContent === 'Drei Seiten.pdf')`)
	mod.click("close the dialog", "#pres-dialog-close")
	viewer.waitFor("page 1 of the new document, red", `document.querySelector('#pres-name').textContent === 'Drei Seiten.pdf' && `+pagePixel(1, pageColors[0]))
	viewer.waitFor("the page number", `document.querySelector('#pres-pageinfo').textContent === 'Page 1 of 3'`)

	// The presenter turns the page with the keyboard on the stage.
	mod.waitFor("page 1 for the presenter", pagePixel(1, pageColors[0]))
	mod.run("focus the stage", chromedp.Focus(chromedp.CSS("#pres-viewport")))
	mod.run("Page Down", chromedp.KeyEvent(kb.PageDown))
	viewer.waitFor("page 2, green", pagePixel(2, pageColors[1])+` && document.querySelector('#pres-pageinfo').textContent === 'Page 2 of 3'`)
	mod.waitFor("page 2 for the presenter", pagePixel(2, pageColors[1]))

	// The presenter zooms in; everyone follows; back to the whole page.
	mod.click("zoom in", "#pres-zoom-in")
	viewer.waitFor("the zoomed page", `document.querySelector('#pres-canvas').style.transform.startsWith('scale(1.25)')`)
	mod.click("the whole page", "#pres-zoom-fit")
	viewer.waitFor("the whole page", `document.querySelector('#pres-canvas').style.transform.startsWith('scale(1)')`)

	// The presenter draws a stroke, a rectangle and a text.
	mod.waitFor("the whiteboard tools", visible("#wb-tools")+" && "+pressed(`#wb-tools [data-tool="pen"]`, true))
	mod.drag("draw a stroke", stroke(0.1, 0.3)...)
	viewer.waitFor("the presenter's pointer", visible(".wb-cursor.is-presenter"))
	mod.click("the rectangle tool", `#wb-tools [data-tool="rect"]`)
	mod.waitFor("the rectangle tool chosen", pressed(`#wb-tools [data-tool="rect"]`, true)+" && "+pressed(`#wb-tools [data-tool="pen"]`, false))
	mod.drag("draw a rectangle", [2]float64{0.55, 0.15}, [2]float64{0.7, 0.25}, [2]float64{0.85, 0.45})
	mod.click("the text tool", `#wb-tools [data-tool="text"]`)
	mod.drag("place a text", [2]float64{0.2, 0.7}, [2]float64{0.2, 0.7})
	mod.waitFor("the text input", visible("#wb-text")+` && document.activeElement === document.querySelector('#wb-text')`)
	mod.run("type the text", chromedp.KeyEvent("Photosynthese"), chromedp.KeyEvent(kb.Enter))
	for _, p := range []*tab{viewer, mod} {
		p.waitFor("the stroke, the rectangle and the text", shapes("pen", "")+` === 1 && `+shapes("rect", "")+` === 1 && `+shapes("text", "")+` === 1`+
			` && document.querySelector('#wb-svg [data-kind="text"]').textContent === 'Photosynthese'`)
	}
	viewer.waitFor("no tools for the viewer", `document.querySelector('#wb-tools').hidden`)

	// Drawing for the viewer: granted in the dialog by the moderator.
	mod.click("who may draw", "#pres-access")
	mod.waitFor("the drawing rights dialog", visible("#wb-access-dialog")+fmt.Sprintf(` && document.querySelector('#wb-access-list input[value=%q]')`, viewerID))
	mod.axe("the drawing rights dialog")
	mod.click("tick the viewer", fmt.Sprintf(`#wb-access-list input[value=%q]`, viewerID))
	mod.click("apply", "#wb-access-apply")
	mod.waitFor("the dialog closed", `!document.querySelector('#wb-access-dialog').open`)
	viewer.waitFor("the tools for the viewer", visible("#wb-tools")+" && "+pressed(`#wb-tools [data-tool="pen"]`, true)+` && document.querySelector('#wb-clear-all').hidden`)
	viewer.drag("the viewer draws", stroke(0.2, 0.55)...)
	mod.waitFor("the viewer's stroke", shapes("pen", viewerID)+` === 1 && `+shapes("pen", "")+` === 2`)
	mod.waitFor("the viewer's cursor with the name", `[...document.querySelectorAll('.wb-cursor .wb-cursor-name')].some(e => e.textContent === 'Vera Viewer')`)

	// Accessibility with the presentation and the tools shown.
	mod.axe("the presentation with the whiteboard tools (moderator, presenter)")
	viewer.axe("the presentation with the whiteboard tools (viewer allowed to draw)")

	// The viewer's undo takes the stroke away for both.
	viewer.click("undo", "#wb-undo")
	for _, p := range []*tab{viewer, mod} {
		p.waitFor("the viewer's stroke gone", shapes("pen", viewerID)+` === 0 && `+shapes("pen", "")+` === 1 && `+shapes("rect", "")+` === 1`)
	}
	// The server's refusal of another undo is said on the stage.
	viewer.click("undo again", "#wb-undo")
	viewer.waitFor("nothing to undo", visible("#pres-status")+` && document.querySelector('#pres-status').textContent === 'Nothing to undo.'`)

	// Select and move: the presenter drags the rectangle by its edge.
	mod.click("the select tool", `#wb-tools [data-tool="select"]`)
	mod.drag("move the rectangle", [2]float64{0.55, 0.3}, [2]float64{0.5, 0.3}, [2]float64{0.45, 0.3})
	viewer.waitFor("the rectangle moved", `Math.abs(parseFloat(document.querySelector('#wb-svg .wb-shapes [data-kind="rect"]').getAttribute('x')) - 450) < 3`)
	// An ellipse, then the eraser across its edge.
	mod.click("the ellipse tool", `#wb-tools [data-tool="ellipse"]`)
	mod.drag("draw an ellipse", [2]float64{0.1, 0.75}, [2]float64{0.2, 0.85}, [2]float64{0.3, 0.95})
	viewer.waitFor("the ellipse", shapes("ellipse", "")+` === 1`)
	mod.click("the eraser", `#wb-tools [data-tool="eraser"]`)
	mod.drag("erase the ellipse", [2]float64{0.08, 0.85}, [2]float64{0.1, 0.85}, [2]float64{0.12, 0.85})
	for _, p := range []*tab{viewer, mod} {
		p.waitFor("the ellipse erased, the rest kept", shapes("ellipse", "")+` === 0 && `+shapes("pen", "")+` === 1 && `+shapes("rect", "")+` === 1 && `+shapes("text", "")+` === 1`)
	}

	// The presenter lets everyone download the original; the moderator
	// downloads the document with its drawings as a PDF.
	if viewer.eval(visible("#pres-download")) {
		t.Error("the viewer may download the original before the presenter allows it")
	}
	mod.click("open the documents", "#pres-docs")
	mod.click("allow the download", `#pres-doc-list .pres-doc.is-current input[data-action="download"]`)
	viewer.waitFor("the download of the original", visible("#pres-download"))
	mod.axe("the documents dialog")
	if got := viewer.fetched("#pres-download"); got != "200 application/octet-stream %PDF" {
		t.Errorf("the viewer's download of the original: %q", got)
	}
	mod.click("close the dialog", "#pres-dialog-close")
	if got := mod.fetched("#pres-export"); got != "200 application/pdf %PDF" {
		t.Errorf("the export with drawings: %q", got)
	}

	// Someone who joins later lands on page 2 with its drawings.
	late := newPage(t, browser, "late viewer")
	late.run("join", chromedp.Navigate(joinURL(base, meetingID, "Ben Late", room.Viewer)))
	late.viewport(1280, 800, false)
	late.enter()
	late.waitFor("page 2 with the drawings", pagePixel(2, pageColors[1])+` && `+shapes("pen", "")+` === 1 && `+shapes("rect", "")+` === 1 && `+shapes("text", "")+` === 1`)

	// The moderator makes the viewer the presenter: the page controls
	// move to the viewer.
	mod.click("the viewer's actions", fmt.Sprintf(`[data-focus-key="%s:menu"]`, viewerID))
	mod.click("make the viewer presenter", fmt.Sprintf(`[data-focus-key="%s:presenter"]`, viewerID))
	viewer.waitFor("the presenter's page controls", visible("#pres-next")+" && "+visible("#pres-docs")+" && "+visible(`#wb-tools [data-tool="pan"]`))
	mod.waitFor("no page controls for the former presenter", `document.querySelector('#pres-next').hidden && document.querySelector('#wb-clear-all').hidden`)
	viewer.click("next page", "#pres-next")
	for _, p := range []*tab{mod, late} {
		p.waitFor("page 3, blue", pagePixel(3, pageColors[2]))
	}

	// The end deletes every file of the meeting.
	if len(meetingFiles(t, a.DataDir(), mt.Key)) == 0 {
		t.Fatal("no file of the meeting before the end: the check after it would prove nothing")
	}
	mod.click("leave", "#leave")
	mod.waitFor("the confirmation", visible("#end-confirm"))
	mod.click("end for all", "#end-confirm")
	for _, p := range []*tab{mod, viewer, late} {
		p.waitFor("the ended page", visible("#view-ended"))
		p.noErrors()
	}
	testenv.Eventually(t, stepWait, "no file of the ended meeting", func() bool {
		return len(meetingFiles(t, a.DataDir(), mt.Key)) == 0
	}, func() {
		t.Errorf("files of the ended meeting remain: %v", meetingFiles(t, a.DataDir(), mt.Key))
	})
}
