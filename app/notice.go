package app

import (
	"net"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"aula/notice"
	"aula/room"
	"aula/web"
)

// The retention periods the notice states when the configuration has no
// setting for them: those REQUIREMENTS.md promises (conference entries
// four weeks after the conference ended, access lines seven days).
const (
	noticeLogRetention       = 28 * 24 * time.Hour
	noticeAccessLogRetention = 7 * 24 * time.Hour
)

// How the dial-in gateway names callers in a room (dialin/privacy.go:
// maskedName and the counter of withheld numbers). The names are the same
// in every language: they are the participant's display name.
const (
	noticeCallerName   = "Phone \u00b7\u00b7\u00b7789"
	noticeWithheldName = "Phone 1"
)

// NoticeFacts describes what cfg makes the server process, for the
// privacy notice (aula privacy notice). Each fact is read from the same
// setting the server acts on, so the notice follows the configuration.
func NoticeFacts(cfg Config) notice.Facts {
	f := notice.Facts{
		Store:        notice.StoreMemory,
		StoreTTL:     cfg.StoreTTL,
		LogFiles:     cfg.LogDir != "",
		DialIn:       cfg.SIPAddr != "", // startDialin's condition
		CookieName:   web.CookieName,
		CookieSecure: strings.HasPrefix(strings.ToLower(cfg.PublicURL), "https://"),
	}
	if cfg.RedisURL != "" {
		f.Store, f.RedisLocal = notice.StoreRedis, redisLocal(cfg.RedisURL)
	}
	if f.LogFiles {
		f.ConferenceLogRetention, f.AccessLogRetention = logRetention(cfg)
	}
	if f.DialIn {
		f.DialNumber = strings.TrimSpace(cfg.DialNumber)
		f.CallerName, f.WithheldName = noticeCallerName, noticeWithheldName
	}
	f.TURN, _, _ = cfg.turnPort() // an invalid value is refused by Validate
	if p, err := cfg.videoPolicy(); err == nil {
		f.Video = noticeVideo(p)
	}
	return f
}

// logRetention is how long the server log keeps a conference's entries
// and access lines: the settings AULA_LOG_RETENTION and
// AULA_ACCESS_LOG_RETENTION, which the purge obeys, or the promised
// periods where a setting does not exist. The settings are found by name
// through each, as Load finds them, because they are being added in
// their own file (config_logs.go) alongside this one.
func logRetention(cfg Config) (conference, access time.Duration) {
	conference, access = noticeLogRetention, noticeAccessLogRetention
	each(&cfg, func(name string, v reflect.Value, _ string) {
		d, ok := v.Interface().(time.Duration)
		if !ok || d <= 0 {
			return
		}
		switch name {
		case "log-retention":
			conference = d
		case "access-log-retention":
			access = d
		}
	})
	return conference, access
}

// noticeVideo lists what a presenter can really share under p: room's
// ParseVideo accepts PeerTube only for a listed host and with the
// provider allowed, so hosts without the provider (or the provider
// without hosts) allow nothing and are not named.
func noticeVideo(p room.VideoPolicy) notice.Video {
	has := func(provider string) bool { return slices.Contains(p.Providers, provider) }
	v := notice.Video{Files: has(room.ProviderFile), YouTube: has(room.ProviderYouTube), Vimeo: has(room.ProviderVimeo)}
	if has(room.ProviderPeerTube) {
		for _, h := range p.PeerTubeHosts {
			if !slices.Contains(v.PeerTube, h) {
				v.PeerTube = append(v.PeerTube, h)
			}
		}
	}
	return v
}

// redisLocal reports whether the Redis URL names this host: a unix socket
// or a loopback address. Anything else may be another machine, which the
// notice then asks the operator to name.
func redisLocal(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	if u.Scheme == "unix" {
		return true
	}
	h := u.Hostname()
	if h == "" {
		// go-redis connects to localhost:6379 when the URL names no host.
		return true
	}
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
