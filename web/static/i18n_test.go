package static

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The translation catalogues (i18n/<lang>.json) and the client's use of
// them: one key set in every language, the same placeholders, stable
// formatting (sorted keys, two-space indent, so concurrent edits merge),
// every key the client uses present, and no visible text set from a
// string literal instead of the catalogue.

var languages = []string{"en", "de"}

func readCatalogue(t *testing.T, lang string) (map[string]string, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("i18n", lang+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("i18n/%s.json is not a flat JSON object of strings: %v", lang, err)
	}
	return m, b
}

// canonical is a catalogue as it must be written: sorted keys, two-space
// indent, UTF-8 as is, a final newline.
func canonical(m map[string]string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(m)
	return buf.Bytes()
}

var placeholderRE = regexp.MustCompile(`\{(\w+)\}`)

func placeholders(s string) []string {
	var out []string
	for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func TestCataloguesMatch(t *testing.T) {
	cats := map[string]map[string]string{}
	for _, lang := range languages {
		m, raw := readCatalogue(t, lang)
		cats[lang] = m
		if !bytes.Equal(raw, canonical(m)) {
			t.Errorf("i18n/%s.json is not in the canonical form (sorted keys, 2-space indent, one key per line, final newline); rewrite it with json.dump(…, ensure_ascii=False, indent=2, sort_keys=True)", lang)
		}
		for k, v := range m {
			if strings.TrimSpace(v) == "" {
				t.Errorf("i18n/%s.json: %q is empty", lang, k)
			}
		}
	}
	base := cats[languages[0]]
	for _, lang := range languages[1:] {
		other := cats[lang]
		for k, v := range base {
			ov, ok := other[k]
			if !ok {
				t.Errorf("key %q is in %s.json but not in %s.json", k, languages[0], lang)
				continue
			}
			if a, b := placeholders(v), placeholders(ov); !slices.Equal(a, b) {
				t.Errorf("key %q: placeholders %v in %s, %v in %s", k, a, languages[0], b, lang)
			}
		}
		for k := range other {
			if _, ok := base[k]; !ok {
				t.Errorf("key %q is in %s.json but not in %s.json", k, lang, languages[0])
			}
		}
	}
}

var (
	tCallRE   = regexp.MustCompile(`\bt\(\s*'([^']+)'`)
	tDynRE    = regexp.MustCompile(`\bt\(\s*[^'\s)]`)
	htmlKeyRE = regexp.MustCompile(`data-i18n(?:-[a-z-]+)?="([^"]+)"`)
)

// clientFiles returns the client's JavaScript files and index.html.
func clientFiles(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := fs.WalkDir(os.DirFS("."), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (p == "testdata" || strings.HasPrefix(p, ".")) && p != "." {
			return fs.SkipDir
		}
		if strings.HasSuffix(p, ".js") || p == "index.html" {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[p] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCatalogueHasEveryKeyUsed: every t('key') of the JavaScript and
// every data-i18n key of index.html is in the catalogues (plural keys as
// key.one/key.other), and t() is only called with a literal key, so the
// check sees them all.
func TestCatalogueHasEveryKeyUsed(t *testing.T) {
	en, _ := readCatalogue(t, "en")
	has := func(k string) bool {
		_, a := en[k]
		_, b := en[k+".other"]
		return a || b
	}
	used := 0
	for name, src := range clientFiles(t) {
		for _, m := range tCallRE.FindAllStringSubmatch(src, -1) {
			used++
			if !has(m[1]) {
				t.Errorf("%s uses key %q, which is not in the catalogues", name, m[1])
			}
		}
		for _, m := range htmlKeyRE.FindAllStringSubmatch(src, -1) {
			used++
			if !has(m[1]) {
				t.Errorf("%s uses key %q, which is not in the catalogues", name, m[1])
			}
		}
		if strings.HasSuffix(name, ".js") {
			for _, loc := range tDynRE.FindAllStringIndex(src, -1) {
				line := strings.Count(src[:loc[0]], "\n") + 1
				after := src[loc[0]+2 : min(len(src), loc[0]+40)]
				// translate() in ui/dom.js reads the keys of index.html's
				// data-i18n attributes, which are checked above.
				if !strings.HasPrefix(after, "el.getAttribute(`data-i18n") && !strings.HasPrefix(after, "el.getAttribute('data-i18n") && name != "js/i18n.js" {
					t.Errorf("%s:%d: t() with a computed key; use literal keys so the catalogue test sees them", name, line)
				}
			}
		}
	}
	if used < 100 {
		t.Fatalf("found only %d uses of catalogue keys: the scan is broken", used)
	}
}

// Visible text set from a string literal: text properties, attribute
// objects of h(), setAttribute of labels, new Option, append of a literal.
var literalSinks = []*regexp.Regexp{
	regexp.MustCompile(`\.(?:textContent|innerText|innerHTML|outerHTML|title|placeholder|alt|ariaLabel)\s*=\s*(?:'((?:\\.|[^'\\])*)'|"((?:\\.|[^"\\])*)"|` + "`((?:\\\\.|[^`\\\\])*)`" + `)`),
	regexp.MustCompile(`setAttribute\(\s*['"](?:aria-label|aria-description|aria-roledescription|aria-placeholder|aria-valuetext|title|placeholder|alt|value)['"]\s*,\s*(?:'((?:\\.|[^'\\])*)'|"((?:\\.|[^"\\])*)"|` + "`((?:\\\\.|[^`\\\\])*)`" + `)`),
	regexp.MustCompile(`(?:\btext|'aria-label'|"aria-label"|\btitle|\bplaceholder|\balt)\s*:\s*(?:'((?:\\.|[^'\\])*)'|"((?:\\.|[^"\\])*)"|` + "`((?:\\\\.|[^`\\\\])*)`" + `)`),
	regexp.MustCompile(`new Option\(\s*(?:'((?:\\.|[^'\\])*)'|"((?:\\.|[^"\\])*)"|` + "`((?:\\\\.|[^`\\\\])*)`" + `)`),
	regexp.MustCompile(`\.(?:append|prepend|replaceChildren|before|after|insertAdjacentText)\(\s*(?:'((?:\\.|[^'\\])*)'|"((?:\\.|[^"\\])*)"|` + "`((?:\\\\.|[^`\\\\])*)`" + `)`),
	regexp.MustCompile(`\b(?:alert|confirm|prompt)\(\s*(?:'((?:\\.|[^'\\])*)'|"((?:\\.|[^"\\])*)"|` + "`((?:\\\\.|[^`\\\\])*)`" + `)`),
}

var (
	lettersRE     = regexp.MustCompile(`\p{L}`)
	templateSubRE = regexp.MustCompile(`\$\{[^}]*\}`)
	commentRE     = regexp.MustCompile(`(?m)^\s*(?://|\*|/\*).*$`)
)

// literalTexts returns the visible-text string literals in JavaScript source.
func literalTexts(src string) []string {
	src = commentRE.ReplaceAllString(src, "")
	var out []string
	for _, re := range literalSinks {
		for _, m := range re.FindAllStringSubmatch(src, -1) {
			lit := m[1] + m[2] + templateSubRE.ReplaceAllString(m[3], "")
			if lettersRE.MatchString(lit) {
				out = append(out, strings.TrimSpace(m[0]))
			}
		}
	}
	return out
}

var (
	htmlDropRE = regexp.MustCompile(`(?s)<(script|style|noscript|title)\b.*?</(script|style|noscript|title)>|<!--.*?-->`)
	htmlTextRE = regexp.MustCompile(`>([^<>]*)<`)
	htmlAttrRE = regexp.MustCompile(`\s(aria-label|aria-description|title|placeholder|alt)="([^"]*)"`)
)

// htmlLiterals returns the visible English (or other) text of a page that
// does not come from the catalogue.
func htmlLiterals(src string) []string {
	src = htmlDropRE.ReplaceAllString(src, "")
	var out []string
	for _, m := range htmlTextRE.FindAllStringSubmatch(src, -1) {
		txt := strings.TrimSpace(m[1])
		if lettersRE.MatchString(txt) && txt != "Aula" { // the product's name
			out = append(out, txt)
		}
	}
	for _, m := range htmlAttrRE.FindAllStringSubmatch(src, -1) {
		if lettersRE.MatchString(m[2]) {
			out = append(out, m[0])
		}
	}
	return out
}

func TestNoVisibleTextOutsideCatalogue(t *testing.T) {
	for name, src := range clientFiles(t) {
		var found []string
		if name == "index.html" {
			found = htmlLiterals(src)
		} else {
			found = literalTexts(src)
		}
		for _, f := range found {
			t.Errorf("%s sets visible text from a literal instead of the catalogue: %s", name, f)
		}
	}
}

// TestLiteralScanFindsLiterals: the scan above is not blind.
func TestLiteralScanFindsLiterals(t *testing.T) {
	bad := []string{
		`el.textContent = 'Raise hand';`,
		`el.textContent = "Raise hand";`,
		"el.textContent = `${n} people`;",
		`b.setAttribute('aria-label', 'Mute');`,
		`h('button', { type: 'button', text: 'Send' })`,
		`h('button', { 'aria-label': 'Close' })`,
		`h('span', { title: 'Joined by phone' })`,
		`input.placeholder = 'Write a message';`,
		`sel.append(new Option('Default camera', ''));`,
		`li.append('speaking');`,
		`document.title = 'Meeting';`,
	}
	for _, s := range bad {
		if len(literalTexts(s)) == 0 {
			t.Errorf("not flagged: %s", s)
		}
	}
	good := []string{
		`el.textContent = t('hand.raise');`,
		`h('button', { type: 'button', class: 'btn small', text: t('chat.send', { name }) })`,
		"el.textContent = `(${list.length})`;",
		`b.setAttribute('aria-label', t('people.mute', { name: p.name }));`,
		`el.textContent = '';`,
		`pill.textContent = String(n);`,
		`h('span', { text: initials(p.name) })`,
		`h('span', { class: 'badge role', 'data-i18n': 'people.moderator' })`,
		`conn.request('chat.send', { text: text })`,
	}
	for _, s := range good {
		if got := literalTexts(s); len(got) != 0 {
			t.Errorf("flagged wrongly: %s (%v)", s, got)
		}
	}
	if got := htmlLiterals(`<button aria-label="Mute">Mute</button><p data-i18n="x"></p><h1 class="brand">Aula</h1><noscript>Needs JS</noscript>`); len(got) != 2 {
		t.Errorf("html scan found %v, want the text and the label of the button", got)
	}
}
