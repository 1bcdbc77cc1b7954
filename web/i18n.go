package web

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"aula/room"
)

// The server's own pages (errors, "please join again", an used link) speak
// the language of the client: the catalogues are the client's, embedded in
// the binary (web/static/i18n/<lang>.json), so one set of files holds every
// visible string. The locale is BBB's join parameter
// userdata-bbb_override_default_locale when the page belongs to a session,
// else the browser's Accept-Language, else English.

// defaultLocale is used when nothing else fits.
const defaultLocale = "en"

// catalogues maps a language to its strings.
type catalogues map[string]map[string]string

// loadCatalogues reads i18n/*.json from the client's files. A missing
// directory leaves only the built-in English fallbacks of the pages.
func loadCatalogues(static fs.FS) (catalogues, error) {
	out := catalogues{}
	if static == nil {
		return out, nil
	}
	names, err := fs.Glob(static, "i18n/*.json")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		b, err := fs.ReadFile(static, n)
		if err != nil {
			return nil, err
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("web: catalogue %s: %w", n, err)
		}
		out[strings.TrimSuffix(strings.TrimPrefix(n, "i18n/"), ".json")] = m
	}
	return out, nil
}

// text returns key in lang, falling back to English, then to the key.
func (c catalogues) text(lang, key string) string {
	if s, ok := c[lang][key]; ok {
		return s
	}
	if s, ok := c[defaultLocale][key]; ok {
		return s
	}
	return key
}

// supported reports whether a catalogue exists for lang.
func (c catalogues) supported(lang string) bool {
	_, ok := c[lang]
	return ok
}

// baseLang turns "de_DE", "de-AT" or "DE" into "de".
func baseLang(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	return tag
}

// locale decides the language of a response: the session's platform
// locale, then Accept-Language by quality, then English.
func (s *server) locale(r *http.Request, sess *room.Session) string {
	if sess != nil {
		if l := baseLang(sess.Identity.CustomData["bbb_override_default_locale"]); s.i18n.supported(l) {
			return l
		}
	}
	type pref struct {
		lang string
		q    float64
		i    int
	}
	var prefs []pref
	for i, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, params, _ := strings.Cut(part, ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if l := baseLang(tag); l != "" && q > 0 {
			prefs = append(prefs, pref{l, q, i})
		}
		if i > 32 {
			break // a header this long is not a browser's
		}
	}
	sort.SliceStable(prefs, func(a, b int) bool { return prefs[a].q > prefs[b].q })
	for _, p := range prefs {
		if s.i18n.supported(p.lang) {
			return p.lang
		}
	}
	return defaultLocale
}
