package present

import (
	"html"
	"io"
	"regexp"
	"strconv"
	"strings"

	"aula/render"
)

// The shared notes' export, made on request and never stored: the notes
// are Markdown (the simple part of it: headings, bold, italic, lists), and
// come out as Markdown, plain text, HTML or PDF.

// mdBlock is one line-level block of the notes.
type mdBlock struct {
	level  int    // 1–3 heading, 0 otherwise
	bullet string // "•", "3." for list items
	text   string // with inline markers
}

var (
	headingRE = regexp.MustCompile(`^(#{1,6})\s+(.*)$`)
	bulletRE  = regexp.MustCompile(`^\s*[-*+]\s+(.*)$`)
	orderedRE = regexp.MustCompile(`^\s*([0-9]{1,4})[.)]\s+(.*)$`)
	inlineRE  = regexp.MustCompile(`\*\*(.+?)\*\*|__(.+?)__|\*(.+?)\*|_(.+?)_`)
)

// parseNotes splits Markdown into blocks; consecutive plain lines make one
// paragraph.
func parseNotes(md string) []mdBlock {
	var out []mdBlock
	para := false
	for _, line := range strings.Split(strings.ReplaceAll(md, "\r\n", "\n"), "\n") {
		t := strings.TrimRight(line, " \t")
		switch m := headingRE.FindStringSubmatch(t); {
		case strings.TrimSpace(t) == "":
			para = false
		case m != nil:
			out = append(out, mdBlock{level: min(len(m[1]), 3), text: m[2]})
			para = false
		case bulletRE.MatchString(t):
			out = append(out, mdBlock{bullet: "•", text: bulletRE.FindStringSubmatch(t)[1]})
			para = false
		case orderedRE.MatchString(t):
			m := orderedRE.FindStringSubmatch(t)
			out = append(out, mdBlock{bullet: m[1] + ".", text: m[2]})
			para = false
		case para:
			out[len(out)-1].text += " " + strings.TrimSpace(t)
		default:
			out = append(out, mdBlock{text: strings.TrimSpace(t)})
			para = true
		}
	}
	return out
}

// runs splits a block's text at bold and italic markers.
func runs(s string) []render.TextRun {
	var out []render.TextRun
	last := 0
	for _, m := range inlineRE.FindAllStringSubmatchIndex(s, -1) {
		if m[0] > last {
			out = append(out, render.TextRun{Text: s[last:m[0]]})
		}
		switch {
		case m[2] >= 0:
			out = append(out, render.TextRun{Text: s[m[2]:m[3]], Bold: true})
		case m[4] >= 0:
			out = append(out, render.TextRun{Text: s[m[4]:m[5]], Bold: true})
		case m[6] >= 0:
			out = append(out, render.TextRun{Text: s[m[6]:m[7]], Italic: true})
		default:
			out = append(out, render.TextRun{Text: s[m[8]:m[9]], Italic: true})
		}
		last = m[1]
	}
	if last < len(s) {
		out = append(out, render.TextRun{Text: s[last:]})
	}
	return out
}

// NotesText is the notes as plain text: the Markdown markers gone.
func NotesText(md string) string {
	var b strings.Builder
	for _, bl := range parseNotes(md) {
		if bl.bullet != "" {
			b.WriteString(bl.bullet + " ")
		}
		for _, r := range runs(bl.text) {
			b.WriteString(r.Text)
		}
		b.WriteString("\n")
		if bl.level > 0 {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// NotesHTML is the notes as a standalone HTML document; every character
// of the notes is escaped, so nothing in them becomes markup.
func NotesHTML(title, lang, md string) string {
	var b strings.Builder
	b.WriteString("<!doctype html>\n<html lang=\"" + html.EscapeString(lang) + "\"><head><meta charset=\"utf-8\"><title>")
	b.WriteString(html.EscapeString(title) + "</title></head>\n<body>\n<h1>" + html.EscapeString(title) + "</h1>\n")
	list := ""
	closeList := func() {
		if list != "" {
			b.WriteString("</" + list + ">\n")
			list = ""
		}
	}
	for _, bl := range parseNotes(md) {
		inline := ""
		for _, r := range runs(bl.text) {
			t := html.EscapeString(r.Text)
			if r.Bold {
				t = "<strong>" + t + "</strong>"
			}
			if r.Italic {
				t = "<em>" + t + "</em>"
			}
			inline += t
		}
		switch {
		case bl.level > 0:
			closeList()
			n := strconv.Itoa(bl.level + 1) // h1 is the title
			b.WriteString("<h" + n + ">" + inline + "</h" + n + ">\n")
		case bl.bullet != "":
			want := "ul"
			if bl.bullet != "•" {
				want = "ol"
			}
			if list != want {
				closeList()
				b.WriteString("<" + want + ">\n")
				list = want
			}
			b.WriteString("<li>" + inline + "</li>\n")
		default:
			closeList()
			b.WriteString("<p>" + inline + "</p>\n")
		}
	}
	closeList()
	b.WriteString("</body></html>\n")
	return b.String()
}

// NotesPDF writes the notes as a PDF.
func NotesPDF(w io.Writer, title, md string) error {
	var blocks []render.TextBlock
	for _, bl := range parseNotes(md) {
		blocks = append(blocks, render.TextBlock{Level: bl.level, Bullet: bl.bullet, Runs: runs(bl.text)})
	}
	return render.TextPDF(w, title, blocks)
}
