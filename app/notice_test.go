package app

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"aula/notice"
	"aula/web"
)

func loadNoticeConfig(t *testing.T, args ...string) Config {
	t.Helper()
	cfg, err := Load(args, func(string) string { return "" })
	if err != nil {
		t.Fatalf("Load(%q): %v", args, err)
	}
	return cfg
}

// TestNoticeFactsFromConfig: two configurations as an operator writes
// them (flags, as in aula privacy notice), with and without dial-in,
// external video, TURN, Redis and a log directory.
func TestNoticeFactsFromConfig(t *testing.T) {
	a := loadNoticeConfig(t,
		"-public-url", "https://aula.example.org",
		"-redis-url", "redis://redis.internal:6379/0",
		"-store-ttl", "15m",
		"-log-dir", t.TempDir(),
		"-sip-addr", "127.0.0.1:5060", "-dial-number", " +49 30 1234567 ",
		"-video-providers", "youtube,peertube", "-video-peertube", "tube.example.org,Video.Example.NET",
		"-turn", "3479",
	)
	want := notice.Facts{
		Store: notice.StoreRedis, StoreTTL: 15 * time.Minute,
		LogFiles: true, ConferenceLogRetention: 28 * 24 * time.Hour, AccessLogRetention: 7 * 24 * time.Hour,
		DialIn: true, DialNumber: "+49 30 1234567", CallerName: "Phone ···789", WithheldName: "Phone 1",
		Video: notice.Video{YouTube: true, PeerTube: []string{"tube.example.org", "video.example.net"}},
		TURN:  true, CookieName: web.CookieName, CookieSecure: true,
	}
	if got := NoticeFacts(a); !reflect.DeepEqual(got, want) {
		t.Errorf("A:\n got %+v\nwant %+v", got, want)
	}

	b := loadNoticeConfig(t, "-video-providers", "", "-turn", "off")
	want = notice.Facts{Store: notice.StoreMemory, StoreTTL: 10 * time.Minute, CookieName: web.CookieName}
	if got := NoticeFacts(b); !reflect.DeepEqual(got, want) {
		t.Errorf("B:\n got %+v\nwant %+v", got, want)
	}

	// The defaults allow video files, YouTube and Vimeo: the notice of
	// an unconfigured server must name them.
	if got := NoticeFacts(Defaults()).Video; !reflect.DeepEqual(got, notice.Video{Files: true, YouTube: true, Vimeo: true}) {
		t.Errorf("defaults: video %+v", got)
	}
}

// TestNoticeRetentionFromSettings: the periods in the notice are the
// ones the purge uses (AULA_LOG_RETENTION, AULA_ACCESS_LOG_RETENTION).
func TestNoticeRetentionFromSettings(t *testing.T) {
	cfg, err := Load([]string{"-log-dir", t.TempDir(), "-log-retention", "840h", "-access-log-retention", "72h"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	f := NoticeFacts(cfg)
	if f.ConferenceLogRetention != 35*24*time.Hour || f.AccessLogRetention != 3*24*time.Hour {
		t.Errorf("retention %v / %v, want 840h / 72h", f.ConferenceLogRetention, f.AccessLogRetention)
	}
}

// TestNoticeVideoOnlyWhatCanPlay: PeerTube hosts count only with the
// provider allowed, and the provider only with hosts (room.ParseVideo
// refuses anything else), so the notice never names a source that
// cannot be shared.
func TestNoticeVideoOnlyWhatCanPlay(t *testing.T) {
	for _, c := range []struct {
		providers, hosts string
		want             []string
	}{
		{"file", "tube.example.org", nil},
		{"peertube", "", nil},
		{"peertube", "tube.example.org, tube.example.org", []string{"tube.example.org"}},
	} {
		cfg := loadNoticeConfig(t, "-video-providers", c.providers, "-video-peertube", c.hosts)
		if got := NoticeFacts(cfg).Video.PeerTube; !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q/%q: PeerTube %q, want %q", c.providers, c.hosts, got, c.want)
		}
	}
}

func TestNoticeRedisLocal(t *testing.T) {
	for url, want := range map[string]bool{
		"unix:///run/redis/redis.sock":   true,
		"redis://localhost:6379/0":       true,
		"redis://127.0.0.1:6379":         true,
		"redis://[::1]:6379":             true,
		"redis://:secret@/0":             true, // go-redis: localhost
		"rediss://redis.example.org:1":   false,
		"redis://10.0.0.5:6379/0":        false,
		"redis://localhost.evil.org/0":   false,
		"redis://user:pw@192.0.2.1:6379": false,
	} {
		if got := redisLocal(url); got != want {
			t.Errorf("redisLocal(%q) = %v, want %v", url, got, want)
		}
	}
}

// TestNoticeFromConfigRenders: the facts of a real configuration make a
// notice in both languages stating the configured number and hosts and
// the default retention periods.
func TestNoticeFromConfigRenders(t *testing.T) {
	cfg := loadNoticeConfig(t, "-log-dir", t.TempDir(), "-sip-addr", "127.0.0.1:5060", "-dial-number", "+49 30 1234567",
		"-video-providers", "peertube", "-video-peertube", "tube.example.org", "-redis-url", "unix:///run/redis.sock")
	for lang, want := range map[string][]string{
		"de": {"`+49 30 1234567`", "„Phone ···789“", "`tube.example.org`", "28 Tage nach dem Ende der Konferenz", "7 Tage nach dem Zugriff", "Redis-Datenbank auf\n  demselben Server", "`" + web.CookieName + "`"},
		"en": {"`+49 30 1234567`", `"Phone ···789"`, "`tube.example.org`", "28 days after the conference ended", "7 days after the request", "Redis database on the same\n  server", "`" + web.CookieName + "`"},
	} {
		var b bytes.Buffer
		if err := notice.Write(&b, NoticeFacts(cfg), lang); err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		for _, w := range want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: missing %q in\n%s", lang, w, b.String())
			}
		}
	}
}

// TestNoticeWithoutLogDir: without AULA_LOG_DIR the server logs no
// personal data (package logs filters stderr), and the notice of that
// configuration says so in both languages, the caller's number included.
func TestNoticeWithoutLogDir(t *testing.T) {
	cfg := loadNoticeConfig(t, "-sip-addr", "127.0.0.1:5060", "-dial-number", "+49 30 1234567")
	if f := NoticeFacts(cfg); f.LogFiles || f.ConferenceLogRetention != 0 || f.AccessLogRetention != 0 {
		t.Fatalf("facts without a log directory: %+v", f)
	}
	for lang, c := range map[string]struct{ want, not []string }{
		"de": {
			want: []string{"**Ihre vollständige Rufnummer** wird überhaupt nicht protokolliert.",
				"protokolliert der\n  Server keine personenbezogenen Daten: keine IP-Adresse",
				"keine Angaben zu Browser und Betriebssystem, keine\n  Rufnummer.", "nur Betriebsmeldungen\n  ohne personenbezogene Daten"},
			not: []string{"wird nur in das Serverprotokoll", "28 Tage", "7 Tage", "gekürzter IP-Adresse"},
		},
		"en": {
			want: []string{"**Your full phone number** is not logged at all.",
				"the server logs no\n  personal data: no IP address", "browser or operating system, no phone number.",
				"only operational messages without personal data"},
			not: []string{"is written only to the server log", "28 days", "7 days", "/24"},
		},
	} {
		var b bytes.Buffer
		if err := notice.Write(&b, NoticeFacts(cfg), lang); err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		for _, w := range c.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: missing %q in\n%s", lang, w, b.String())
			}
		}
		for _, w := range c.not {
			if strings.Contains(b.String(), w) {
				t.Errorf("%s: has %q without a log directory", lang, w)
			}
		}
	}
}
