// Package notice writes the part of a privacy notice (Datenschutzerklärung)
// that describes what one Aula configuration processes: which data, why,
// where it stays and for how long, the session cookie, dial-in, external
// video providers, TURN and that nothing is recorded.
//
// It knows nothing of the configuration itself: package app turns a Config
// into Facts (app.NoticeFacts), so the notice is generated from the same
// settings the server runs with and the two cannot drift apart. What only
// the operator can know (who is responsible, the legal bases, the hosting
// provider, the telephone carrier) is left as clearly marked placeholders:
// the generator states facts and gives no legal advice.
package notice

import (
	"bytes"
	"embed"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// StoreKind is where the state of running conferences lives.
type StoreKind string

// Store kinds.
const (
	// StoreMemory is the embedded store: the memory of the one node.
	StoreMemory StoreKind = "memory"
	// StoreRedis is a Redis server shared by the nodes; every key has a
	// TTL and a conference's keys are deleted at its end.
	StoreRedis StoreKind = "redis"
)

// Facts describe what a configuration processes, in plain values.
type Facts struct {
	// Store is where conference state (roster, chat, notes, polls,
	// whiteboard, sessions, PIN mapping) lives while a conference runs.
	Store StoreKind
	// RedisLocal: the Redis server runs on the same host (unix socket or
	// a loopback address). Otherwise the notice asks the operator to name
	// where it runs.
	RedisLocal bool
	// StoreTTL is the TTL of every store key: how long a failed node's
	// conference data can outlive it.
	StoreTTL time.Duration

	// LogFiles: the server log is written to files in a log directory,
	// where Aula deletes it after the retention periods below; they are
	// the only place personal data is logged. Without them the log goes
	// to the process's standard error only (the system's logging), which
	// never carries personal data (package logs leaves it out), so the
	// notice says that no personal data is logged.
	LogFiles bool
	// ConferenceLogRetention: log entries of a conference (including the
	// full number of callers) are deleted this long after it ended.
	ConferenceLogRetention time.Duration
	// AccessLogRetention: web access lines outside a conference, with a
	// truncated IP address, are deleted this long after they were written.
	AccessLogRetention time.Duration

	// DialIn: the SIP gateway takes phone calls into rooms.
	DialIn bool
	// DialNumber is the number callers dial, shown inside rooms; "" when
	// the operator set none.
	DialNumber string
	// CallerName is how a caller with a transmitted number appears in the
	// room, e.g. "Phone ···789" (the last three digits).
	CallerName string
	// WithheldName is how a caller with a withheld number appears, e.g.
	// "Phone 1".
	WithheldName string

	// Video are the external video sources a presenter may share.
	Video Video

	// TURN: the built-in TURN server relays media for browsers whose
	// network blocks direct connections.
	TURN bool

	// CookieName is the name of the one session cookie.
	CookieName string
	// CookieSecure: the cookie carries the Secure attribute (the public
	// URL is https).
	CookieSecure bool
}

// Video are the external video sources allowed.
type Video struct {
	// Files: MP4 and WebM files from any web server.
	Files bool
	// YouTube: played from youtube-nocookie.com.
	YouTube bool
	// Vimeo: played with dnt=1.
	Vimeo bool
	// PeerTube are the PeerTube instances allowed (host names).
	PeerTube []string
}

// Any reports whether any external video source is allowed.
func (v Video) Any() bool { return v.Files || v.YouTube || v.Vimeo || len(v.PeerTube) > 0 }

// validate refuses facts that would make the notice say something false
// or meaningless.
func (f Facts) validate() error {
	bad := func(field, why string) error { return fmt.Errorf("%w: %s %s", ErrInvalidFacts, field, why) }
	switch f.Store {
	case StoreMemory, StoreRedis:
	default:
		return bad("Store", fmt.Sprintf("is %q, not memory or redis", f.Store))
	}
	if f.StoreTTL <= 0 {
		return bad("StoreTTL", "must be positive")
	}
	if f.LogFiles && (f.ConferenceLogRetention <= 0 || f.AccessLogRetention <= 0) {
		return bad("ConferenceLogRetention/AccessLogRetention", "must be positive when logs are written to files")
	}
	if f.DialIn && (f.CallerName == "" || f.WithheldName == "") {
		return bad("CallerName/WithheldName", "must be set when dial-in is on")
	}
	if f.CookieName == "" {
		return bad("CookieName", "must be set")
	}
	return nil
}

//go:embed de.md.tmpl en.md.tmpl
var templates embed.FS

// units name durations per language: singular and plural of day, hour,
// minute, second.
var units = map[string][4][2]string{
	"de": {{"Tag", "Tage"}, {"Stunde", "Stunden"}, {"Minute", "Minuten"}, {"Sekunde", "Sekunden"}},
	"en": {{"day", "days"}, {"hour", "hours"}, {"minute", "minutes"}, {"second", "seconds"}},
}

// Languages are the languages Write knows.
func Languages() []string { return []string{"de", "en"} }

// Write renders the notice for f in lang ("de" or "en") as Markdown.
// Nothing is written when the facts are invalid or the language unknown.
func Write(w io.Writer, f Facts, lang string) error {
	u, ok := units[lang]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownLanguage, lang)
	}
	if err := f.validate(); err != nil {
		return err
	}
	t, err := template.New(lang+".md.tmpl").Funcs(template.FuncMap{
		"dur":  func(d time.Duration) string { return duration(d, u) },
		"code": code,
	}).ParseFS(templates, lang+".md.tmpl")
	if err != nil {
		return fmt.Errorf("notice: template %s: %w", lang, err)
	}
	// Rendered into a buffer first, so a template error leaves no half
	// notice on w.
	var b bytes.Buffer
	if err := t.Execute(&b, f); err != nil {
		return fmt.Errorf("notice: render %s: %w", lang, err)
	}
	if _, err := w.Write(tidy(b.Bytes())); err != nil {
		return fmt.Errorf("notice: write: %w", err)
	}
	return nil
}

// duration names d in the largest unit that divides it exactly, so that
// "28 days" is never rounded from 27.5.
func duration(d time.Duration, u [4][2]string) string {
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute, time.Second} {
		if d >= unit && d%unit == 0 {
			n := int64(d / unit)
			name := u[i][1]
			if n == 1 {
				name = u[i][0]
			}
			return strconv.FormatInt(n, 10) + " " + name
		}
	}
	return d.String()
}

// code sets s as a Markdown code span; host names and numbers from the
// configuration are shown verbatim, never read as Markdown.
func code(s string) string {
	if strings.Contains(s, "`") {
		return "`` " + s + " ``"
	}
	return "`" + s + "`"
}

// tidy collapses the blank lines the template's conditionals leave behind
// into one and ends the text with one newline.
func tidy(b []byte) []byte {
	lines := strings.Split(string(b), "\n")
	out := make([]string, 0, len(lines))
	blank := true // drop leading blank lines
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			if blank {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		out = append(out, l)
	}
	return []byte(strings.TrimRight(strings.Join(out, "\n"), "\n") + "\n")
}
