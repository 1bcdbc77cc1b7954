package notice

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

const day = 24 * time.Hour

// factsA is a full installation: dial-in with a number, YouTube and two
// PeerTube hosts, TURN, a Redis on another host, log files with
// retention periods that are not the defaults (so the numbers in the
// notice can only have come from the facts).
func factsA() Facts {
	return Facts{
		Store: StoreRedis, StoreTTL: 15 * time.Minute,
		LogFiles: true, ConferenceLogRetention: 35 * day, AccessLogRetention: 3 * day,
		DialIn: true, DialNumber: "+49 30 1234567", CallerName: "Phone ···789", WithheldName: "Phone 1",
		Video: Video{YouTube: true, PeerTube: []string{"tube.example.org", "video.example.net"}},
		TURN:  true, CookieName: "aula_session", CookieSecure: true,
	}
}

// factsB is the smallest: no dial-in, no external video, no TURN, the
// memory store, no log directory, plain http.
func factsB() Facts {
	return Facts{Store: StoreMemory, StoreTTL: 10 * time.Minute, CookieName: "aula_session"}
}

func render(t *testing.T, f Facts, lang string) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, f, lang); err != nil {
		t.Fatalf("Write(%s): %v", lang, err)
	}
	return b.String()
}

// TestNoticePromises checks, for both configurations in both languages,
// each promise a reader of the notice would look for: present when the
// configuration does it, absent when it does not.
func TestNoticePromises(t *testing.T) {
	type want struct {
		text string
		in   bool
	}
	cases := []struct {
		name  string
		facts Facts
		lang  string
		want  []want
	}{
		{"A", factsA(), "de", []want{
			{"### Telefoneinwahl", true},
			{"(Rufnummer `+49 30 1234567`)", true},
			{"letzten drei Ziffern", true},
			{"„Phone ···789“", true},
			{"„Phone 1“", true},
			{"vollständige Rufnummer** wird nur in das Serverprotokoll", true},
			{"nicht protokolliert. Sie\n  erreicht", false},
			{"den Dienst zu betreiben und Fehler zu finden", true},
			{"personenbezogenen Daten", false},
			{"gelöscht, 35 Tage nach deren Ende", true},
			{"Telefonie-Anbieter", true},
			{"### Externe Videos", true},
			{"`youtube-nocookie.com`", true},
			{"PeerTube-Instanzen: `tube.example.org`, `video.example.net`", true},
			{"Vimeo", false},
			{"Videodateien", false},
			{"erhält dabei Ihre IP-Adresse", true},
			{"Erst wenn die präsentierende Person ein Video teilt", true},
			{"### Keine Inhalte Dritter", false},
			{"TURN-Server, der zu unserem\nDienst gehört", true},
			{"keine STUN- oder TURN-Server Dritter", true},
			{"Redis-Datenbank auf\n  einem weiteren Server", true},
			{"spätestens nach 15 Minuten", true},
			{"35 Tage nach dem Ende der Konferenz gelöscht", true},
			{"3 Tage nach dem Zugriff gelöscht", true},
			{"/24", true},
			{"/48", true},
			{"28 Tage", false},
			{"7 Tage", false},
			{"`aula_session`", true},
			{"kein Ablaufdatum", true},
			{"(`Secure`)", true},
			{"nicht aufgezeichnet", true},
			{"als Datei auf Ihrem Gerät speichern", true},
			{"Art. 6 Abs. 1 lit. e DSGVO", true},
			{"- Telefoneinwahl: **[Vom Betreiber zu ergänzen: Rechtsgrundlage]**", true},
		}},
		{"A", factsA(), "en", []want{
			{"### Phone dial-in", true},
			{"(number `+49 30 1234567`)", true},
			{"last three digits", true},
			{`"Phone ···789"`, true},
			{`"Phone 1"`, true},
			{"full phone number** is written only to the server log", true},
			{"not logged at all", false},
			{"run the service and find faults", true},
			{"personal data", false},
			{"log entries, 35 days after the conference ended", true},
			{"telephony provider", true},
			{"### External videos", true},
			{"`youtube-nocookie.com`", true},
			{"PeerTube instances: `tube.example.org`, `video.example.net`", true},
			{"Vimeo", false},
			{"video files", false},
			{"receives your IP address", true},
			{"Only when the presenter shares a video", true},
			{"### No third-party content", false},
			{"the TURN server that is part of\nour service", true},
			{"no STUN or TURN servers of third parties", true},
			{"Redis database on a further\n  server", true},
			{"after 15 minutes at the latest", true},
			{"35 days after the conference ended", true},
			{"3 days after the request", true},
			{"28 days", false},
			{"7 days", false},
			{"`aula_session`", true},
			{"no expiry date", true},
			{"(`Secure`)", true},
			{"not recorded", true},
			{"save the public chat as a file on your own device", true},
			{"Art. 6(1)(e) GDPR", true},
			{"- Phone dial-in: **[Operator to complete: legal basis]**", true},
		}},
		{"B", factsB(), "de", []want{
			{"Telefon", false},
			{"Rufnummer", false},
			{"letzten drei Ziffern", false},
			{"### Externe Videos", false},
			{"### Keine Inhalte Dritter", true},
			{"Es werden\nkeine Inhalte Dritter geladen.", true},
			{"youtube", false},
			{"PeerTube", false},
			{"Video-Anbieter", false},
			{"TURN-Server, der", false},
			{"keine STUN- oder TURN-Server Dritter", true},
			{"liegen nur im Arbeitsspeicher unseres Servers", true},
			{"Redis", false},
			{"Tage", false},
			// Without log files nothing personal is logged, and the
			// notice says so instead of sending readers to a system log.
			{"Ohne eigene Protokolldateien protokolliert der\n  Server keine personenbezogenen Daten", true},
			{"keine IP-Adresse (auch keine\n  gekürzte), keine Angaben zu Browser und Betriebssystem.", true},
			{"nur Betriebsmeldungen\n  ohne personenbezogene Daten", true},
			{"Ihre IP-Adresse und\n  die Angaben zu Browser und Betriebssystem protokollieren wir nicht", true},
			{"Fehler zu finden", false},
			{"gekürzter IP-Adresse", false},
			{"/24", false},
			{"Systemprotokolle]", false},
			{"`aula_session`", true},
			{"kein Ablaufdatum", true},
			{"Secure", false},
			{"nicht aufgezeichnet", true},
			{"als Datei auf Ihrem Gerät speichern", true},
		}},
		{"B", factsB(), "en", []want{
			{"phone number", false},
			{"dial", false},
			{"last three digits", false},
			{"### External videos", false},
			{"### No third-party content", true},
			{"No third-party content\nis loaded.", true},
			{"youtube", false},
			{"PeerTube", false},
			{"video providers", false},
			{"the TURN server that", false},
			{"no STUN or TURN servers of third parties", true},
			{"is kept in the memory of our server only", true},
			{"Redis", false},
			{"days", false},
			{"without log files of its own, the server logs no\n  personal data", true},
			{"no IP address (not even a shortened one), no details of\n  browser or operating system.", true},
			{"only operational messages without personal data", true},
			{"we do not log your IP address or the\n  details of your browser and operating system", true},
			{"find faults", false},
			{"/24", false},
			{"system logs are kept", false},
			{"`aula_session`", true},
			{"no expiry date", true},
			{"Secure", false},
			{"not recorded", true},
			{"save the public chat as a file on your own device", true},
		}},
	}
	for _, c := range cases {
		t.Run(c.name+"/"+c.lang, func(t *testing.T) {
			out := render(t, c.facts, c.lang)
			for _, w := range c.want {
				if got := strings.Contains(out, w.text); got != w.in {
					t.Errorf("contains %q = %v, want %v", w.text, got, w.in)
				}
			}
			if t.Failed() {
				t.Logf("notice:\n%s", out)
			}
		})
	}
}

// TestNoticeRetentionFromFacts: the periods are the facts', in the unit
// that states them exactly, singular where it is one.
func TestNoticeRetentionFromFacts(t *testing.T) {
	f := factsA()
	f.ConferenceLogRetention, f.AccessLogRetention, f.StoreTTL = 1*day, 36*time.Hour, 90*time.Second
	for lang, want := range map[string][]string{
		"de": {"1 Tag nach dem Ende der Konferenz gelöscht", "36 Stunden nach dem Zugriff gelöscht", "spätestens nach 90 Sekunden", "gelöscht, 1 Tag nach deren Ende"},
		"en": {"1 day after the conference ended", "36 hours after the request", "after 90 seconds at the latest"},
	} {
		out := render(t, f, lang)
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: missing %q in\n%s", lang, w, out)
			}
		}
	}
}

// TestNoticeVideoAndNumberVariants covers what A and B leave out: files
// and Vimeo, a PeerTube-only policy, and dial-in without a number.
func TestNoticeVideoAndNumberVariants(t *testing.T) {
	f := factsB()
	f.Video = Video{Files: true, Vimeo: true}
	f.DialIn, f.CallerName, f.WithheldName = true, "Phone ···789", "Phone 1"
	de, en := render(t, f, "de"), render(t, f, "en")
	// Without log files (factsB) the caller's number is not logged at all.
	for _, w := range []string{"Videodateien (MP4, WebM)", "Vimeo, mit der Einstellung „Do Not Track“ (`dnt=1`)", "(Rufnummer: **[Vom Betreiber zu ergänzen: Einwahlnummer]**)",
		"**Ihre vollständige Rufnummer** wird überhaupt nicht protokolliert.", "Betriebssystem, keine\n  Rufnummer."} {
		if !strings.Contains(de, w) {
			t.Errorf("de: missing %q", w)
		}
	}
	for _, w := range []string{"video files (MP4, WebM)", `Vimeo, with the "Do Not Track" setting (` + "`dnt=1`)", "(number: **[Operator to complete: dial-in number]**)",
		"**Your full phone number** is not logged at all.", "browser or operating system, no phone number."} {
		if !strings.Contains(en, w) {
			t.Errorf("en: missing %q", w)
		}
	}
	for _, w := range []string{"Serverprotokoll\n  geschrieben", "Protokolleinträgen", "Serverprotokoll gelöscht"} {
		if strings.Contains(de, w) {
			t.Errorf("de: has %q without log files", w)
		}
	}
	for _, w := range []string{"written only to the server log", "log entries", "deleted with the server log"} {
		if strings.Contains(en, w) {
			t.Errorf("en: has %q without log files", w)
		}
	}
	if strings.Contains(de, "youtube") || strings.Contains(en, "youtube") {
		t.Error("YouTube named although not allowed")
	}
}

// TestNoticeLanguagesDoNotMix: no line of template text is the same in
// both languages, the headings differ and match in number, and neither
// text carries common words of the other language.
func TestNoticeLanguagesDoNotMix(t *testing.T) {
	en2de := regexp.MustCompile(`\b(the|and|of|is|are|you|your|with|not|when|only|this|we)\b`)
	de2en := regexp.MustCompile(`\b(und|der|das|nicht|wird|werden|Sie|Ihre|Ihr|mit|für|auf|nur|oder|wir)\b`)
	// Code spans and quoted display names are data, not language.
	data := regexp.MustCompile("`[^`]*`|„[^“]*“|\"[^\"]*\"")
	for _, f := range []Facts{factsA(), factsB()} {
		de, en := render(t, f, "de"), render(t, f, "en")
		enLines := map[string]bool{}
		for _, l := range strings.Split(en, "\n") {
			enLines[strings.TrimSpace(l)] = true
		}
		for _, l := range strings.Split(de, "\n") {
			if l = strings.TrimSpace(l); l != "" && enLines[l] {
				t.Errorf("line in both languages: %q", l)
			}
		}
		dh, eh := headings(de), headings(en)
		if len(dh) != len(eh) {
			t.Errorf("headings: de %q, en %q", dh, eh)
		}
		for _, h := range dh {
			if strings.Contains(en, h+"\n") {
				t.Errorf("German heading %q in the English text", h)
			}
		}
		if m := en2de.FindAllString(data.ReplaceAllString(de, ""), -1); len(m) > 0 {
			t.Errorf("English words in the German text: %q", m)
		}
		if m := de2en.FindAllString(data.ReplaceAllString(en, ""), -1); len(m) > 0 {
			t.Errorf("German words in the English text: %q", m)
		}
	}
}

func headings(s string) []string {
	var hs []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "#") {
			hs = append(hs, l)
		}
	}
	return hs
}

// TestNoticeOperatorPartsMarked: every part the operator must fill in is
// a bold bracket starting with the one marker of its language (so it can
// be found and cannot be mistaken for a fact), and nothing else is in
// brackets.
func TestNoticeOperatorPartsMarked(t *testing.T) {
	// The marker is never broken across lines, so a search finds it.
	marker := map[string]string{"de": "Vom Betreiber zu ergänzen:", "en": "Operator to complete:"}
	bracket := regexp.MustCompile(`\*\*\[([^\]]*)\]\*\*`)
	for _, f := range []Facts{factsA(), factsB()} {
		for lang, m := range marker {
			out := render(t, f, lang)
			parts := bracket.FindAllStringSubmatch(out, -1)
			if len(parts) < 4 {
				t.Errorf("%s: %d operator parts, want at least controller, hosting, platform, legal bases", lang, len(parts))
			}
			for _, p := range parts {
				if !strings.HasPrefix(p[1], m) {
					t.Errorf("%s: operator part without marker: %q", lang, p[0])
				}
			}
			if n := strings.Count(out, "["); n != len(parts) {
				t.Errorf("%s: %d brackets, %d marked operator parts", lang, n, len(parts))
			}
		}
	}
}

// TestNoticeMarkdown: one level-2 heading first, no template residue, no
// runs of blank lines, one final newline.
func TestNoticeMarkdown(t *testing.T) {
	for _, f := range []Facts{factsA(), factsB()} {
		for _, lang := range Languages() {
			out := render(t, f, lang)
			if !strings.HasPrefix(out, "## ") || strings.Count(out, "\n## ") != 0 {
				t.Errorf("%s: want exactly one leading level-2 heading", lang)
			}
			for _, bad := range []string{"{{", "}}", "<no value>", "\n\n\n", " \n"} {
				if strings.Contains(out, bad) {
					t.Errorf("%s: contains %q", lang, bad)
				}
			}
			if !strings.HasSuffix(out, ".\n") && !strings.HasSuffix(out, "**\n") {
				t.Errorf("%s: ends with %q", lang, out[len(out)-10:])
			}
		}
	}
}

func TestNoticeUnknownLanguage(t *testing.T) {
	for _, lang := range []string{"", "fr", "DE", "de-DE"} {
		var b bytes.Buffer
		err := Write(&b, factsA(), lang)
		if !errors.Is(err, ErrUnknownLanguage) {
			t.Errorf("%q: err = %v, want ErrUnknownLanguage", lang, err)
		}
		if b.Len() != 0 {
			t.Errorf("%q: wrote %d bytes", lang, b.Len())
		}
	}
}

func TestNoticeInvalidFacts(t *testing.T) {
	for name, mod := range map[string]func(*Facts){
		"no store":                   func(f *Facts) { f.Store = "" },
		"no TTL":                     func(f *Facts) { f.StoreTTL = 0 },
		"log files without periods":  func(f *Facts) { f.ConferenceLogRetention = 0 },
		"access log without period":  func(f *Facts) { f.AccessLogRetention = -day },
		"dial-in without names":      func(f *Facts) { f.CallerName = "" },
		"no cookie":                  func(f *Facts) { f.CookieName = "" },
		"dial-in without withheld":   func(f *Facts) { f.WithheldName = "" },
		"redis kind spelled wrongly": func(f *Facts) { f.Store = "Redis" },
	} {
		f := factsA()
		mod(&f)
		var b bytes.Buffer
		if err := Write(&b, f, "de"); !errors.Is(err, ErrInvalidFacts) {
			t.Errorf("%s: err = %v, want ErrInvalidFacts", name, err)
		}
		if b.Len() != 0 {
			t.Errorf("%s: wrote %d bytes", name, b.Len())
		}
	}
}

func TestNoticeCodeSpan(t *testing.T) {
	if got := code("a`b"); got != "`` a`b ``" {
		t.Errorf("code = %q", got)
	}
}
